"""Simulation of compiled QAA adapters: one noise spec, one engine protocol, one sampler.

Start here::

    from qaa_hw.simulate import Capabilities, noise_spec, simulate

    result = simulate(compiled, x, theta)                    # device noise, idle relaxation on
    result.expectations, result.probabilities                # [B, n], [B, 2^n] (torch)
    simulate(compiled, x, theta, shots=1000, seed=1)         # sampled from the exact distribution
    simulate(compiled, x, theta, need=Capabilities(reference=True))   # Aer, as a cross-check
    noise = noise_spec(compiled.device, compiled.active_qubits, idle=False)  # older model
    simulate(compiled, x, theta, noise=noise)

The pieces (see ``docs/architecture.md``, "The simulation core"):

* :class:`NoiseSpec` (:mod:`~qaa_hw.simulate.noise`): gate channels, readout confusion and idle
  relaxation on the ASAP schedule (:mod:`~qaa_hw.simulate.schedule`), built once from a
  ``DeviceModel`` and consumed by every engine, reference and mitigation path.
* :class:`Engine` (:mod:`~qaa_hw.simulate.engine`): ``run(x, theta, *, shots, seed,
  density_matrices) -> Result``. :class:`FastNoisyEngine` (Heisenberg picture; ``prep_noise``
  exact or effective) and :class:`DensityMatrixEngine` (exact, output states) in
  :mod:`~qaa_hw.simulate.noisy`; :class:`AerExecutor` and :class:`CirqExecutor` (references)
  in :mod:`~qaa_hw.simulate.executors`; :class:`StatevectorEngine` (ideal; the training
  strategies fused / dense / layered of :func:`simulate_qaa`). Engines declare
  :class:`Capabilities` and are chosen by them (:func:`choose_engine`,
  :mod:`~qaa_hw.simulate.registry`).
* :class:`Result`, :func:`sample_frequencies` (:mod:`~qaa_hw.simulate.results`): the one
  record and the one place shots are drawn.

Importing this package is cheap: the names below load their module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qaa_hw.compile.compiled import CompiledAdapter
    from qaa_hw.simulate.engine import Capabilities, Engine
    from qaa_hw.simulate.executors import AerExecutor, CirqExecutor
    from qaa_hw.simulate.noise import NoiseSpec, noise_spec
    from qaa_hw.simulate.noisy import DensityMatrixEngine, FastNoisyEngine
    from qaa_hw.simulate.registry import ENGINES, choose_engine, make_engine
    from qaa_hw.simulate.results import Result, sample_frequencies
    from qaa_hw.simulate.statevector import StatevectorEngine, simulate_qaa

_WHERE = {
    "ENGINES": "registry",
    "Capabilities": "engine",
    "Engine": "engine",
    "StatevectorEngine": "statevector",
    "choose_engine": "registry",
    "make_engine": "registry",
    "AerExecutor": "executors",
    "CirqExecutor": "executors",
    "NoiseSpec": "noise",
    "noise_spec": "noise",
    "DensityMatrixEngine": "noisy",
    "FastNoisyEngine": "noisy",
    "Result": "results",
    "sample_frequencies": "results",
    "simulate_qaa": "statevector",
}

__all__ = [
    "ENGINES",
    "AerExecutor",
    "Capabilities",
    "CirqExecutor",
    "DensityMatrixEngine",
    "Engine",
    "FastNoisyEngine",
    "NoiseSpec",
    "Result",
    "StatevectorEngine",
    "choose_engine",
    "make_engine",
    "noise_spec",
    "sample_frequencies",
    "simulate",
    "simulate_qaa",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'qaa_hw.simulate' has no attribute {name!r}")
    return getattr(importlib.import_module(f"qaa_hw.simulate.{_WHERE[name]}"), name)


def simulate(
    compiled: CompiledAdapter,
    x: Any,
    theta: Any,
    *,
    noise: NoiseSpec | bool = True,
    shots: int | None = None,
    seed: int = 0,
    need: Capabilities | None = None,
    engine: Engine | None = None,
) -> Result:
    """Outputs of ``compiled`` for inputs ``x [B, <=2^n]`` and trainable values ``theta``.

    Args:
        compiled: the compiled adapter.
        x: input rows (zero-padded and L2-normalised by the engine).
        theta: trainable values.
        noise: a :class:`NoiseSpec`, ``True`` (the device's, idle relaxation on) or ``False``.
        shots: ``None`` for exact values, else shots per input.
        seed: seed of the shots.
        need: capabilities the engine must have (default: noisy unless ``noise=False``); the
            first registered engine that covers them is built for ``compiled`` and ``noise``.
        engine: an engine already built (``need`` and ``noise`` are then ignored).

    Returns:
        The :class:`Result` (measured ``<Z_i>`` and distribution, logical order).
    """
    from qaa_hw.simulate.engine import Capabilities
    from qaa_hw.simulate.registry import choose_engine, make_engine

    if engine is None:
        name = choose_engine(need or Capabilities(noisy=noise is not False))
        engine = make_engine(name, compiled, noise=noise)
    return engine.run(x, theta, shots=shots, seed=seed)
