"""Conversion of a :class:`~qaa_hw.devices.model.DeviceModel` and of physical circuits to Cirq.

Public API:

* :class:`ECRGate` / :func:`ecr_gate`: Qiskit's echoed cross-resonance gate as a Cirq gate, so
  noise can be keyed on its type.
* :func:`to_cirq_circuit`: a bound physical Qiskit circuit in the basis
  ``{rz, sx, x, id, cx, ecr, cz, measure, barrier, delay}`` as a :class:`cirq.Circuit` on
  ``cirq.LineQubit(i)`` for physical qubit ``i``.
* :class:`DeviceNoiseProperties` / :func:`to_cirq_noise_model`: the device's noise built with
  Cirq's own machinery (:class:`cirq.devices.SuperconductingQubitsNoiseProperties` and
  :class:`cirq.devices.NoiseModelFromNoiseProperties`).

Gate mapping (exact unitaries, Qiskit's global phase dropped)
-------------------------------------------------------------
``rz(θ)`` → ``cirq.rz(θ)`` (a ``ZPowGate``), ``sx`` → ``cirq.X**0.5`` (``XPowGate``),
``x`` → ``cirq.X`` (``_PauliX``, a subclass of ``XPowGate``), ``id`` → ``cirq.I``,
``cx(a, b)`` → ``cirq.CNOT(a, b)``, ``cz`` → ``cirq.CZ``, ``ecr(a, b)`` → ``ECRGate()(a, b)``,
``measure q → c[j]`` → ``cirq.measure(q, key=f"c{j}")`` (``j`` is the clbit's index in
``qc.clbits``), ``delay`` → dropped, or ``cirq.WaitGate`` with ``keep_delays=True``; a barrier
only orders operations. Operations are packed into moments as early as possible per qubit
(barriers synchronise their qubits), so a Cirq moment is one layer of the schedule.

Cirq noise model contents
-------------------------
Per moment (Cirq's model is layered, not timed):

1. the moment's operations;
2. a depolarising channel after each native gate on its qubits
   (``InsertionNoiseModel``): the device's average gate infidelity ``r`` is converted to a Pauli
   error ``p = r (d + 1) / d`` (``d = 2**k``), from which Cirq subtracts, linearly, the Pauli
   error of the decoherence during the gate on each of its qubits
   (:func:`cirq.qis.decoherence_pauli_error`); non-positive results add no depolarising;
3. thermal relaxation (``ThermalNoiseModel``: T1 decay and pure dephasing with
   ``1/Tphi = 1/T2 - 1/(2 T1)``, zero temperature) on **every qubit of the circuit**, busy or
   idle, for the moment's duration = the longest gate time in it; measured qubits are skipped;
4. before each measurement, a generalised amplitude-damping channel whose populations flip with
   exactly ``p(1|0)`` and ``p(0|1)`` (readout error).

Gate durations are per gate *type* in Cirq: each type gets the median duration of the device
instruction over its qubit tuples. Types: ``ZPowGate`` ← rz, ``XPowGate`` ← sx, ``_PauliX`` ←
x, ``IdentityGate`` ← id, ``PhasedXZGate``/``PhasedXPowGate``/``MatrixGate`` (one-qubit only)
← x (one physical pulse; sx if the device has no x), ``CZPowGate`` ← cz (both directions),
``CXPowGate`` ← cx, :class:`ECRGate` ← ecr (native directions only). Other gates are ideal and
take no time; ``WaitGate`` lasts its own duration. A noiseless device (``scale_noise(d, 0)``)
gives a model that adds nothing at all.

Differences from the Aer model (``qiskit_convert.to_aer_noise_model``)
-----------------------------------------------------------------------
* **Idle noise**: Cirq relaxes idle qubits for the length of each moment; Aer relaxes only the
  qubits a gate acts on (idle time costs nothing unless the circuit was scheduled with explicit
  delays). This is the dominant difference, first order in the error: an ``ecr`` of 660 ns
  beside an idle qubit with T1 = 200 µs, T2 = 150 µs costs that qubit ~0.3-0.4 % in Cirq and
  nothing in unscheduled Aer (3-qubit, 4-layer test circuits: |Δp| ≈ 1-3e-3).
* **Layering**: a moment lasts as long as its longest gate for all qubits, so three ``sx`` on
  one qubit beside an ``ecr`` put the ``ecr`` qubits through 660 + 60 + 60 ns of moments where
  a timed schedule lasts 660 ns. This is why :func:`to_cirq_circuit` drops delays by default:
  kept as ``WaitGate`` they would become extra moments, not parallel time.
* **Depolarising parameter**: Aer solves exactly for the depolarising parameter that makes the
  composition with relaxation have the device's average fidelity; Cirq subtracts Pauli errors
  linearly (and the two qubits' relaxation additively). The per-gate average infidelity agrees
  to second order: Cirq's ``ecr`` (r = 8e-3, 660 ns) is 2.8e-5 below the device's, its ``sx``
  4e-8 below. Noise ordering inside a moment (depolarising before non-unital relaxation) is
  also a second-order effect.
* **Durations**: per qubit tuple in Aer, one median per gate type in Cirq (a two-qubit
  ``MatrixGate`` also gets the one-qubit pulse time, but no depolarising).
* **Readout**: a classical confusion matrix in Aer; a quantum channel before the measurement in
  Cirq. Measurement statistics are identical; post-measurement states (mid-circuit) differ.

Net effect: for a circuit whose moments are true time layers (all operations of a moment start
together), Aer on the ASAP-scheduled circuit (delays give idle relaxation) and Cirq on the same
circuit agree on measured probabilities to 1e-4 at the calibrated noise (observed max
4.8e-5 on 3 qubits with 4 two-qubit layers; ~λ²: 1.7e-4 at λ = 2, 3.5e-4 at λ = 3). For a
noiseless device both are exact.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import statistics
from typing import Any

import cirq
import numpy as np
from cirq.devices.noise_utils import OpIdentifier
from qiskit import QuantumCircuit

from qaa_hw.circuits.gates import GATES, NATIVE_GATES
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import CompilationError

logger = logging.getLogger(__name__)

_SQRT_HALF = 1 / math.sqrt(2)
_I2 = np.eye(2)
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)

#: Qiskit's ECR = (IX - XY)/√2 in Qiskit's little-endian labels (X on its first qubit in the
#: first term; X on the second and Y on the first in the second term), written in Cirq's
#: big-endian order where the gate's first qubit is the most significant.
_ECR_MATRIX = _SQRT_HALF * (np.kron(_X, _I2) - np.kron(_Y, _X))

_PAULI_X_TYPE: type[cirq.Gate] = type(cirq.X)


@cirq.value_equality
class ECRGate(cirq.Gate):
    """Qiskit's echoed cross-resonance gate ``ecr(a, b)`` acting on Cirq qubits ``(a, b)``.

    ``cirq.unitary(ECRGate())`` equals ``qiskit.circuit.library.ECRGate().to_matrix()`` after
    reversing Qiskit's little-endian qubit order. The gate is its own inverse.
    """

    def _num_qubits_(self) -> int:
        return 2

    def _unitary_(self) -> np.ndarray:
        return _ECR_MATRIX.copy()

    def _has_unitary_(self) -> bool:
        return True

    def _decompose_(self, qubits: tuple[cirq.Qid, ...]) -> cirq.OP_TREE:
        # Qiskit's definition: rzx(π/4) a,b; x a; rzx(-π/4) a,b with rzx(θ) = exp(-iθ/2 Z_a X_b).
        a, b = qubits

        def rzx(theta: float) -> list[cirq.Operation]:
            zz = cirq.ZZPowGate(exponent=theta / math.pi, global_shift=-0.5)
            return [cirq.H(b), zz(a, b), cirq.H(b)]

        return [*rzx(math.pi / 4), cirq.X(a), *rzx(-math.pi / 4)]

    def __pow__(self, exponent: Any) -> ECRGate:
        if exponent in (1, -1):
            return self
        return NotImplemented

    def _value_equality_values_(self) -> tuple[()]:
        return ()

    def _circuit_diagram_info_(self, args: cirq.CircuitDiagramInfoArgs) -> tuple[str, str]:
        return ("ECR", "ECR(t)")

    def __repr__(self) -> str:
        return "qaa_hw.devices.cirq_convert.ECRGate()"

    def __str__(self) -> str:
        return "ECR"


def ecr_gate() -> ECRGate:
    """The Cirq gate for Qiskit's ``ecr`` (see :class:`ECRGate`)."""
    return ECRGate()


