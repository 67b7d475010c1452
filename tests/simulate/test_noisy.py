"""The torch noisy engines against Qiskit Aer's density-matrix simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _noisy_fixtures import BRISBANE_PATH, brisbane, compiled_adapter, random_inputs
from qiskit.circuit import Parameter, ParameterVector, QuantumCircuit

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.devices.model import restrict
from qaa_hw.errors import SimulationError
from qaa_hw.simulate.executors import AerExecutor
from qaa_hw.simulate.noise import noise_spec, ptm_matrix
from qaa_hw.simulate.noisy import (
    DensityMatrixEngine,
    FastNoisyEngine,
)
from qaa_hw.simulate.program import build_program
from qaa_hw.simulate.results import sample_frequencies
from qaa_hw.simulate.statevector import simulate_qaa

TOL = 1e-6


def _ideal(spec: QAASpec, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The ideal QAA readout from the statevector engine (an independent implementation)."""
    th = torch.as_tensor(theta).reshape(spec.parameter_shape)
    return simulate_qaa(spec, torch.as_tensor(x), th).numpy()


@pytest.fixture(scope="module", params=[2, 3, 4])
def adapter(request: pytest.FixtureRequest):
    spec = QAASpec(num_qubits=request.param, num_layers=2)
    return compiled_adapter(spec, brisbane(), BRISBANE_PATH)


@pytest.fixture(scope="module")
def adapter4():
    return compiled_adapter(QAASpec(num_qubits=4, num_layers=2), brisbane(), BRISBANE_PATH)


@pytest.fixture(scope="module")
def aer4(adapter4):
    x, theta = random_inputs(adapter4.spec, 12, seed=1)
    return x, theta, AerExecutor(adapter4).run(x, theta, density_matrices=True)


def test_program_uses_only_active_qubits(adapter4):
    program = build_program(adapter4, noise_spec(adapter4.device, adapter4.active_qubits))
    assert program.num_qubits == len(adapter4.active_qubits) < adapter4.device.num_qubits
    assert set(program.physical_qubits) == set(adapter4.active_qubits)
    assert program.noisy


@pytest.mark.parametrize("compiled_kernels", [True, False])
def test_fast_exact_matches_aer(adapter, compiled_kernels):
    x, theta = random_inputs(adapter.spec, 6, seed=0)
    reference = AerExecutor(adapter).run(x, theta, density_matrices=True)
    engine = FastNoisyEngine(adapter, prep_noise="exact")
    engine.compiled_kernels = compiled_kernels
    z = engine.expectations(x, theta).numpy()
    probs = engine.probabilities(x, theta).numpy()
    assert np.abs(z - reference.expectations.numpy()).max() < TOL
    assert np.abs(probs - reference.probabilities.numpy()).max() < TOL
    # the noise is not negligible: the check would catch a noiseless engine
    ideal = _ideal(adapter.spec, x, theta)
    assert np.abs(ideal - reference.expectations.numpy()).max() > 100 * TOL


def test_density_matrix_engine_matches_aer(adapter4, aer4):
    x, theta, reference = aer4
    result = DensityMatrixEngine(adapter4).exact(x, theta, density_matrices=True)
    assert np.abs(result.expectations.numpy() - reference.expectations.numpy()).max() < TOL
    assert np.abs(result.probabilities.numpy() - reference.probabilities.numpy()).max() < TOL
    assert np.abs(result.density_matrices.numpy() - reference.density_matrices.numpy()).max() < TOL


