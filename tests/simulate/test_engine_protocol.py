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


def test_invalid_requests_name_the_value_and_what_is_accepted() -> None:
    import cirq

    from qaa_hw.errors import SimulationError
    from qaa_hw.mitigation.scaling import PulseStretch, Stretch, stretch_factor
    from qaa_hw.simulate import FastNoisyEngine, StatevectorEngine, noise_spec
    from qaa_hw.simulate.program import build_program
    from qaa_hw.simulate.results import Result, sampled

    compiled = _compiled()
    x, theta = _problem(compiled)
    with pytest.raises(SimulationError, match=r"fold=2 is not valid; accepted: an odd integer"):
        build_program(compiled, None, fold=2)
    other = noise_spec(compiled.device, compiled.active_qubits[:2])
    with pytest.raises(SimulationError, match=r"noise spec covers 2 qubits; the adapter has 3"):
        FastNoisyEngine(compiled, noise=other)
    with pytest.raises(SimulationError, match="fast engine has no output states"):
        FastNoisyEngine(compiled).run(x, theta, density_matrices=True)
    with pytest.raises(ConfigError, match="statevector engine is ideal; give noise=False"):
        StatevectorEngine(compiled, noise=True)
    z_only = Result(torch.zeros(1, 3, dtype=torch.float64))
    with pytest.raises(SimulationError, match="holds only <Z> values"):
        z_only.outputs("probs")
    with pytest.raises(SimulationError, match="sampling shots needs the measured distribution"):
        sampled(z_only, 10, generator=torch.Generator())
    with pytest.raises(ConfigError, match=r"pulse stretch factor 0.5 must be finite and >= 1"):
        PulseStretch()(cirq.Circuit(), 0.5)
    a, b = cirq.LineQubit.range(2)
    mixed = cirq.Circuit(cirq.X(a).with_tags(Stretch(2.0)), cirq.X(b).with_tags(Stretch(3.0)))
    with pytest.raises(ConfigError, match=r"mixes pulse-stretch factors \[2.0, 3.0\]"):
        stretch_factor(mixed)


def test_fine_tuning_mitigation_names_are_validated() -> None:
    from qaa_hw.finetune.evaluate import EvalSetting

    assert EvalSetting("ibm_brisbane", 1.0, "zne:pulse_stretch").label.endswith("zne:pulse_stretch")
    with pytest.raises(ConfigError, match=r"mitigation='zne:stretch' is not valid.*accepted: "
                                          r"none, zne, zne:fold_random"):
        EvalSetting("ibm_brisbane", 1.0, "zne:stretch")