# ------------------------------------------------------------------ circuits
_TIME_UNITS_NS = {"s": 1e9, "ms": 1e6, "us": 1e3, "µs": 1e3, "ns": 1.0, "ps": 1e-3}

ACCEPTED_INSTRUCTIONS = (*NATIVE_GATES[1], *NATIVE_GATES[2], "measure", "barrier", "delay")


def _delay_nanos(duration: float, unit: str, dt: float | None) -> float:
    if unit == "dt":
        if dt is None:
            raise CompilationError(
                f"delay of {duration} dt needs the sample time: pass to_cirq_circuit(qc, dt=...)"
            )
        return float(duration) * dt * 1e9
    try:
        return float(duration) * _TIME_UNITS_NS[unit]
    except KeyError as e:
        raise CompilationError(
            f"delay unit {unit!r} is not supported; accepted: dt, {', '.join(_TIME_UNITS_NS)}"
        ) from e


def to_cirq_circuit(
    qc: QuantumCircuit, *, keep_delays: bool = False, dt: float | None = None
) -> cirq.Circuit:
    """Convert a bound physical Qiskit circuit to Cirq, qubit ``i`` → ``cirq.LineQubit(i)``.

    The Cirq unitary equals ``qiskit.quantum_info.Operator(qc)`` up to Qiskit's global phase,
    once Qiskit's little-endian order is reversed (Cirq orders qubit 0 first).

    Args:
        qc: a circuit without free parameters in the basis
            ``{rz, sx, x, id, cx, ecr, cz, measure, barrier, delay}`` (compile to
            :func:`qaa_hw.devices.qiskit_convert.to_target` first).
        keep_delays: convert delays to ``cirq.WaitGate`` instead of dropping them. Off by
            default: Cirq's noise model already relaxes idle qubits for every moment, so the
            padding delays of a scheduled circuit would count idle time twice.
        dt: sample time in seconds, needed only for kept delays in ``'dt'`` units.

    Returns:
        The circuit; measurement of clbit ``j`` has key ``f"c{j}"``.

    Raises:
        CompilationError: for free parameters or an instruction outside the basis.
    """
    if qc.parameters:
        names = ", ".join(sorted(p.name for p in qc.parameters))
        raise CompilationError(f"circuit {qc.name!r} has unbound parameters: {names}")
    frontier = [0] * qc.num_qubits
    moments: list[list[cirq.Operation]] = []
    for inst in qc.data:
        operation = inst.operation
        name = operation.name
        indices = [qc.find_bit(q).index for q in inst.qubits]
        if name == "barrier":
            if indices:
                level = max(frontier[i] for i in indices)
                for i in indices:
                    frontier[i] = level
            continue
        qubits = [cirq.LineQubit(i) for i in indices]
        op: cirq.Operation
        if name in NATIVE_GATES.get(len(qubits), ()):
            op = GATES[name].cirq(*(float(p) for p in operation.params)).on(*qubits)
        elif name == "measure":
            op = cirq.measure(*qubits, key=f"c{qc.find_bit(inst.clbits[0]).index}")
        elif name == "delay":
            if not keep_delays:
                continue
            nanos = _delay_nanos(operation.duration, operation.unit, dt)
            op = cirq.WaitGate(cirq.Duration(nanos=nanos)).on(*qubits)
        else:
            raise CompilationError(
                f"instruction {name!r} on qubits {indices} of circuit {qc.name!r} cannot be "
                f"converted to Cirq; accepted: {', '.join(ACCEPTED_INSTRUCTIONS)} "
                "(transpile to the device target first)"
            )
        level = max(frontier[i] for i in indices)
        while len(moments) <= level:
            moments.append([])
        moments[level].append(op)
        for i in indices:
            frontier[i] = level + 1
    return cirq.Circuit(cirq.Moment(ops) for ops in moments)