@pytest.mark.parametrize("mode", ["exact", "effective", "none"])
def test_noiseless_device_gives_ideal_qaa_output(mode):
    spec = QAASpec(num_qubits=3, num_layers=2, rotations="ry_rz")
    adapter = compiled_adapter(spec, brisbane(), BRISBANE_PATH, noise_scale=0.0)
    assert noise_spec(adapter.device, adapter.active_qubits).is_ideal
    x, theta = random_inputs(spec, 5, seed=3)
    ideal = _ideal(spec, x, theta)
    engine = FastNoisyEngine(adapter, prep_noise=mode)
    assert np.abs(engine.expectations(x, theta).numpy() - ideal).max() < 1e-9
    dm = DensityMatrixEngine(adapter).exact(x, theta, density_matrices=True)
    assert np.abs(dm.expectations.numpy() - ideal).max() < 1e-9
    assert dm.density_matrices is not None
    purity = torch.einsum("bij,bji->b", dm.density_matrices, dm.density_matrices).real
    assert torch.allclose(purity, torch.ones_like(purity))


def test_probs_readout_matches_aer():
    spec = QAASpec(num_qubits=3, num_layers=1, readout="probs")
    adapter = compiled_adapter(spec, brisbane(), BRISBANE_PATH)
    x, theta = random_inputs(spec, 4, seed=5)
    reference = AerExecutor(adapter).run(x, theta, density_matrices=True)
    for mode in ("exact", "effective"):
        result = FastNoisyEngine(adapter, prep_noise=mode).run(x, theta)
        out = result.outputs(adapter.spec.readout).numpy()
        assert out.shape == (4, 8)
        assert np.allclose(out.sum(1), 1.0)
        if mode == "exact":
            assert np.abs(out - reference.probabilities.numpy()).max() < TOL


def test_compiled_kernels_equal_the_torch_path_on_many_inputs():
    # 70 inputs: two blocks of inputs, the last one ragged; whole circuit with theta.
    adapter = compiled_adapter(QAASpec(num_qubits=5, num_layers=1), brisbane(), BRISBANE_PATH)
    x, theta = random_inputs(adapter.spec, 70, seed=4)
    compiled = DensityMatrixEngine(adapter)
    reference = DensityMatrixEngine(adapter)
    reference.compiled_kernels = False
    fast, slow = compiled.run(x, theta).probabilities, reference.run(x, theta).probabilities
    assert fast is not None and slow is not None
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), atol=1e-12)
    # a gradient in theta is still available (the torch path runs then)
    th = torch.as_tensor(theta, dtype=torch.float64).requires_grad_(True)
    compiled.run(x[:2], th).expectations.sum().backward()
    assert th.grad is not None and torch.isfinite(th.grad).all()


def test_effective_prep_noise_is_close_and_better_than_none(adapter4, aer4):
    x, theta, reference = aer4
    effective = FastNoisyEngine(adapter4, prep_noise="effective", fit_samples=64)
    none = FastNoisyEngine(adapter4, prep_noise="none")
    err_eff = np.abs(effective.expectations(x, theta).numpy() - reference.expectations.numpy())
    err_none = np.abs(none.expectations(x, theta).numpy() - reference.expectations.numpy())
    assert effective.effective is not None
    assert 0.5 < effective.effective.mean_fidelity < 1.0
    assert err_eff.max() < 0.05
    assert np.median(err_eff) < 0.25 * np.median(err_none)


@pytest.mark.parametrize("mode", ["exact", "effective", "none"])
def test_gradient_in_theta_matches_finite_differences(adapter4, mode):
    engine = FastNoisyEngine(adapter4, prep_noise=mode, fit_samples=16)
    x, theta0 = random_inputs(adapter4.spec, 3, seed=7)
    theta = torch.tensor(theta0, requires_grad=True)
    weights = torch.linspace(-1.0, 1.0, adapter4.spec.num_qubits, dtype=torch.float64)
    loss = (engine.expectations(x, theta) * weights).sum()
    (grad,) = torch.autograd.grad(loss, theta)
    eps = 1e-6
    for j in (0, 3, adapter4.spec.num_parameters - 1):
        shift = np.zeros_like(theta0)
        shift[j] = eps
        up = (engine.expectations(x, theta0 + shift) * weights).sum()
        down = (engine.expectations(x, theta0 - shift) * weights).sum()
        assert float(grad[j]) == pytest.approx(float(up - down) / (2 * eps), abs=1e-7)


