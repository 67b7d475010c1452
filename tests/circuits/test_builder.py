"""The full logical circuit against an independently built reference."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

from qaa_hw.circuits.ansatz import build_ansatz
from qaa_hw.circuits.builder import bind, build_qaa_circuit
from qaa_hw.circuits.plans import embedding_angles
from qaa_hw.circuits.spec import ROTATIONS, QAASpec
from qaa_hw.errors import ConfigError

#: Each rotation set written out with Qiskit's own gate methods (not the gate table).
REFERENCE_SETS = {"ry": ("ry",), "ry_rz": ("ry", "rz"), "rx_rz": ("rx", "rz")}


def _reference_ansatz(n: int, layers: int, rotations: str, pairs: list[tuple[int, int]],
                      theta: np.ndarray) -> QuantumCircuit:
    methods = REFERENCE_SETS[rotations]
    t = theta.reshape(layers, n, len(methods))
    qc = QuantumCircuit(n)
    for layer in range(layers):
        for q in range(n):
            for k, method in enumerate(methods):
                getattr(qc, method)(t[layer, q, k], q)
        for a, b in pairs:
            qc.cx(a, b)
    return qc


def test_every_rotation_set_has_a_reference() -> None:
    assert set(REFERENCE_SETS) == set(ROTATIONS)


def _ring(n: int) -> list[tuple[int, int]]:
    pairs = [(q, q + 1) for q in range(n - 1)]
    return [*pairs, (n - 1, 0)] if n > 2 else pairs


CASES = [
    (1, 1, "ry", "ring"), (2, 2, "ry", "ring"), (3, 2, "ry_rz", "ring"), (4, 3, "ry", "line"),
    (4, 2, "ry_rz", "all_to_all"), (5, 1, "ry", "ring"), (6, 2, "ry_rz", "ring"),
    (1, 2, "rx_rz", "ring"), (3, 2, "rx_rz", "ring"), (4, 2, "rx_rz", "line"),
    (4, 1, "rx_rz", "all_to_all"),
]


@pytest.mark.parametrize(("n", "layers", "rotations", "entangler"), CASES)
def test_bound_circuit_equals_reference(n: int, layers: int, rotations: str,
                                        entangler: str) -> None:
    spec = QAASpec(num_qubits=n, num_layers=layers, rotations=rotations,  # type: ignore[arg-type]
                   entangler=entangler)  # type: ignore[arg-type]
    rng = np.random.default_rng(n * 7 + layers)
    qaa = build_qaa_circuit(spec)
    assert len(qaa.theta) == spec.num_parameters == n * layers * spec.rotations_per_qubit
    assert len(qaa.alpha) == 2**n - 1
    assert qaa.circuit.num_parameters == spec.num_parameters + 2**n - 1
    pairs = {"ring": _ring(n), "line": [(q, q + 1) for q in range(n - 1)],
             "all_to_all": [(a, b) for a in range(n) for b in range(a + 1, n)]}[entangler]
    for _ in range(2):
        x = rng.normal(size=2**n)
        theta = rng.uniform(-np.pi, np.pi, size=spec.num_parameters)
        bound = bind(qaa.circuit, embedding_angles(spec, x), theta)
        expected = Statevector(x / np.linalg.norm(x)).evolve(
            _reference_ansatz(n, layers, rotations, pairs, theta)
        )
        np.testing.assert_allclose(Statevector(bound).data, expected.data, atol=1e-8)
        np.testing.assert_allclose(Statevector(qaa.bind(x, theta)).data, expected.data,
                                   atol=1e-8)


def test_embedding_order_and_custom_pairs() -> None:
    spec = QAASpec(num_qubits=4, num_layers=2, entangler="native",
                   native_pairs=((0, 2), (2, 1), (1, 3)))
    qaa = build_qaa_circuit(spec, embedding_order=(2, 0, 3, 1))
    assert qaa.plan.order == (2, 0, 3, 1)
    assert qaa.pairs == ((0, 2), (2, 1), (1, 3))
    rng = np.random.default_rng(5)
    x, theta = rng.normal(size=16), rng.normal(size=spec.num_parameters)
    expected = Statevector(x / np.linalg.norm(x)).evolve(
        _reference_ansatz(4, 2, "ry", [(0, 2), (2, 1), (1, 3)], theta))
    np.testing.assert_allclose(Statevector(qaa.bind(x, theta)).data, expected.data, atol=1e-8)


@pytest.mark.parametrize("rotations", ROTATIONS)
def test_build_ansatz_gate_order_and_parameters(rotations: str) -> None:
    spec = QAASpec(num_qubits=3, num_layers=2, rotations=rotations)
    qc = build_ansatz(spec)
    assert qc.num_parameters == spec.num_parameters == 6 * len(REFERENCE_SETS[rotations])
    layer = [*(name for _ in range(3) for name in REFERENCE_SETS[rotations]), "cx", "cx", "cx"]
    assert [inst.operation.name for inst in qc.data] == layer * 2
    # theta[l, q, k] drives gate k of qubit q in layer l (C-order flattening)
    rots = [inst for inst in qc.data if inst.operation.name != "cx"]
    order = np.ndindex(spec.parameter_shape)
    expected = [(f"theta[{i}]", q) for i, (_, q, _) in enumerate(order)]
    assert [(inst.operation.params[0].name, qc.find_bit(inst.qubits[0]).index)
            for inst in rots] == expected


def test_build_ansatz_native_needs_pairs() -> None:
    with pytest.raises(ConfigError, match="native"):
        build_ansatz(QAASpec(num_qubits=3, entangler="native"))
    assert build_ansatz(QAASpec(num_qubits=3, entangler="native"),
                        pairs=[(0, 1)]).count_ops()["cx"] == 2


def test_bind_checks_lengths() -> None:
    spec = QAASpec(num_qubits=2, num_layers=1)
    qaa = build_qaa_circuit(spec)
    with pytest.raises(ConfigError, match="theta has 1 values"):
        bind(qaa.circuit, np.zeros(3), np.zeros(1))
