"""One physics: every path computes the same noisy outputs for the same compiled adapter.

The adapter is compiled by qaa_hw for ibm_brisbane and google_weber (n = 3 and 4, L = 2), with
idle relaxation on (the default everywhere). The in-house engines insert the relaxation channel
of each scheduled idle window; the Aer reference runs the scheduled circuit with ``delay``
instructions that Aer's own noise model relaxes; the mitigation backend lowers the Cirq form of
the bound circuit and times it again. They must agree to round-off. Cirq's noise model
(relaxation per moment) is a different model and agrees within :data:`CIRQ_TOL`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from qaa_hw.adapters.backends import NoisyBackend
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.mitigation.api import Mitigator
from qaa_hw.mitigation.techniques import ZNE
from qaa_hw.simulate.executors import AerExecutor, CirqExecutor
from qaa_hw.simulate.noise import noise_spec
from qaa_hw.simulate.noisy import DensityMatrixEngine, FastNoisyEngine

#: Agreement of the exact paths (Aer rounds at ~3e-9 on google_weber's circuits).
TOL = 1e-8
#: Cirq relaxes idle qubits per moment (a moment lasts its longest gate) where the others use
#: the ASAP schedule; measured max |dZ| on these cases: ``benchmarks/one_physics.py``.
CIRQ_TOL = 0.03

#: The ``effective`` preparation-noise mode (a fitted x-independent channel) against the same
#: reference (measured on these cases: ``benchmarks/one_physics.py``).
EFFECTIVE_TOL = 0.05

CASES = [(device, n) for device in ("ibm_brisbane", "google_weber") for n in (3, 4)]


@functools.cache
def _compiled(device: str, n: int) -> CompiledAdapter:
    return compile_adapter(QAASpec(num_qubits=n, num_layers=2), load_device(device), seed=0)


def _problem(compiled: CompiledAdapter, batch: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((batch, compiled.spec.dim))
    return x, rng.uniform(-np.pi, np.pi, compiled.spec.num_parameters)


@functools.cache
def _aer(device: str, n: int) -> np.ndarray:
    compiled = _compiled(device, n)
    x, theta = _problem(compiled)
    return AerExecutor(compiled).run(x, theta).expectations.numpy()


@pytest.mark.parametrize(("device", "n"), CASES)
def test_in_house_engines_equal_the_scheduled_aer_reference(device: str, n: int) -> None:
    compiled = _compiled(device, n)
    x, theta = _problem(compiled)
    reference = _aer(device, n)
    fast = FastNoisyEngine(compiled, prep_noise="exact").expectations(x, theta).numpy()
    exact = DensityMatrixEngine(compiled).run(x, theta).expectations.numpy()
    training = NoisyBackend(compiled, prep_noise="exact").readout(
        compiled.spec, torch.as_tensor(x), torch.as_tensor(theta)
    ).numpy()
    for got in (fast, exact, training):
        assert np.abs(got - reference).max() < TOL


@pytest.mark.parametrize(("device", "n"), CASES)
def test_effective_mode_error_against_the_reference(device: str, n: int) -> None:
    compiled = _compiled(device, n)
    x, theta = _problem(compiled)
    effective = FastNoisyEngine(compiled, prep_noise="effective").expectations(x, theta).numpy()
    error = np.abs(effective - _aer(device, n)).max()
    assert 1e-6 < error < EFFECTIVE_TOL  # an approximation, within its documented error


@pytest.mark.parametrize(("device", "n"), CASES)
def test_mitigation_backend_unmitigated_value_is_the_same(device: str, n: int) -> None:
    compiled = _compiled(device, n)
    x, theta = _problem(compiled)
    mitigator = Mitigator(compiled)
    unmitigated = np.stack([mitigator.estimate(row, theta, ZNE()).unmitigated for row in x])
    assert np.abs(unmitigated - _aer(device, n)).max() < TOL


@pytest.mark.parametrize(("device", "n"), CASES)
def test_cirq_reference_within_documented_tolerance(device: str, n: int) -> None:
    compiled = _compiled(device, n)
    x, theta = _problem(compiled)
    cirq_values = CirqExecutor(compiled).run(x, theta).expectations.numpy()
    assert np.abs(cirq_values - _aer(device, n)).max() < CIRQ_TOL


def test_idle_relaxation_is_on_by_default_and_can_be_turned_off() -> None:
    compiled = _compiled("ibm_brisbane", 4)
    x, theta = _problem(compiled)
    off = noise_spec(compiled.device, compiled.active_qubits, idle=False)
    fast_off = FastNoisyEngine(compiled, noise=off).expectations(x, theta).numpy()
    aer_off = AerExecutor(compiled, noise=off).run(x, theta).expectations.numpy()
    assert np.abs(fast_off - aer_off).max() < TOL
    # the idle windows of this adapter move <Z> by about 0.02 on average
    assert np.abs(fast_off - _aer("ibm_brisbane", 4)).mean() > 5e-3


@pytest.mark.parametrize("fold", [3, 5])
def test_engine_folding_equals_mitiq_fold_all_on_the_mitigation_backend(fold: int) -> None:
    compiled = _compiled("ibm_brisbane", 3)
    x, theta = _problem(compiled, batch=1)
    mitigator = Mitigator(compiled)
    estimate = mitigator.estimate(x[0], theta, ZNE(scaling="fold_all"))
    folded = estimate.details["scaled_values"][(1, 3, 5).index(fold)]
    engine = FastNoisyEngine(compiled, fold=fold).expectations(x, theta).numpy()[0]
    assert np.abs(engine - np.asarray(folded)).max() < TOL


@pytest.mark.parametrize("scaling", ["fold_random", "pulse_stretch"])
def test_fine_tuning_zne_equals_the_mitiq_path(scaling: str) -> None:
    """ZNEBackend (engine, exact prep) and Mitigator (Mitiq on Aer) amplify and extrapolate
    the same way: same scaled values, same mitigated outputs."""
    from qaa_hw.adapters.mitigated import ZNEBackend

    compiled = _compiled("ibm_brisbane", 3)
    x, theta = _problem(compiled, batch=1)
    technique = ZNE(scaling=scaling)
    estimate = Mitigator(compiled).estimate(x[0], theta, technique)
    backend = ZNEBackend(compiled, technique=technique, prep_noise="exact")
    xt, tt = torch.as_tensor(x), torch.as_tensor(theta)
    scaled = [b.readout(compiled.spec, xt, tt).numpy()[0] for b in backend.scaled]
    assert np.abs(np.array(scaled) - np.array(estimate.details["scaled_values"])).max() < TOL
    mitigated = backend.readout(compiled.spec, xt, tt).numpy()[0]
    assert np.abs(mitigated - estimate.mitigated).max() < TOL


def test_pulse_stretch_scales_gates_and_relaxation_never_readout() -> None:
    from qaa_hw.devices.model import scale_noise

    compiled = _compiled("ibm_brisbane", 3)
    spec = noise_spec(compiled.device, compiled.active_qubits)
    stretched = spec.stretched(3.0)
    assert torch.equal(stretched.readout, spec.readout)
    assert all(
        math.isclose(a.t1_s, 3 * b.t1_s)
        for a, b in zip(spec.device.qubits, stretched.device.qubits, strict=True)
    )
    # readout alone: stretching changes nothing
    readout_only = scale_noise(compiled.device, 0.0, readout=False)
    spec0 = noise_spec(readout_only, compiled.active_qubits)
    x, theta = _problem(compiled)
    base = FastNoisyEngine(compiled, noise=spec0).expectations(x, theta)
    more = FastNoisyEngine(compiled, noise=spec0.stretched(5.0)).expectations(x, theta)
    assert torch.allclose(base, more, atol=1e-12)
    assert not torch.allclose(base, FastNoisyEngine(compiled, noise=False).expectations(x, theta))


@pytest.mark.parametrize(
    ("technique", "match"),
    [
        (ZNE(scaling="fold_global"), r"fold_global.*accepted here: fold_random, fold_all"),
        (ZNE(scaling="fold_random", scale_factors=(1, 2, 3)), r"scale factor 2 .*odd integers"),
    ],
)
def test_fine_tuning_zne_refuses_what_the_engines_cannot_fold(technique: ZNE, match: str) -> None:
    from qaa_hw.adapters.mitigated import ZNEBackend
    from qaa_hw.errors import ConfigError

    with pytest.raises(ConfigError, match=match):
        ZNEBackend(_compiled("ibm_brisbane", 3), technique=technique)