def test_shots_converge_to_exact_values(adapter4):
    engine = FastNoisyEngine(adapter4, prep_noise="exact")
    x, theta = random_inputs(adapter4.spec, 3, seed=11)
    exact = engine.expectations(x, theta)
    shots = 20000
    sampled = engine.run(x, theta, shots=shots, seed=4)
    sigma = torch.sqrt((1 - exact**2) / shots)
    assert torch.all((sampled.expectations - exact).abs() <= 5 * sigma + 1e-12)
    again = engine.run(x, theta, shots=shots, seed=4)
    assert torch.equal(again.expectations, sampled.expectations)
    assert sampled.probabilities is not None
    assert torch.allclose(sampled.probabilities.sum(1), torch.ones(3, dtype=torch.float64))


def test_sampling_keeps_correlations():
    # |00> + |11>: Z0 and Z1 are perfectly correlated in every shot
    probs = torch.tensor([[0.5, 0.0, 0.0, 0.5]], dtype=torch.float64)
    freq = sample_frequencies(probs, 1000, generator=torch.Generator().manual_seed(0))
    assert float(freq[0, 1] + freq[0, 2]) == 0.0


def test_readout_confusion_is_aers(adapter4):
    from qaa_hw.devices.qiskit_convert import to_aer_noise_model

    program = build_program(adapter4, noise_spec(adapter4.device, adapter4.active_qubits))
    model = to_aer_noise_model(restrict(adapter4.device, adapter4.active_qubits))
    aer_readout = [model._local_readout_errors[(q,)].probabilities for q in program.final_local]
    assert np.allclose(program.readout.numpy(), np.asarray(aer_readout))
    assert np.all(program.readout.numpy()[:, 0, 1] > 0)


def test_channels_are_aer_errors(adapter4):
    from qaa_hw.devices.qiskit_convert import to_aer_noise_model

    active = adapter4.active_qubits
    channels = noise_spec(adapter4.device, active)
    model = to_aer_noise_model(restrict(adapter4.device, active))
    error = model._local_quantum_errors["ecr"]
    (qargs, quantum_error), *_ = error.items()
    got = channels.gate_error("ecr", qargs)
    assert got is not None
    assert np.allclose(got.numpy(), ptm_matrix(quantum_error))
    assert channels.gate_error("rz", (0,)) is None  # virtual gate: ideal


def test_invalid_requests_raise(adapter4):
    with pytest.raises(SimulationError, match="prep_noise='fast' is not valid"):
        FastNoisyEngine(adapter4, prep_noise="fast")  # type: ignore[arg-type]
    engine = FastNoisyEngine(adapter4, prep_noise="none")
    with pytest.raises(SimulationError, match="theta has 3 values"):
        engine.expectations(np.ones(16), np.zeros(3))
    with pytest.raises(SimulationError, match="shots=-5 is not valid"):
        engine.run(np.ones(16), np.zeros(adapter4.spec.num_parameters), shots=-5)
    with pytest.raises(SimulationError, match="invalid input vectors"):
        engine.expectations(np.ones(17), np.zeros(adapter4.spec.num_parameters))


def _adapter_with(circuit: QuantumCircuit, spec: QAASpec):
    from dataclasses import replace

    base = compiled_adapter(spec, brisbane(), BRISBANE_PATH)
    return replace(base, circuit=circuit, initial_layout=(0,), final_layout=(0,))


def test_non_affine_angle_is_rejected():
    spec = QAASpec(num_qubits=1, num_layers=1)
    theta = ParameterVector("theta", 1)
    qc = QuantumCircuit(brisbane().num_qubits)
    qc.barrier(0, label="qaa:ansatz")
    qc.rz(theta[0] * theta[0], 0)
    with pytest.raises(SimulationError, match="not an affine function"):
        build_program(_adapter_with(qc, spec), None)
    qc2 = QuantumCircuit(brisbane().num_qubits)
    qc2.rz(Parameter("phi"), 0)
    with pytest.raises(SimulationError, match="not part of a ParameterVector"):
        build_program(_adapter_with(qc2, spec), None)


