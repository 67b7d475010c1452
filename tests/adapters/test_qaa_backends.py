"""QAA backends: noisy quadratic form vs the engine, λ = 0 vs ideal, shots, ZNE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qaa_hw.adapters.backends import (
    IdealBackend,
    NoisyBackend,
    normalised_rows,
    quadratic_readout,
)
from qaa_hw.adapters.mitigated import ZNEBackend, extrapolation_weights
from qaa_hw.adapters.qaa import QAAConfig, inject_qaa, qaa_layers, set_qaa_backend
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.cache import CompileCache
from qaa_hw.errors import ConfigError
from qaa_hw.finetune.models import tiny_model
from qaa_hw.mitigation.techniques import ZNE

SPEC_Z = QAASpec(num_qubits=4, num_layers=2)
SPEC_P = QAASpec(num_qubits=3, num_layers=2, readout="probs", rotations="ry_rz")


@pytest.fixture(scope="module")
def cache() -> CompileCache:
    return CompileCache()


@pytest.fixture(scope="module")
def compiled_z(cache):
    return cache.get(SPEC_Z, "ibm_brisbane")


@pytest.fixture(scope="module")
def compiled_p(cache):
    return cache.get(SPEC_P, "ibm_brisbane")


def _inputs(spec: QAASpec, rows: int = 7, width: int | None = None, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, width or spec.dim, generator=gen, dtype=torch.float64)
    theta = (torch.rand(spec.parameter_shape, generator=gen, dtype=torch.float64) - 0.5) * 4
    return x, theta


@pytest.mark.parametrize("prep", ["effective", "none"])
@pytest.mark.parametrize("which", ["z", "probs"])
def test_quadratic_form_equals_engine(request, prep: str, which: str) -> None:
    compiled = request.getfixturevalue("compiled_z" if which == "z" else "compiled_p")
    spec = compiled.spec
    backend = NoisyBackend(compiled, noise_scale=1.0, prep_noise=prep)
    assert backend.uses_quadratic_form
    x, theta = _inputs(spec, width=spec.dim - 3)
    fast = backend.readout(spec, x, theta)
    direct = backend.engine_outputs(x, theta, spec.readout)
    np.testing.assert_allclose(fast.numpy(), direct.numpy(), atol=1e-10)


def test_quadratic_gradients_match_engine_and_reach_inputs(compiled_z) -> None:
    backend = NoisyBackend(compiled_z, noise_scale=1.0)
    x, theta = _inputs(SPEC_Z)
    theta_a = theta.clone().requires_grad_(True)
    x_a = x.clone().requires_grad_(True)
    backend.readout(SPEC_Z, x_a, theta_a).sum().backward()
    theta_b = theta.clone().requires_grad_(True)
    backend.engine.expectations(x, theta_b).sum().backward()
    np.testing.assert_allclose(theta_a.grad.numpy(), theta_b.grad.reshape(theta.shape).numpy(),
                               atol=1e-10)
    assert x_a.grad is not None and float(x_a.grad.abs().sum()) > 0


@pytest.mark.parametrize("which", ["z", "probs"])
def test_noise_scale_zero_equals_ideal(request, which: str) -> None:
    compiled = request.getfixturevalue("compiled_z" if which == "z" else "compiled_p")
    spec = compiled.spec
    x, theta = _inputs(spec, rows=11, width=spec.dim)
    ideal = IdealBackend().readout(spec, x, theta)
    for backend in (NoisyBackend(compiled, noise_scale=0.0),
                    ZNEBackend(compiled, noise_scale=0.0)):
        np.testing.assert_allclose(backend.readout(spec, x, theta).numpy(), ideal.numpy(),
                                   atol=1e-12)


def test_zne_reduces_the_error_and_uses_mitiq_weights(compiled_z) -> None:
    weights = extrapolation_weights(ZNE())
    np.testing.assert_allclose(weights, [15 / 8, -10 / 8, 3 / 8], atol=1e-12)
    x, theta = _inputs(SPEC_Z, rows=32)
    ideal = IdealBackend().readout(SPEC_Z, x, theta)
    noisy = NoisyBackend(compiled_z, noise_scale=1.0).readout(SPEC_Z, x, theta)
    zne = ZNEBackend(compiled_z, noise_scale=1.0).readout(SPEC_Z, x, theta)
    err_noisy = float((noisy - ideal).abs().mean())
    err_zne = float((zne - ideal).abs().mean())
    assert err_zne < 0.5 * err_noisy
    with pytest.raises(ConfigError, match="exponential"):
        extrapolation_weights(ZNE(factory="exponential", scale_factors=(1, 3, 5)))


def test_shots_sample_the_exact_distribution(compiled_z) -> None:
    backend = NoisyBackend(compiled_z, noise_scale=1.0, shots=20000, seed=3)
    x, theta = _inputs(SPEC_Z, rows=5)
    exact = NoisyBackend(compiled_z, noise_scale=1.0).readout(SPEC_Z, x, theta)
    with torch.no_grad():
        first = backend.readout(SPEC_Z, x, theta)
        backend.clear_cache()
        again = backend.readout(SPEC_Z, x, theta)
    assert torch.equal(first, again)
    np.testing.assert_allclose(first.numpy(), exact.numpy(), atol=0.03)
    with pytest.raises(ConfigError, match="evaluate only"):
        backend.readout(SPEC_Z, x, theta.clone().requires_grad_(True))


def test_exact_prep_refuses_input_gradients(compiled_z) -> None:
    backend = NoisyBackend(compiled_z, noise_scale=1.0, prep_noise="exact")
    assert not backend.uses_quadratic_form
    x, theta = _inputs(SPEC_Z, rows=2)
    out = backend.readout(SPEC_Z, x, theta)
    assert out.shape == (2, 4)
    with pytest.raises(ConfigError, match="no gradient with respect to the input"):
        backend.readout(SPEC_Z, x.clone().requires_grad_(True), theta)
    with pytest.raises(ConfigError, match="no quadratic form"):
        backend.quadratic_form(theta, "z")


def test_backend_rejects_other_spec(compiled_z) -> None:
    backend = NoisyBackend(compiled_z)
    x, theta = _inputs(SPEC_P)
    with pytest.raises(ConfigError, match="compiled for"):
        backend.readout(SPEC_P, x, theta)


def test_bad_backend_options(compiled_z) -> None:
    with pytest.raises(ConfigError, match="prep_noise='fast'"):
        NoisyBackend(compiled_z, prep_noise="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="shots=0"):
        NoisyBackend(compiled_z, shots=0)


def test_normalised_rows_maps_zero_rows_to_ground_state() -> None:
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    out = normalised_rows(x, 4)
    assert torch.equal(out[0], torch.tensor([1.0, 0.0, 0.0, 0.0]))
    np.testing.assert_allclose(out[1].numpy(), [0.6, 0.8, 0.0, 0.0], atol=1e-7)
    q = torch.eye(4).repeat(2, 1, 1)
    np.testing.assert_allclose(quadratic_readout(x, q).numpy(), np.ones((2, 2)), atol=1e-6)


def test_model_logits_equal_under_ideal_and_noise_scale_zero(cache) -> None:
    model, tok = tiny_model(seed=2)
    config = QAAConfig(num_qubits=4, num_layers=2)
    inject_qaa(model, config)
    with torch.no_grad():
        for _, layer in qaa_layers(model):
            layer.qaa_up.normal_(0, 0.5)
    batch = tok(["name[Blue Lantern]"], return_tensors="pt")
    with torch.no_grad():
        ideal = model(**batch).logits
        compiled = cache.get(config.spec, "ibm_brisbane")
        set_qaa_backend(model, NoisyBackend(compiled, noise_scale=0.0))
        zero = model(**batch).logits
        set_qaa_backend(model, NoisyBackend(compiled, noise_scale=1.0))
        noisy = model(**batch).logits
    np.testing.assert_allclose(zero.numpy(), ideal.numpy(), atol=1e-5)
    assert float((noisy - ideal).abs().max()) > 1e-4
