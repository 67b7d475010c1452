"""Independent references for compiler tests (no code shared with qaa_hw.compile)."""

from __future__ import annotations

import math

import numpy as np
from qiskit import QuantumCircuit

from qaa_hw.devices.model import DeviceModel


def restrict_circuit(circuit: QuantumCircuit, active: list[int]) -> QuantumCircuit:
    """The circuit's operations on ``active`` physical qubits, renumbered 0..k-1."""
    index = {q: i for i, q in enumerate(active)}
    out = QuantumCircuit(len(active), global_phase=circuit.global_phase)
    for inst in circuit.data:
        qargs = [circuit.find_bit(q).index for q in inst.qubits]
        assert all(q in index for q in qargs), f"{inst.operation.name} on idle qubit {qargs}"
        out.append(inst.operation, [index[q] for q in qargs])
    return out


def reference_ansatz(n: int, layers: int, rots: int, pairs: list[tuple[int, int]],
                     theta: np.ndarray) -> QuantumCircuit:
    """The QAA ansatz written out gate by gate."""
    t = np.asarray(theta).reshape(layers, n, rots)
    qc = QuantumCircuit(n)
    for layer in range(layers):
        for q in range(n):
            qc.ry(t[layer, q, 0], q)
            if rots == 2:
                qc.rz(t[layer, q, 1], q)
        for a, b in pairs:
            qc.cx(a, b)
    return qc


def ring(n: int) -> list[tuple[int, int]]:
    """Ring entangler pairs."""
    pairs = [(q, q + 1) for q in range(n - 1)]
    return [*pairs, (n - 1, 0)] if n > 2 else pairs


def esp_by_hand(circuit: QuantumCircuit, device: DeviceModel, measured: tuple[int, ...]) -> float:
    """Product of (1 - error) over instructions and readouts, looked up in the device."""
    p = 1.0
    for inst in circuit.data:
        qargs = tuple(circuit.find_bit(q).index for q in inst.qubits)
        p *= 1.0 - device.instruction(inst.operation.name, qargs).error
    for q in measured:
        entry = device.instructions.get("measure", {}).get((q,))
        p *= 1.0 - (entry.error if entry is not None else device.qubits[q].readout_error)
    return p


def place_state(state: np.ndarray, positions: list[int], width: int) -> np.ndarray:
    """Statevector of n logical qubits placed with logical q on position ``positions[q]``."""
    n = len(positions)
    out = np.zeros(1 << width, dtype=complex)
    for i, amp in enumerate(state):
        j = sum(((i >> q) & 1) << positions[q] for q in range(n))
        out[j] = amp
    return out


def fidelity(a: np.ndarray, b: np.ndarray) -> float:
    """|<a|b>|^2 of two statevectors."""
    return float(abs(np.vdot(a, b)) ** 2 / (np.vdot(a, a).real * np.vdot(b, b).real))


def close(a: float, b: float) -> bool:
    """Float comparison used in ESP checks."""
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