def test_without_barrier_the_preparation_is_inferred(adapter4):
    from dataclasses import replace

    stripped = adapter4.circuit.copy_empty_like()
    for inst in adapter4.circuit.data:
        if inst.operation.name != "barrier":
            stripped.append(inst)
    adapter = replace(adapter4, circuit=stripped)
    x, theta = random_inputs(adapter.spec, 4, seed=2)
    with_barrier = FastNoisyEngine(adapter4).expectations(x, theta)
    without = FastNoisyEngine(adapter).expectations(x, theta)
    assert torch.allclose(with_barrier, without, atol=1e-12)


def test_theta_before_alpha_on_a_wire_is_rejected():
    spec = QAASpec(num_qubits=1, num_layers=1)
    theta = ParameterVector("theta", 1)
    alpha = ParameterVector("alpha", 1)
    qc = QuantumCircuit(brisbane().num_qubits)
    qc.rz(theta[0], 0)
    qc.sx(0)
    qc.rz(alpha[0] + math.pi, 0)
    with pytest.raises(SimulationError, match=r"theta\[0\] is part of the state preparation"):
        build_program(_adapter_with(qc, spec), None)


def test_approximate_embedding_uses_the_simulated_ideal_preparation():
    spec = QAASpec(num_qubits=4, num_layers=1, embedding="approx", embedding_fidelity=0.8)
    adapter = compiled_adapter(spec, brisbane(), BRISBANE_PATH)
    x, theta = random_inputs(spec, 4, seed=9)
    reference = AerExecutor(adapter).run(x, theta, density_matrices=True)
    exact = FastNoisyEngine(adapter, prep_noise="exact")
    assert np.abs(exact.expectations(x, theta).numpy() - reference.expectations.numpy()).max() < TOL
    noiseless = compiled_adapter(spec, brisbane(), BRISBANE_PATH, noise_scale=0.0)
    none = FastNoisyEngine(noiseless, prep_noise="none")
    assert none.embedding_map is None  # an approximate preparation is not linear in x
    dm = DensityMatrixEngine(noiseless).run(x, theta).expectations.numpy()
    assert np.abs(none.expectations(x, theta).numpy() - dm).max() < 1e-10


def test_an_instruction_outside_the_gate_table_is_refused(adapter4):
    from dataclasses import replace

    circuit = adapter4.circuit.copy()
    circuit.delay(100, adapter4.active_qubits[0], unit="ns")
    with pytest.raises(SimulationError, match=r"gate 'delay' is not a native instruction; "
                                              r"accepted: rz, sx, x, id, cx, ecr, cz \(the "
                                              r"engines run compiled circuits without"):
        build_program(replace(adapter4, circuit=circuit), None)


def test_sampled_counts_are_multinomial():
    # 4,000 rows of one distribution: mean and covariance of the frequencies against the
    # multinomial's (p, (diag(p) - p p^T) / shots) and against numpy's multinomial draws
    p = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05, 0.0, 0.0, 0.0], dtype=torch.float64)
    shots, rows = 50, 4000
    freq = sample_frequencies(p.expand(rows, -1), shots,
                              generator=torch.Generator().manual_seed(1)).numpy()
    assert np.allclose(freq.sum(1), 1.0) and np.all(freq[:, 5:] == 0.0)
    assert np.allclose(np.round(freq * shots), freq * shots)  # whole counts
    cov = (np.diag(p.numpy()) - np.outer(p.numpy(), p.numpy())) / shots
    se = np.sqrt(np.diag(cov) / rows)
    assert np.all(np.abs(freq.mean(0) - p.numpy()) <= 5 * se + 1e-12)
    ref = np.random.default_rng(1).multinomial(shots, p.numpy(), size=rows) / shots
    for got in (np.cov(freq.T), np.cov(ref.T)):
        assert np.allclose(got, cov, atol=6e-4)
