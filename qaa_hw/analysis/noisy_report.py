"""Ideal vs noisy outputs of a compiled adapter over random inputs (``qaa_hw simulate``).

Random draws (``numpy.random.default_rng(seed)``, in this order):

* ``theta ~ U(-pi, pi)`` i.i.d., ``spec.num_parameters`` values;
* ``inputs`` vectors ``x ~ N(0, I_{2^n})``, i.e. directions uniform on the unit sphere once
  the engines L2-normalise them.

Ideal outputs come from the torch statevector engine
(:func:`qaa_hw.simulate.statevector.simulate_qaa`, the logical circuit, no compilation), so the
error also catches compilation mistakes. The output-state fidelity is the Uhlmann fidelity
``<psi|rho|psi>`` of the noisy state of the measured qubits (before readout error) against
the ideal compiled circuit's pure state; it needs a density matrix: an engine without output
states (``fast``) takes it from :class:`~qaa_hw.simulate.noisy.DensityMatrixEngine`, the others
from their own simulations.

Idle relaxation: the noisy outputs are computed with idle relaxation on (the default of every
path) and again with it off, by the same engine, so the report states what the idle windows of
the compiled circuit cost (``idle_effect``: mean |Δ| between the two; the error against ideal
with and without).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import ConfigError
from qaa_hw.limits import MAX_COUNT, check_input_amplitudes, check_int, check_seed
from qaa_hw.simulate.engine import Engine
from qaa_hw.simulate.noise import noise_spec
from qaa_hw.simulate.registry import make_engine, noisy_engines
from qaa_hw.simulate.results import check_shots


@dataclass(frozen=True)
class NoisyEvaluation:
    """Ideal and noisy outputs of one adapter on ``K`` random inputs.

    Attributes:
        engine: the engine's name (:data:`qaa_hw.simulate.registry.ENGINES`).
        prep_noise: the fast engine's preparation-noise mode (``None`` for aer/cirq).
        shots: shots per input, ``None`` for exact values.
        seed: seed of theta and the inputs.
        ideal: ``[K, m]`` ideal readout (``m = n`` for z, ``2^n`` for probs).
        noisy: ``[K, m]`` noisy readout (idle relaxation as ``idle`` says).
        without_idle: ``[K, m]`` the same engine's readout with idle relaxation off (``None``
            when ``idle`` is already off).
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
    idle: bool = True
    without_idle: np.ndarray | None = None

    @property
    def idle_effect(self) -> float | None:
        """Mean ``|noisy - without_idle|``: what idle relaxation moves the outputs by."""
        if self.without_idle is None:
            return None
        return float(np.abs(self.noisy - self.without_idle).mean())

    @property
    def error_without_idle(self) -> float | None:
        """Mean ``|without_idle - ideal|``."""
        if self.without_idle is None:
            return None
        return float(np.abs(self.without_idle - self.ideal).mean())

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
            "idle_relaxation": self.idle,
            "idle_effect": self.idle_effect,
            "idle_effect_max": (None if self.without_idle is None
                                else float(np.abs(self.noisy - self.without_idle).max())),
            "mean_abs_error_without_idle": self.error_without_idle,
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
    idle: bool = True,
    compare_idle: bool = True,
    progress: bool = False,
) -> NoisyEvaluation:
    """Ideal vs noisy readout of ``compiled`` on ``inputs`` random inputs.

    Args:
        compiled: the compiled adapter (its device carries the noise scale).
        engine: a noisy engine of :data:`qaa_hw.simulate.registry.ENGINES` (``fast``,
            ``exact``, ``aer``, ``cirq``).
        prep_noise: ``exact``, ``effective`` or ``none`` (``fast`` only).
        shots: ``None`` for exact values, else shots per input.
        inputs: number K of random inputs.
        seed: seed of theta, the inputs and the shots.
        idle: relax idle qubits (the default).
        compare_idle: with ``idle`` on, also compute the outputs without idle relaxation
            (``without_idle``; the same engine, twice the work).
        progress: show a tqdm bar on stderr (engines that run one input at a time).

    Raises:
        ConfigError: unknown engine, ``inputs`` or ``seed`` out of range
            (:mod:`qaa_hw.limits`).
        SimulationError: invalid shots or prep_noise.
    """
    from qiskit.quantum_info import DensityMatrix, state_fidelity

    from qaa_hw.simulate.noisy import DensityMatrixEngine
    from qaa_hw.simulate.statevector import simulate_qaa

    if engine not in noisy_engines():
        raise ConfigError(
            f"engine={engine!r} is not valid; accepted: {', '.join(noisy_engines())}"
        )
    check_int("inputs", inputs, 1, MAX_COUNT)
    check_input_amplitudes("inputs", inputs, compiled.spec.num_qubits)
    check_seed("seed", seed)
    shots = check_shots(shots)
    spec = compiled.spec
    x, theta = random_problem(compiled, inputs, seed)
    ideal = simulate_qaa(spec, torch.as_tensor(x),
                         torch.as_tensor(theta).reshape(spec.parameter_shape)).numpy()
    ideal_state = DensityMatrixEngine(compiled, noise=False).exact(
        x, theta, density_matrices=True
    ).density_matrices
    assert ideal_state is not None

    def build(idle_on: bool) -> Engine:
        noise = noise_spec(compiled.device, compiled.active_qubits, idle=idle_on)
        options: dict[str, Any] = {"noise": noise}
        if engine == "fast":
            options["prep_noise"] = prep_noise
        return make_engine(engine, compiled, **options)

    t0 = time.perf_counter()
    main = build(idle)
    setup = time.perf_counter() - t0
    states = main.capabilities.density_matrix
    t0 = time.perf_counter()
    result = main.run(x, theta, shots=shots, seed=seed, density_matrices=states,
                      progress=progress)
    seconds = time.perf_counter() - t0
    noisy = result.outputs(spec.readout).detach().numpy()
    noisy_state = result.density_matrices
    if noisy_state is None:
        exact = DensityMatrixEngine(compiled, noise=main.noise or False)
        noisy_state = exact.exact(x, theta, density_matrices=True).density_matrices
    assert noisy_state is not None
    without_idle = None
    if idle and compare_idle and main.capabilities.idle_switch:
        other = build(False).run(x, theta, shots=shots, seed=seed, progress=progress)
        without_idle = other.outputs(spec.readout).detach().numpy()
    fidelity = np.array([
        state_fidelity(DensityMatrix(a.numpy()), DensityMatrix(b.numpy()), validate=False)
        for a, b in zip(ideal_state, noisy_state, strict=True)
    ])
    meta = {
        "device": compiled.device.name,
        "noise_scale": compiled.device.noise_scale,
        "spec": spec.to_dict(),
        "initial_layout": list(compiled.initial_layout),
        "final_layout": list(compiled.final_layout),
        "theta_distribution": "uniform(-pi, pi)",
        "input_distribution": "standard normal rows, L2-normalised",
        "schedule": "asap",
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
        idle=idle,
        without_idle=without_idle,
    )
