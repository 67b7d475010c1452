"""Amplitude embedding: exactness, CNOT counts, orders, approximate plans."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import Statevector

from qaa_hw.circuits.embedding import exact_plan, simulate_embedding, walsh_hadamard
from qaa_hw.circuits.plans import (
    approx_plan,
    embedding_angles,
    embedding_angles_batch,
    plan_embedding,
    synthetic_calibration,
)
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.errors import ConfigError


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_exact_embedding_prepares_the_normalised_vector(n: int) -> None:
    rng = np.random.default_rng(n)
    spec = QAASpec(num_qubits=n)
    for _ in range(3):
        x = rng.normal(size=2**n) * 3.0  # signed entries
        plan = plan_embedding(spec)
        qc = plan.circuit(embedding_angles(spec, x))
        np.testing.assert_allclose(Statevector(qc).data, _unit(x), atol=1e-10)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("merge", [True, False])
def test_any_order_is_exact(n: int, merge: bool) -> None:
    rng = np.random.default_rng(10 + n)
    for _ in range(3):
        order = tuple(int(q) for q in rng.permutation(n))
        plan = exact_plan(n, order=order, merge=merge)
        assert plan.order == order
        x = rng.normal(size=2**n)
        qc = plan.circuit(plan.angles(x))
        np.testing.assert_allclose(Statevector(qc).data, _unit(x), atol=1e-10)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_cnot_counts(n: int) -> None:
    merged = exact_plan(n)
    textbook = exact_plan(n, merge=False)
    assert merged.circuit().count_ops().get("cx", 0) == 2**n - n - 1
    assert textbook.circuit().count_ops().get("cx", 0) == max(2**n - 2, 0)
    assert merged.num_cnots == 2**n - n - 1
    assert merged.num_angles == textbook.num_angles == 2**n - 1
    # every CNOT of a multiplexor runs between one of its controls and its target
    for m in merged.multiplexors:
        assert all(c in m.controls and t == m.target for c, t in m.cnot_pairs())


def test_zero_vector_and_padding() -> None:
    spec = QAASpec(num_qubits=3)
    plan = plan_embedding(spec)
    zero = Statevector(plan.circuit(embedding_angles(spec, np.zeros(8)))).data
    np.testing.assert_allclose(zero, np.eye(8)[0], atol=1e-12)
    short = np.array([0.5, -1.0, 0.0, 2.0, -0.25])
    padded = np.zeros(8)
    padded[:5] = short
    state = Statevector(plan.circuit(embedding_angles(spec, short))).data
    np.testing.assert_allclose(state, _unit(padded), atol=1e-12)
    # a single negative basis vector keeps its sign
    e = np.zeros(8)
    e[5] = -2.0
    np.testing.assert_allclose(
        Statevector(plan.circuit(embedding_angles(spec, e))).data, -np.eye(8)[5], atol=1e-12
    )


def test_batched_angles_match_single() -> None:
    spec = QAASpec(num_qubits=4)
    x = np.random.default_rng(3).normal(size=(6, 16))
    batch = embedding_angles_batch(spec, x)
    assert batch.shape == (6, 15)
    for i in range(6):
        np.testing.assert_allclose(batch[i], embedding_angles(spec, x[i]), atol=1e-14)
    states = simulate_embedding(plan_embedding(spec), batch)
    np.testing.assert_allclose(states, x / np.linalg.norm(x, axis=1, keepdims=True), atol=1e-12)


def test_invalid_inputs() -> None:
    spec = QAASpec(num_qubits=2)
    with pytest.raises(ConfigError, match="exceeds 2\\^2"):
        embedding_angles(spec, np.ones(5))
    with pytest.raises(ConfigError, match="NaN"):
        embedding_angles(spec, np.array([1.0, np.nan]))
    with pytest.raises(ConfigError, match="not a permutation"):
        exact_plan(3, order=(0, 0, 1))
    with pytest.raises(ConfigError, match="1-D"):
        embedding_angles(spec, np.ones((2, 4)))


def test_walsh_hadamard_matches_matrix() -> None:
    v = np.random.default_rng(0).normal(size=(2, 8))
    h = np.array([[(-1) ** bin(i & j).count("1") for j in range(8)] for i in range(8)])
    np.testing.assert_allclose(walsh_hadamard(v), v @ h.T, atol=1e-12)


def test_approx_reaches_its_fidelity_on_compressible_inputs() -> None:
    n = 6
    calib = synthetic_calibration(n, decay=2.0, num_samples=256)
    plan = approx_plan(n, fidelity=0.99, calibration=calib)
    assert plan.kind == "approx"
    assert plan.num_cnots < exact_plan(n).num_cnots
    alpha = plan.angles(calib)
    states = simulate_embedding(plan, alpha)
    unit = calib / np.linalg.norm(calib, axis=1, keepdims=True)
    fid = np.sum(states * unit, axis=1) ** 2
    assert fid.mean() >= 0.99
    assert fid.mean() == pytest.approx(plan.fidelity, abs=1e-12)
    # the circuit itself prepares the simulated state
    qc = plan.circuit(alpha[0])
    np.testing.assert_allclose(Statevector(qc).data, states[0], atol=1e-10)
    assert qc.count_ops().get("cx", 0) == plan.num_cnots


def test_approx_default_calibration_states_its_fidelity() -> None:
    spec = QAASpec(num_qubits=4, embedding="approx", embedding_fidelity=0.99)
    plan = plan_embedding(spec)
    calib = synthetic_calibration(4)
    fid = plan.fit(calib)[1]
    assert plan.fidelity >= 0.99
    assert fid.mean() == pytest.approx(plan.fidelity, abs=1e-12)


def test_approx_low_target_drops_cnots() -> None:
    n = 4
    calib = synthetic_calibration(n, num_samples=256)
    plan = approx_plan(n, fidelity=0.8, calibration=calib)
    assert plan.num_cnots < exact_plan(n).num_cnots
    assert plan.fidelity >= 0.8
    states = simulate_embedding(plan, plan.angles(calib))
    unit = calib / np.linalg.norm(calib, axis=1, keepdims=True)
    assert np.mean(np.sum(states * unit, axis=1) ** 2) == pytest.approx(plan.fidelity, abs=1e-12)
