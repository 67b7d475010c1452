"""The trainable part of a QAA adapter: rotation layers and CNOT entanglers."""

from __future__ import annotations

from collections.abc import Sequence

from qiskit.circuit import ParameterVector, QuantumCircuit

from qaa_hw.circuits.spec import QAASpec, entangler_pairs
from qaa_hw.errors import ConfigError


def resolve_pairs(
    spec: QAASpec, pairs: Sequence[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    """Entangler pairs: ``pairs`` if given (validated), else :func:`entangler_pairs(spec)`."""
    if pairs is None:
        return entangler_pairs(spec)
    out = [(int(a), int(b)) for a, b in pairs]
    n = spec.num_qubits
    for a, b in out:
        if a == b or not (0 <= a < n and 0 <= b < n):
            raise ConfigError(f"entangler pair {(a, b)} is not valid for {n} qubits")
    return out


def append_ansatz(
    qc: QuantumCircuit,
    spec: QAASpec,
    theta: Sequence,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> None:
    """Append the ansatz layers to ``qc`` (logical qubit q = ``qc.qubits[q]``).

    Layer ``l``: ``RY(theta[l, q, 0])`` (then ``RZ(theta[l, q, 1])`` for ``ry_rz``) on every
    qubit ``q``, then CNOTs on the entangler pairs in order; ``theta`` is flattened C-style
    from ``spec.parameter_shape``.
    """
    if len(theta) != spec.num_parameters:
        raise ConfigError(f"theta has {len(theta)} entries; the spec needs {spec.num_parameters}")
    links = resolve_pairs(spec, pairs)
    layers, n, rots = spec.parameter_shape
    for layer in range(layers):
        for q in range(n):
            base = (layer * n + q) * rots
            qc.ry(theta[base], q)
            if rots == 2:
                qc.rz(theta[base + 1], q)
        for a, b in links:
            qc.cx(a, b)


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
