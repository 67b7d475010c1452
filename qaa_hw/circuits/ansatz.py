"""The trainable part of a QAA adapter: rotation layers and CNOT entanglers."""

from __future__ import annotations

from collections.abc import Sequence

from qiskit.circuit import ParameterVector, QuantumCircuit

from qaa_hw.circuits.gates import GATES, rotation_gates
from qaa_hw.circuits.spec import QAASpec, resolve_pairs
from qaa_hw.errors import ConfigError


def append_rotations(
    qc: QuantumCircuit, spec: QAASpec, theta: Sequence, layer: int, wires: Sequence[int]
) -> None:
    """Append layer ``layer``'s rotation set, logical qubit ``q`` on wire ``wires[q]``.

    Gate ``k`` of the set (:func:`~qaa_hw.circuits.gates.rotation_gates`) on qubit ``q``
    takes ``theta[(layer * n + q) * r + k]``, the C-order flattening of
    ``spec.parameter_shape``.
    """
    gates = rotation_gates(spec.rotations)
    n, rots = spec.num_qubits, len(gates)
    for q in range(n):
        base = (layer * n + q) * rots
        for k, gate in enumerate(gates):
            qc.append(gate.qiskit(theta[base + k]), [wires[q]])


def append_ansatz(
    qc: QuantumCircuit,
    spec: QAASpec,
    theta: Sequence,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> None:
    """Append the ansatz layers to ``qc`` (logical qubit q = ``qc.qubits[q]``).

    Layer ``l``: the rotation set on every qubit ``q`` (gate ``k`` with angle
    ``theta[l, q, k]``, see :func:`append_rotations`), then CNOTs on the entangler pairs in
    order; ``theta`` is flattened C-style from ``spec.parameter_shape``.
    """
    if len(theta) != spec.num_parameters:
        raise ConfigError(f"theta has {len(theta)} entries; the spec needs {spec.num_parameters}")
    links = resolve_pairs(spec, pairs)
    wires = range(spec.num_qubits)
    entangler = GATES["cx"]
    for layer in range(spec.num_layers):
        append_rotations(qc, spec, theta, layer, wires)
        for a, b in links:
            qc.append(entangler.qiskit(), [a, b])


def build_ansatz(
    spec: QAASpec, pairs: Sequence[tuple[int, int]] | None = None
) -> QuantumCircuit:
    """The ansatz alone, parameterised by a ``ParameterVector("theta", spec.num_parameters)``.

    Args:
        spec: the adapter spec.
        pairs: entangler pairs overriding :func:`~qaa_hw.circuits.spec.entangler_pairs`
            (needed for ``entangler="native"`` before compilation).

    Returns:
        A circuit on ``spec.num_qubits`` qubits named ``"ansatz"``.
    """
    theta = ParameterVector("theta", spec.num_parameters)
    qc = QuantumCircuit(spec.num_qubits, name="ansatz")
    append_ansatz(qc, spec, theta, pairs)
    return qc
