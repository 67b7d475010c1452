"""The full logical QAA circuit: amplitude embedding followed by the ansatz."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import ParameterVector, QuantumCircuit

from qaa_hw.circuits.ansatz import append_ansatz
from qaa_hw.circuits.embedding import EmbeddingPlan
from qaa_hw.circuits.plans import plan_embedding
from qaa_hw.circuits.spec import QAASpec, resolve_pairs
from qaa_hw.errors import ConfigError

ALPHA = "alpha"
THETA = "theta"


@dataclass(frozen=True)
class QAACircuit:
    """A logical QAA circuit and what its parameters mean.

    Attributes:
        circuit: the circuit on ``spec.num_qubits`` qubits (no measurements).
        alpha: embedding angles (``plan.angles(x)`` gives their values for a vector x).
        theta: trainable angles, ordered as ``spec.parameter_shape`` flattened C-style.
        plan: the embedding plan (order, kept terms, fidelity).
        pairs: the entangler pairs used by every layer.
        spec: the spec it was built from.
    """

    circuit: QuantumCircuit
    alpha: ParameterVector
    theta: ParameterVector
    plan: EmbeddingPlan
    pairs: tuple[tuple[int, int], ...]
    spec: QAASpec

    def bind(self, x: np.ndarray, theta_values: np.ndarray) -> QuantumCircuit:
        """The circuit bound to input vector ``x`` and trainable values ``theta_values``."""
        return bind(self.circuit, self.plan.angles(np.asarray(x, dtype=float)), theta_values)


def build_qaa_circuit(
    spec: QAASpec,
    *,
    pairs: Sequence[tuple[int, int]] | None = None,
    embedding_order: Sequence[int] | None = None,
    plan: EmbeddingPlan | None = None,
) -> QAACircuit:
    """Embedding + ansatz for ``spec``, parameterised by ``alpha`` and ``theta``.

    Args:
        spec: the adapter spec.
        pairs: entangler pairs (default: :func:`~qaa_hw.circuits.spec.entangler_pairs`).
        embedding_order: preparation order of the embedding tree (ignored if ``plan``).
        plan: a ready embedding plan (default: :func:`plan_embedding(spec, order=...)`).

    Returns:
        A :class:`QAACircuit`.
    """
    used = plan if plan is not None else plan_embedding(spec, order=embedding_order)
    if used.num_qubits != spec.num_qubits:
        raise ConfigError(f"plan is for {used.num_qubits} qubits, spec has {spec.num_qubits}")
    links = tuple(resolve_pairs(spec, pairs))
    alpha = ParameterVector(ALPHA, used.num_angles)
    theta = ParameterVector(THETA, spec.num_parameters)
    qc = QuantumCircuit(spec.num_qubits, name="qaa")
    used.append_to(qc, alpha)
    append_ansatz(qc, spec, theta, links)
    return QAACircuit(qc, alpha, theta, used, links, spec)


def bind(
    circuit: QuantumCircuit, alpha_values: np.ndarray, theta_values: np.ndarray
) -> QuantumCircuit:
    """Bind the ``alpha`` and ``theta`` parameter vectors of ``circuit`` by name and index.

    Works on logical and compiled circuits alike. Raises :class:`ConfigError` when a value
    vector does not match the circuit's parameter vector length.
    """
    values = {ALPHA: np.asarray(alpha_values, dtype=float).ravel(),
              THETA: np.asarray(theta_values, dtype=float).ravel()}
    params = list(circuit.parameters)
    lengths: dict[str, int] = {}
    for p in params:
        vector = getattr(p, "vector", None)
        if vector is None or vector.name not in values:
            raise ConfigError(f"circuit parameter {p.name!r} is neither alpha[i] nor theta[i]")
        lengths[vector.name] = len(vector)
    for name, length in lengths.items():
        if len(values[name]) != length:
            raise ConfigError(f"{name} has {len(values[name])} values; the circuit needs {length}")
    return circuit.assign_parameters({p: float(values[p.vector.name][p.index]) for p in params})
