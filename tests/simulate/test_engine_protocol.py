"""Every engine follows one protocol: ``run(x, theta, *, shots, seed) -> Result``."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.errors import ConfigError
from qaa_hw.simulate import (
    ENGINES,
    Capabilities,
    Result,
    choose_engine,
    make_engine,
    simulate,
)


@functools.cache
def _compiled(readout: str = "z") -> CompiledAdapter:
    spec = QAASpec(num_qubits=3, num_layers=2, readout=readout)  # type: ignore[arg-type]
    return compile_adapter(spec, load_device("google_weber"), seed=0)


def _problem(compiled: CompiledAdapter) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.standard_normal((2, 8)), rng.uniform(-np.pi, np.pi, compiled.spec.num_parameters)


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_engine_returns_the_same_record_and_samples_in_one_place(name: str) -> None:
    compiled = _compiled()
    x, theta = _problem(compiled)
    noise = name != "statevector"
    engine = make_engine(name, compiled, noise=noise)
    exact = engine.run(x, theta)
    assert isinstance(exact, Result) and exact.expectations.shape == (2, 3)
    assert exact.shots is None
    shot = engine.run(x, theta, shots=500, seed=9)
    again = engine.run(x, theta, shots=500, seed=9)
    assert shot.shots == 500 and torch.equal(shot.expectations, again.expectations)
    assert shot.probabilities is not None
    assert torch.allclose(shot.probabilities.sum(1), torch.ones(2, dtype=torch.float64))
    # 500 shots: within 5 standard errors of the engine's own exact values
    sigma = torch.sqrt((1 - exact.expectations**2).clamp_min(1e-12) / 500)
    assert bool(torch.all((shot.expectations - exact.expectations).abs() <= 5 * sigma + 1e-9))


def test_ideal_engines_agree_with_the_logical_circuit() -> None:
    compiled = _compiled("probs")
    x, theta = _problem(compiled)
    logical = make_engine("statevector", compiled).run(x, theta).probabilities
    for name in ("fast", "exact", "aer", "cirq"):
        got = make_engine(name, compiled, noise=False).run(x, theta).probabilities
        assert got is not None and logical is not None
        assert float((got - logical).abs().max()) < 1e-8, name


def test_engines_are_chosen_by_capability() -> None:
    assert choose_engine(Capabilities()) == "fast"
    assert choose_engine(Capabilities(density_matrix=True)) == "exact"
    assert choose_engine(Capabilities(reference=True)) == "aer"
    assert choose_engine(Capabilities(noisy=False)) == "statevector"
    with pytest.raises(ConfigError, match="no engine offers"):
        choose_engine(Capabilities(reference=True, gradient=True))
    with pytest.raises(ConfigError, match="engine='qiskit' is not valid; accepted: statevector"):
        make_engine("qiskit", _compiled())


def test_simulate_entry_point_uses_the_device_noise_by_default() -> None:
    compiled = _compiled()
    x, theta = _problem(compiled)
    noisy = simulate(compiled, x, theta)
    reference = simulate(compiled, x, theta, need=Capabilities(reference=True))
    ideal = simulate(compiled, x, theta, noise=False)
    assert float((noisy.expectations - reference.expectations).abs().max()) < 1e-8
    assert float((noisy.expectations - ideal.expectations).abs().max()) > 1e-3
