"""Cost of a physical circuit on a device: pure functions of (circuit, device, measured qubits).

Every function here reads only the circuit, the :class:`~qaa_hw.devices.model.DeviceModel`
and the list of measured physical qubits, so any metric can be recomputed later (for a
rescaled device, say) without recompiling.

* Operations counted: every instruction of the circuit except ``barrier`` and ``delay``;
  measurements already in the circuit count like gates. ``measured`` lists the physical
  qubits read out at the end (their readout is appended; do not list qubits that the
  circuit itself measures).
* Readout error of qubit ``q``: the device's ``measure`` entry on ``(q,)`` if present, else
  the qubit's mean assignment error (the same rule as :func:`qaa_hw.devices.qiskit_convert.
  to_target`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from qiskit.circuit import QuantumCircuit

from qaa_hw.compile.compiled import CompileMetrics
from qaa_hw.devices.model import MEASURE, DeviceModel
from qaa_hw.errors import CompilationError, DeviceError

_IGNORED = frozenset({"barrier", "delay"})


def readout_error(device: DeviceModel, qubit: int) -> float:
    """Readout error of physical ``qubit`` (``measure`` entry, else mean assignment error)."""
    entry = device.instructions.get(MEASURE, {}).get((qubit,))
    return entry.error if entry is not None else device.qubits[qubit].readout_error


def readout_duration(device: DeviceModel, qubit: int) -> float:
    """Readout duration of physical ``qubit`` in seconds (0 if the device has none)."""
    entry = device.instructions.get(MEASURE, {}).get((qubit,))
    return entry.duration_s if entry is not None else 0.0


def _operations(circuit: QuantumCircuit) -> Iterable[tuple[str, tuple[int, ...]]]:
    for inst in circuit.data:
        name = inst.operation.name
        if name in _IGNORED:
            continue
        yield name, tuple(circuit.find_bit(q).index for q in inst.qubits)


def _lookup(device: DeviceModel, name: str, qargs: tuple[int, ...]) -> tuple[float, float]:
    """(error, duration) of one operation; raises CompilationError if not native."""
    if name == MEASURE:
        return readout_error(device, qargs[0]), readout_duration(device, qargs[0])
    try:
        props = device.instruction(name, qargs)
    except DeviceError as e:
        raise CompilationError(
            f"operation {name} on physical qubits {qargs} is not native on device "
            f"{device.name!r}"
        ) from e
    return props.error, props.duration_s


def esp(circuit: QuantumCircuit, device: DeviceModel, measured: Sequence[int]) -> float:
    """Estimated success probability ``Π (1 - error)`` over every operation and readout."""
    log_p = 0.0
    for name, qargs in _operations(circuit):
        error = _lookup(device, name, qargs)[0]
        if error >= 1.0:
            return 0.0
        log_p += math.log1p(-error)
    for q in measured:
        error = readout_error(device, int(q))
        if error >= 1.0:
            return 0.0
        log_p += math.log1p(-error)
    return math.exp(log_p)


def scheduled_duration(
    circuit: QuantumCircuit, device: DeviceModel, measured: Sequence[int]
) -> float:
    """ASAP schedule length in seconds with device durations, final readout included."""
    ready: dict[int, float] = {}
    for name, qargs in _operations(circuit):
        start = max((ready.get(q, 0.0) for q in qargs), default=0.0)
        end = start + _lookup(device, name, qargs)[1]
        for q in qargs:
            ready[q] = end
    for q in measured:
        ready[int(q)] = ready.get(int(q), 0.0) + readout_duration(device, int(q))
    return max(ready.values(), default=0.0)


def active_qubits(circuit: QuantumCircuit, measured: Sequence[int]) -> tuple[int, ...]:
    """Sorted physical qubits touched by an operation or measured."""
    used = {q for _, qargs in _operations(circuit) for q in qargs}
    return tuple(sorted(used | {int(q) for q in measured}))


def compute_metrics(
    circuit: QuantumCircuit,
    device: DeviceModel,
    measured: Sequence[int],
    *,
    swaps: int = 0,
) -> CompileMetrics:
    """All :class:`~qaa_hw.compile.compiled.CompileMetrics` of a physical circuit.

    Args:
        circuit: physical circuit on the device's wires (measurements optional).
        device: the device whose calibration prices the operations.
        measured: physical qubits read out at the end (not measured by ``circuit``).
        swaps: SWAPs inserted by routing (not derivable from the translated circuit).

    Returns:
        The metrics record.
    """
    one_q = two_q = 0
    for name, qargs in _operations(circuit):
        if name == MEASURE:
            continue
        if len(qargs) == 2:
            two_q += 1
        elif len(qargs) == 1:
            one_q += 1
    duration = scheduled_duration(circuit, device, measured)
    active = active_qubits(circuit, measured)
    min_t1 = min((device.qubits[q].t1_s for q in active), default=math.inf)
    min_t2 = min((device.qubits[q].t2_s for q in active), default=math.inf)
    gates_only = circuit.copy_empty_like()
    for inst in circuit.data:
        if inst.operation.name not in _IGNORED and inst.operation.name != MEASURE:
            gates_only.append(inst)
    return CompileMetrics(
        depth=gates_only.depth(),
        two_qubit_depth=gates_only.depth(lambda inst: inst.operation.num_qubits == 2),
        two_qubit_count=two_q,
        one_qubit_count=one_q,
        swaps=swaps,
        duration_s=duration,
        esp=esp(circuit, device, measured),
        duration_over_t1=duration / min_t1,
        duration_over_t2=duration / min_t2,
    )
