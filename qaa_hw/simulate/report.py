"""Ideal vs noisy outputs of a compiled adapter over random inputs (``qaa_hw simulate``).

Random draws (``numpy.random.default_rng(seed)``, in this order):

* ``theta ~ U(-pi, pi)`` i.i.d., ``spec.num_parameters`` values;
* ``inputs`` vectors ``x ~ N(0, I_{2^n})``, i.e. directions uniform on the unit sphere once
  the engines L2-normalise them.

Ideal outputs come from the torch statevector engine
(:func:`qaa_hw.simulate.statevector.simulate_qaa`, the logical circuit, no compilation), so the
error also catches compilation mistakes. The output-state fidelity is the Uhlmann fidelity
``<psi|rho|psi>`` of the noisy state of the measured qubits (before readout error) against
the ideal compiled circuit's pure state; it needs a density matrix: the ``fast`` engine takes
it from :class:`~qaa_hw.simulate.noisy.DensityMatrixEngine`, ``aer`` and ``cirq`` from their
own density-matrix simulations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import ConfigError
from qaa_hw.simulate.executors import check_shots

ENGINES: tuple[str, ...] = ("fast", "aer", "cirq")


@dataclass(frozen=True)
class NoisyEvaluation:
    """Ideal and noisy outputs of one adapter on ``K`` random inputs.

    Attributes:
        engine: ``"fast"``, ``"aer"`` or ``"cirq"``.
        prep_noise: the fast engine's preparation-noise mode (``None`` for aer/cirq).
        shots: shots per input, ``None`` for exact values.
        seed: seed of theta and the inputs.
        ideal: ``[K, m]`` ideal readout (``m = n`` for z, ``2^n`` for probs).
        noisy: ``[K, m]`` noisy readout.
        fidelity: ``[K]`` output-state fidelities.
        seconds: wall time of the noisy evaluation (setup and fidelity excluded).
        setup_seconds: wall time of building the engine or executor.
        meta: device, noise scale, spec and layout for reports.
    """

    engine: str
    prep_noise: str | None
    shots: int | None
    seed: int
    ideal: np.ndarray
    noisy: np.ndarray
    fidelity: np.ndarray
    seconds: float
    setup_seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_abs_error(self) -> float:
        """Mean over inputs and outputs of ``|noisy - ideal|``."""
        return float(np.abs(self.noisy - self.ideal).mean())

    @property
    def mean_fidelity(self) -> float:
        """Mean output-state fidelity over the inputs."""
        return float(self.fidelity.mean())

    def rows(self) -> list[dict[str, Any]]:
        """One row per output: mean ideal, mean noisy, mean absolute error."""
        err = np.abs(self.noisy - self.ideal).mean(0)
        return [
            {"output": i, "mean ideal": float(self.ideal[:, i].mean()),
             "mean noisy": float(self.noisy[:, i].mean()), "mean abs error": float(err[i])}
            for i in range(self.ideal.shape[1])
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            **self.meta,
            "engine": self.engine,
            "prep_noise": self.prep_noise,
            "shots": self.shots,
            "seed": self.seed,
            "inputs": int(self.ideal.shape[0]),
            "mean_abs_error": self.mean_abs_error,
            "mean_fidelity": self.mean_fidelity,
            "seconds": self.seconds,
            "setup_seconds": self.setup_seconds,
            "outputs": self.rows(),
            "fidelity": self.fidelity.tolist(),
        }


def random_problem(compiled: CompiledAdapter, inputs: int, seed: int) -> tuple[np.ndarray, ...]:
    """``(x [K, 2^n], theta [P])`` drawn as described in the module docstring."""
    spec = compiled.spec
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-np.pi, np.pi, spec.num_parameters)
    x = rng.standard_normal((inputs, spec.dim))
    return x, theta


def evaluate_noisy(
    compiled: CompiledAdapter,
    *,
    engine: str = "fast",
    prep_noise: str = "exact",
    shots: int | None = None,
    inputs: int = 16,
    seed: int = 0,
    progress: bool = False,
) -> NoisyEvaluation:
    """Ideal vs noisy readout of ``compiled`` on ``inputs`` random inputs.

    Args:
        compiled: the compiled adapter (its device carries the noise scale).
        engine: ``"fast"`` (:class:`~qaa_hw.simulate.noisy.FastNoisyEngine`), ``"aer"`` or
            ``"cirq"`` (reference executors, one simulation per input).
        prep_noise: ``exact``, ``effective`` or ``none`` (fast engine only).
        shots: ``None`` for exact values, else shots per input.
        inputs: number K of random inputs.
        seed: seed of theta and the inputs.
        progress: show a tqdm bar on stderr (aer and cirq).

    Raises:
        ConfigError: unknown engine or a non-positive number of inputs.
        SimulationError: invalid shots or prep_noise.
    """
    from qaa_hw.simulate.noisy import DensityMatrixEngine, FastNoisyEngine, pure_state_fidelity
    from qaa_hw.simulate.statevector import simulate_qaa

    if engine not in ENGINES:
        raise ConfigError(f"engine={engine!r} is not valid; accepted: {', '.join(ENGINES)}")
    if isinstance(inputs, bool) or not isinstance(inputs, int) or inputs < 1:
        raise ConfigError(f"inputs={inputs!r} is not valid; accepted: an integer >= 1")
    shots = check_shots(shots)
    spec = compiled.spec
    x, theta = random_problem(compiled, inputs, seed)
    ideal = simulate_qaa(spec, torch.as_tensor(x),
                         torch.as_tensor(theta).reshape(spec.parameter_shape)).numpy()
    ideal_state = DensityMatrixEngine(compiled, noise=False).run(
        x, theta, density_matrices=True
    ).density_matrices
    assert ideal_state is not None
    t0 = time.perf_counter()
    if engine == "fast":
        fast = FastNoisyEngine(compiled, prep_noise=prep_noise, seed=seed)  # type: ignore[arg-type]
        setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        if shots is None:
            noisy = fast.outputs(x, theta).detach().numpy()
        else:
            sampled = fast.sample(x, theta, shots=shots, seed=seed)
            chosen = sampled.expectations if spec.readout == "z" else sampled.probabilities
            assert chosen is not None
            noisy = chosen.numpy()
        seconds = time.perf_counter() - t0
        state = DensityMatrixEngine(compiled).run(x, theta, density_matrices=True)
        assert state.density_matrices is not None
        noisy_state = state.density_matrices
    else:
        from qaa_hw.simulate.executors import AerExecutor, CirqExecutor

        executor = (
            AerExecutor(compiled, shots=shots, seed=seed)
            if engine == "aer"
            else CirqExecutor(compiled, shots=shots, seed=seed, density_matrix=True)
        )
        setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = executor.run_batch(x, theta, progress=progress)
        seconds = time.perf_counter() - t0
        noisy = result.expectations if spec.readout == "z" else result.probabilities
        assert result.density_matrix is not None
        noisy_state = torch.as_tensor(result.density_matrix)
    fidelity = pure_state_fidelity(ideal_state, noisy_state).numpy()
    meta = {
        "device": compiled.device.name,
        "noise_scale": compiled.device.noise_scale,
        "spec": spec.to_dict(),
        "initial_layout": list(compiled.initial_layout),
        "final_layout": list(compiled.final_layout),
        "theta_distribution": "uniform(-pi, pi)",
        "input_distribution": "standard normal rows, L2-normalised",
    }
    return NoisyEvaluation(
        engine=engine,
        prep_noise=prep_noise if engine == "fast" else None,
        shots=shots,
        seed=seed,
        ideal=np.asarray(ideal, dtype=float),
        noisy=np.asarray(noisy, dtype=float),
        fidelity=np.asarray(fidelity, dtype=float),
        seconds=seconds,
        setup_seconds=setup,
        meta=meta,
    )