# ---------------------------------------------------------------- noise model
@dataclasses.dataclass
class DeviceNoiseProperties(cirq.devices.SuperconductingQubitsNoiseProperties):
    """Cirq noise properties for the gate types a converted physical circuit contains.

    Fields are those of :class:`cirq.devices.SuperconductingQubitsNoiseProperties`
    (``gate_times_ns``, ``t1_ns``, ``tphi_ns``, ``readout_errors``, ``gate_pauli_errors``);
    build one with :func:`device_noise_properties`.
    """

    @classmethod
    def single_qubit_gates(cls) -> set[type[cirq.Gate]]:
        """One-qubit gate types with noise: rz, sx, x, id and general one-qubit pulses."""
        return {
            cirq.ZPowGate,
            cirq.XPowGate,
            _PAULI_X_TYPE,
            cirq.IdentityGate,
            cirq.PhasedXZGate,
            cirq.PhasedXPowGate,
            cirq.MatrixGate,
        }

    @classmethod
    def symmetric_two_qubit_gates(cls) -> set[type[cirq.Gate]]:
        """CZ, with an error entry in both directions."""
        return {cirq.CZPowGate}

    @classmethod
    def asymmetric_two_qubit_gates(cls) -> set[type[cirq.Gate]]:
        """CX and ECR, with errors in the device's native directions."""
        return {cirq.CXPowGate, ECRGate}


