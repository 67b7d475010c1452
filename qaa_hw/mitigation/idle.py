"""Idle windows of a physical circuit as a Cirq circuit of time layers, for Mitiq's DDD.

Mitiq's DDD (``mitiq.ddd.insert_ddd_sequences``) finds *slack*: runs of moments in which a
qubit has no operation, and fills each run with a rule's sequence, one gate per moment. Here a
circuit's idle time is described by a boolean ``busy[qubit, layer]`` grid, shown to Mitiq as a
*marker circuit* (one :class:`Busy` marker per busy cell, one moment per layer); the gates
Mitiq inserts are read back with their layer and placed into the real circuit:

* **Aer** (timed execution, :func:`timed_grid`): a layer is one *tick* of real time, the
  longest one-qubit pulse (``sx``/``x``) of the device, e.g. 60 ns on ibm_brisbane, 25 ns on
  google_weber. The circuit is scheduled ASAP with the device durations
  (:func:`qaa_hw.mitigation.lowering.schedule`); an instruction busies every tick it overlaps,
  so a free tick lies entirely inside an idle interval and a pulse placed there (tagged
  :class:`~qaa_hw.mitigation.lowering.NotBefore` its tick's start) never delays the circuit;
  a last partial tick before the end of the circuit is not offered.
* **Cirq** (:func:`moment_grid`): a layer is a moment, which is how Cirq's noise model sees
  time (every moment relaxes every qubit for the moment's longest gate).

On both, a qubit is marked busy before its first operation: it still holds ``|0>``, which
relaxation does not disturb, and a pulse there would only move it to ``|1>`` (as Qiskit's
``PadDynamicalDecoupling(skip_reset_qubits=True)``). Trailing idle time up to the final readout
is slack.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cirq
import numpy as np

from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import SimulationError
from qaa_hw.mitigation.lowering import NotBefore, schedule
from qaa_hw.simulate.noise import NoiseSpec

Inserted = list[tuple[int, int, cirq.Gate]]


class Busy(cirq.Gate):
    """Marker of a busy (qubit, layer) cell in a marker circuit; the identity, but not
    ``cirq.I``, so Mitiq counts it as an operation."""

    def _num_qubits_(self) -> int:
        return 1

    def _unitary_(self) -> np.ndarray:
        return np.eye(2)

    def _circuit_diagram_info_(self, args: cirq.CircuitDiagramInfoArgs) -> str:
        return "#"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Busy)

    def __hash__(self) -> int:
        return hash(Busy)


@dataclass(frozen=True)
class IdleGrid:
    """Busy cells of a circuit and how to place gates into its idle cells.

    Attributes:
        busy: ``[num_qubits, num_layers]`` booleans.
        place: ``[(qubit, layer, gate), ...] -> cirq.Circuit``, the circuit with those gates.
        layer_s: length of a layer in seconds (timed grids), ``None`` for moment grids.
    """

    busy: np.ndarray
    place: Callable[[Inserted], cirq.Circuit]
    layer_s: float | None = None

    def marker_circuit(self) -> cirq.Circuit:
        """One moment per layer, a :class:`Busy` on every busy cell."""
        qubits = cirq.LineQubit.range(self.busy.shape[0])
        marker = Busy()
        return cirq.Circuit(
            cirq.Moment(marker.on(qubits[q]) for q in np.flatnonzero(self.busy[:, t]))
            for t in range(self.busy.shape[1])
        )


def inserted_gates(marker_circuit: cirq.Circuit) -> Inserted:
    """``(qubit, layer, gate)`` of every operation Mitiq added to a marker circuit."""
    out: Inserted = []
    for layer, moment in enumerate(marker_circuit):
        for op in moment:
            if op.gate is None or isinstance(op.gate, Busy | cirq.IdentityGate):
                continue
            if len(op.qubits) != 1:
                raise SimulationError(f"DDD inserted a multi-qubit operation {op}")
            out.append((int(op.qubits[0].x), layer, op.gate))  # type: ignore[attr-defined]
    return out


def _mark_leading(busy: np.ndarray) -> None:
    """Mark every qubit busy from layer 0 to its first busy layer (all layers if none)."""
    for q in range(busy.shape[0]):
        used = np.flatnonzero(busy[q])
        busy[q, : used[0] if used.size else busy.shape[1]] = True


def tick_s(device: DeviceModel) -> float:
    """Longest one-qubit pulse (``sx``/``x``) of ``device``: the layer of a timed grid."""
    pulses = [
        p.duration_s
        for name in ("sx", "x")
        for p in device.instructions.get(name, {}).values()
        if p.duration_s > 0
    ]
    if not pulses:
        raise SimulationError(
            f"device {device.name!r} has no timed one-qubit pulse (sx/x durations); DDD "
            "needs durations to find idle windows"
        )
    return max(pulses)


def timed_grid(circuit: cirq.Circuit, noise: NoiseSpec) -> IdleGrid:
    """Tick grid of the ASAP schedule of ``circuit`` (see the module docstring).

    Args:
        circuit: a converted physical circuit on ``LineQubit(i)``.
        noise: the noise spec of the active qubits (durations; local numbering).

    Returns:
        The grid; ``place`` returns the circuit with each gate tagged
        ``NotBefore(layer * tick)``, ordered so that it runs in the idle window it was put in.
    """
    device = noise.device
    tick = tick_s(device)
    ops = list(circuit.all_operations())
    sched = schedule(circuit, noise)
    end = max((s.end_s for s in sched), default=0.0)
    layers = max(1, math.floor(end / tick + 1e-9))  # whole ticks: a pulse never outlasts `end`
    busy = np.zeros((device.num_qubits, layers), dtype=bool)
    tick_of: dict[int, int] = {}  # tick of each operation's start (rounding-safe)
    for s in sched:
        tick_of.setdefault(s.source, math.floor(s.start_s / tick + 1e-6))
        if s.duration_s <= 0:
            continue
        first = math.floor(s.start_s / tick + 1e-9)
        last = math.ceil(s.end_s / tick - 1e-9)
        for q in s.qubits:
            busy[q, first:last] = True
    _mark_leading(busy)
    qubits = cirq.LineQubit.range(device.num_qubits)

    def place(gates: Inserted) -> cirq.Circuit:
        # Sort by tick, circuit operations first: an operation starting in a free tick is a
        # zero-duration rz at the window's start, which belongs before the inserted pulses.
        keyed: list[tuple[int, int, int, cirq.Operation]] = [
            (tick_of.get(i, 0), 0, i, op) for i, op in enumerate(ops)
        ]
        keyed += [
            (layer, 1, j, gate.on(qubits[q]).with_tags(NotBefore(layer * tick)))
            for j, (q, layer, gate) in enumerate(gates)
        ]
        keyed.sort(key=lambda item: item[:3])
        return cirq.Circuit(item[3] for item in keyed)

    return IdleGrid(busy=busy, place=place, layer_s=tick)


def moment_grid(circuit: cirq.Circuit, num_qubits: int) -> IdleGrid:
    """Moment grid of ``circuit`` (Cirq's layered view of time; see the module docstring)."""
    busy = np.zeros((num_qubits, max(1, len(circuit))), dtype=bool)
    for t, moment in enumerate(circuit):
        for op in moment:
            if isinstance(op.gate, cirq.IdentityGate):
                continue
            for qubit in op.qubits:
                busy[int(qubit.x), t] = True  # type: ignore[attr-defined]
    _mark_leading(busy)
    qubits = cirq.LineQubit.range(num_qubits)

    def place(gates: Inserted) -> cirq.Circuit:
        moments = list(circuit.moments)
        while len(moments) < busy.shape[1]:
            moments.append(cirq.Moment())
        for q, layer, gate in gates:
            moments[layer] = moments[layer].with_operation(gate.on(qubits[q]))
        return cirq.Circuit(moments)

    return IdleGrid(busy=busy, place=place, layer_s=None)
