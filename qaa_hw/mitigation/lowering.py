"""Physical circuits between Cirq (what Mitiq transforms) and timed Qiskit circuits (what Aer runs).

Mitiq folds, pads and samples Cirq circuits. The bound physical circuit of a compiled adapter is
converted with :func:`qaa_hw.devices.cirq_convert.to_cirq_circuit`, which keeps ``ecr`` as its
own gate (Mitiq's Qiskit conversion goes through OpenQASM 2, which has no ``ecr``), and the
modified circuit is *lowered* back here, gate by gate, without any re-optimisation (a
transpiler would cancel the folded ``G G^-1`` pairs again):

==========================================  ================================================
Cirq operation                              device instructions
==========================================  ================================================
``ZPowGate`` (``rz``, ``Z``), any angle     ``rz`` (virtual, noiseless, zero duration)
``XPowGate`` exponent 1/2, -1/2, ±1         ``sx``; ``rz(π) sx rz(π)`` (= ``sx^-1``); ``x``
``YPowGate`` exponent ±1 (DDD, PEC)         ``rz(π) x`` (Y up to a global phase)
``PhasedXPowGate`` (φ, e = 1/2, -1/2, ±1)   ``rz(-πφ)``, the ``XPowGate`` above, ``rz(πφ)``
``ECRGate`` (self-inverse)                  ``ecr``
``CZPowGate`` / ``CXPowGate`` exponent ±1   ``cz`` / ``cx``
``IdentityGate``                            nothing (idle time)
==========================================  ================================================

So every folded inverse is made of native gates and gets the noise of its forward gate: the
inverse of each native gate is the gate table's (:data:`qaa_hw.circuits.gates.GATES`; ``sx^-1``
is ``rz(π) sx rz(π)``, one ``sx`` pulse). A device without ``x`` gets ``sx sx``.

Timing (:func:`schedule`, :func:`timed_circuit`): operations are scheduled as soon as possible
in circuit order with the device's per-qubit durations (an operation tagged
:class:`NotBefore` waits until that time: the DDD pulses), and every idle interval of every
active qubit, up to the end of the circuit, becomes a ``delay``, to which the Aer noise model
applies thermal relaxation. Idle qubits therefore decohere, and folding stretches the idle
windows of the other qubits as it would on hardware.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cirq

from qaa_hw.circuits.gates import GATES
from qaa_hw.devices.cirq_convert import ECRGate
from qaa_hw.errors import SimulationError
from qaa_hw.simulate.noise import NoiseSpec
from qaa_hw.simulate.schedule import IdleWindow, Slot, asap, idle_windows, with_idle

Instruction = tuple[str, tuple[int, ...], float]


@dataclass(frozen=True)
class NotBefore:
    """Cirq tag: the tagged operation starts no earlier than ``time_s`` seconds."""

    time_s: float

    def __str__(self) -> str:
        return f"t>={self.time_s * 1e9:.4g}ns"


def _exponent(gate: Any, what: str) -> float:
    try:
        return float(gate.exponent) % 2.0
    except TypeError as e:  # sympy symbols
        raise SimulationError(f"{what} {gate!r} has a symbolic exponent; bind it first") from e


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9 or abs(abs(a - b) - 2.0) < 1e-9


def _x_power(e: float, q: tuple[int, ...], has_x: bool, op: Any) -> list[Instruction]:
    if _close(e, 0.0):
        return []
    if _close(e, 0.5):
        return [("sx", q, 0.0)]
    if _close(e, 1.5):
        return [(name, q, angle) for name, angle in GATES["sx"].inverse]
    if _close(e, 1.0):
        return [("x", q, 0.0)] if has_x else [("sx", q, 0.0), ("sx", q, 0.0)]
    raise SimulationError(
        f"operation {op} cannot be lowered to the device basis: X rotations must be multiples "
        "of pi/2"
    )


def lower_operation(op: cirq.Operation, *, has_x: bool = True) -> list[Instruction]:
    """Device instructions ``(name, qubits, rz angle)`` for one Cirq operation on LineQubits.

    Args:
        op: an operation from a (folded, padded or sampled) converted circuit.
        has_x: whether the device has a native ``x`` (else ``x`` becomes ``sx sx``).

    Returns:
        The instructions (the table in the module docstring); empty for identities.

    Raises:
        SimulationError: for an operation outside the table.
    """
    gate = op.gate
    q = tuple(int(qubit.x) for qubit in op.qubits)  # type: ignore[attr-defined]
    if gate is None or isinstance(gate, cirq.IdentityGate):
        return []
    if isinstance(gate, ECRGate):
        return [("ecr", q, 0.0)]
    if isinstance(gate, cirq.ZPowGate):
        e = _exponent(gate, "gate")
        return [] if _close(e, 0.0) else [("rz", q, e * math.pi)]
    if isinstance(gate, cirq.XPowGate):
        return _x_power(_exponent(gate, "gate"), q, has_x, op)
    if isinstance(gate, cirq.YPowGate) and _close(_exponent(gate, "gate"), 1.0):
        return [("rz", q, math.pi), *_x_power(1.0, q, has_x, op)]
    if isinstance(gate, cirq.PhasedXPowGate):
        phi = float(gate.phase_exponent) * math.pi
        body = _x_power(_exponent(gate, "gate"), q, has_x, op)
        return [("rz", q, -phi), *body, ("rz", q, phi)] if body else []
    if isinstance(gate, cirq.CZPowGate | cirq.CXPowGate) and _close(
        _exponent(gate, "gate"), 1.0
    ):
        return [("cz" if isinstance(gate, cirq.CZPowGate) else "cx", q, 0.0)]
    raise SimulationError(
        f"operation {op} cannot be lowered to the device basis; accepted: rz/Z powers, "
        "X/Y/PhasedX rotations by multiples of pi/2, ECR, CZ, CNOT, identities"
    )


@dataclass(frozen=True)
class Scheduled:
    """One lowered instruction with its ASAP start time.

    Attributes:
        name: device instruction.
        qubits: local qubits.
        angle: ``rz`` angle (0 otherwise).
        start_s: start time.
        duration_s: duration.
        source: index of the Cirq operation it came from (in ``all_operations()`` order).
    """

    name: str
    qubits: tuple[int, ...]
    angle: float
    start_s: float
    duration_s: float
    source: int

    @property
    def end_s(self) -> float:
        """Finish time."""
        return self.start_s + self.duration_s


def schedule(circuit: cirq.Circuit, noise: NoiseSpec) -> list[Scheduled]:
    """Lower and schedule ``circuit`` ASAP in operation order (see the module docstring).

    Args:
        circuit: Cirq circuit on ``LineQubit(i)``, ``i`` < ``noise.num_qubits``.
        noise: the noise spec of the active qubits (its device's durations; local numbering).

    Returns:
        The instructions in execution order with start times
        (:func:`qaa_hw.simulate.schedule.asap`).
    """
    has_x = "x" in noise.device.instructions
    lowered: list[tuple[Instruction, float, int]] = []
    for index, op in enumerate(circuit.all_operations()):
        if isinstance(op.gate, cirq.MeasurementGate):
            raise SimulationError("circuits given to the mitigation backends have no measurements")
        not_before = max((t.time_s for t in op.tags if isinstance(t, NotBefore)), default=0.0)
        lowered += [(inst, not_before, index) for inst in lower_operation(op, has_x=has_x)]
    slots = asap(
        [(name, qubits) for (name, qubits, _), _, _ in lowered],
        noise.duration_s,
        noise.num_qubits,
        not_before=[t for _, t, _ in lowered],
    )
    return [
        Scheduled(name, qubits, angle, slot.start_s, slot.duration_s, index)
        for ((name, qubits, angle), _, index), slot in zip(lowered, slots, strict=True)
    ]


def timed_circuit(
    scheduled: Sequence[Scheduled],
    num_qubits: int,
    *,
    idle: Callable[[int, float], Any] | None = None,
) -> Any:
    """The Qiskit circuit of ``scheduled`` with a ``delay`` (unit ``s``) on every idle interval.

    Args:
        scheduled: output of :func:`schedule`.
        num_qubits: wires (the active qubits).
        idle: ``(qubit, seconds) -> operation or None`` to put on an idle interval instead of
            a ``Delay`` (e.g. its relaxation channel); ``None`` leaves the interval empty.

    Returns:
        A :class:`qiskit.QuantumCircuit` without measurements; every qubit is busy or idle
        (:func:`qaa_hw.simulate.schedule.idle_windows`, from time 0) until the end of the last
        instruction.
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction, Delay

    qc = QuantumCircuit(num_qubits)
    timed = [(s.name, s.qubits) for s in scheduled]
    slots = [Slot(s.start_s, s.duration_s) for s in scheduled]

    def fill(w: IdleWindow) -> CircuitInstruction | None:
        operation = Delay(w.seconds, unit="s") if idle is None else idle(w.qubit, w.seconds)
        return None if operation is None else CircuitInstruction(operation, (qc.qubits[w.qubit],))

    instructions = [
        CircuitInstruction(GATES[s.name].qiskit(*([s.angle] if s.name == "rz" else [])),
                           tuple(qc.qubits[q] for q in s.qubits))
        for s in scheduled
    ]
    for inst in with_idle(instructions, idle_windows(timed, slots, num_qubits, leading=True), fill):
        qc._append(inst)
    return qc