def _gate_types_by_instruction(device: DeviceModel) -> dict[str, list[type[cirq.Gate]]]:
    """Device instruction name → Cirq gate types that take its numbers (subtypes first)."""
    pulse = "x" if "x" in device.instructions else "sx"
    mapping: dict[str, list[type[cirq.Gate]]] = {
        "x": [_PAULI_X_TYPE],
        "sx": [cirq.XPowGate],
        "rz": [cirq.ZPowGate],
        "id": [cirq.IdentityGate],
        "cz": [cirq.CZPowGate],
        "cx": [cirq.CXPowGate],
        "ecr": [ECRGate],
    }
    mapping[pulse] = [*mapping[pulse], cirq.PhasedXZGate, cirq.PhasedXPowGate, cirq.MatrixGate]
    # ``_PauliX`` must precede ``XPowGate``: ThermalNoiseModel uses the first matching type.
    order = ("x", "sx", "rz", "id", "cz", "cx", "ecr")
    return {name: mapping[name] for name in order if name in device.instructions}


def _pauli_error(average_infidelity: float, num_qubits: int) -> float:
    dim = 2**num_qubits
    r = min(average_infidelity, dim / (dim + 1))
    return min(1.0, r * (dim + 1) / dim)


_NO_DECAY_NS = 1e30


def _tphi_ns(t1_s: float, t2_s: float) -> float:
    rate = 1 / t2_s - 1 / (2 * t1_s)  # 1/inf == 0.0
    return math.inf if rate <= 0 else 1e9 / rate


def device_noise_properties(device: DeviceModel) -> DeviceNoiseProperties:
    """Cirq noise properties of ``device`` on ``cirq.LineQubit(i)`` (see the module docstring).

    Args:
        device: the device to convert.

    Returns:
        The properties; a noiseless device has no T1/Tphi, readout or gate-error entries.
    """
    line: list[cirq.Qid] = list(cirq.LineQubit.range(device.num_qubits))
    gate_times_ns: dict[type, float] = {}
    gate_pauli_errors: dict[OpIdentifier, float] = {}
    for name, gate_types in _gate_types_by_instruction(device).items():
        per_qargs = device.instructions[name]
        if not per_qargs:
            continue
        duration_ns = statistics.median(p.duration_s for p in per_qargs.values()) * 1e9
        for gate_type in gate_types:
            gate_times_ns[gate_type] = duration_ns
            for qargs, props in per_qargs.items():
                p = _pauli_error(props.error, len(qargs))
                if p <= 0:
                    continue
                gate_pauli_errors[OpIdentifier(gate_type, *(line[q] for q in qargs))] = p
                if gate_type is cirq.CZPowGate:
                    swapped = OpIdentifier(gate_type, *(line[q] for q in reversed(qargs)))
                    if tuple(reversed(qargs)) not in per_qargs:
                        gate_pauli_errors[swapped] = p
    coherent = all(math.isinf(q.t1_s) and math.isinf(q.t2_s) for q in device.qubits)
    t1_ns: dict[cirq.Qid, float] = {}
    tphi_ns: dict[cirq.Qid, float] = {}
    if not coherent or gate_pauli_errors:
        # Cirq subtracts the decoherence part from every gate error, so it needs T1/Tphi on
        # each qubit; an infinite time becomes _NO_DECAY_NS (a relaxation rate of ~1e-30/ns).
        t1_ns = {line[i]: min(q.t1_s * 1e9, _NO_DECAY_NS) for i, q in enumerate(device.qubits)}
        tphi_ns = {
            line[i]: min(_tphi_ns(q.t1_s, q.t2_s), _NO_DECAY_NS)
            for i, q in enumerate(device.qubits)
        }
    readout_errors: dict[cirq.Qid, list[float]] = {
        line[i]: [q.prob_meas1_prep0, q.prob_meas0_prep1]
        for i, q in enumerate(device.qubits)
        if q.prob_meas1_prep0 > 0 or q.prob_meas0_prep1 > 0
    }
    return DeviceNoiseProperties(
        gate_times_ns=gate_times_ns,
        t1_ns=t1_ns,
        tphi_ns=tphi_ns,
        readout_errors=readout_errors,
        gate_pauli_errors=gate_pauli_errors,
    )


def to_cirq_noise_model(device: DeviceModel) -> cirq.NoiseModel:
    """Cirq noise model of ``device`` acting on ``cirq.LineQubit(i)`` for physical qubit ``i``.

    Use it with ``cirq.DensityMatrixSimulator(noise=...)`` on circuits from
    :func:`to_cirq_circuit`; every qubit of such a circuit must be a device qubit.

    Args:
        device: the device to convert.

    Returns:
        A :class:`cirq.devices.NoiseModelFromNoiseProperties` over
        :func:`device_noise_properties` (see the module docstring for its channels).
    """
    model = cirq.devices.NoiseModelFromNoiseProperties(device_noise_properties(device))
    logger.debug("built Cirq noise model for %s", device.name)
    return model
