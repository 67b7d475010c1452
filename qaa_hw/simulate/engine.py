"""The engine protocol: every simulator of a compiled adapter has the same shape.

An engine is built for one compiled adapter and one :class:`~qaa_hw.simulate.noise.NoiseSpec`
(construction is where it precompiles: the Pauli-transfer program, the Aer noise model, ...) and
evaluates batches of inputs::

    engine.run(x, theta, *, shots=None, seed=0, density_matrices=False) -> Result

``x`` is ``[B, <=2^n]`` (rows zero-padded and L2-normalised by the engine), ``theta`` the
trainable values; the :class:`~qaa_hw.simulate.results.Result` holds the measured ``<Z_i>`` and
distribution in logical qubit order, readout error included. With ``shots`` the exact
distribution is sampled by :func:`~qaa_hw.simulate.results.sampled` (the one sampler).

Engines declare :class:`Capabilities`; callers pick one by what they need
(:func:`choose_engine`), never by a name deep in the core. Names exist only for the CLI and
YAML (:data:`ENGINES`). Importing this module is cheap (the CLI reads the names).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from qaa_hw.errors import ConfigError

if TYPE_CHECKING:
    from qaa_hw.compile.compiled import CompiledAdapter
    from qaa_hw.simulate.noise import NoiseSpec
    from qaa_hw.simulate.results import Result
    from qaa_hw.simulate.statevector import Method


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do.

    Attributes:
        noisy: simulates the device noise (``False``: ideal circuits only).
        gradient: outputs are differentiable in ``theta`` (torch autograd).
        density_matrix: can return the pre-readout state of the measured qubits.
        approximate: may approximate the noise (a documented, measured error).
        reference: an independent third-party simulator (Aer, Cirq), for cross-checks.
        batched: evaluates a whole batch in one vectorised pass (fast on many inputs).
        idle_switch: follows the noise spec's ``idle`` flag (Cirq's noise model relaxes idle
            qubits in every moment whatever the flag says).
    """

    noisy: bool = True
    gradient: bool = False
    density_matrix: bool = False
    approximate: bool = False
    reference: bool = False
    batched: bool = False
    idle_switch: bool = True

    def covers(self, need: Capabilities) -> bool:
        """Whether every capability set in ``need`` is set here (``approximate`` excepted:
        an exact engine serves every request)."""
        return all(
            getattr(self, f.name) or not getattr(need, f.name)
            for f in fields(self)
            if f.name != "approximate"
        ) and (need.approximate or not self.approximate)


class Engine(ABC):
    """A simulator of one compiled adapter under one noise spec (see the module docstring).

    Attributes:
        compiled: the compiled adapter.
        noise: the noise spec, ``None`` for the ideal circuit.
    """

    #: what the engine can do (a class default; an instance may narrow it by its options)
    capabilities: Capabilities = Capabilities()
    compiled: CompiledAdapter
    noise: NoiseSpec | None

    @abstractmethod
    def exact(self, x: Any, theta: Any, *, distribution: bool = True,
              density_matrices: bool = False, progress: bool = False) -> Result:
        """Exact outputs of a batch; the measured distribution at least when
        ``distribution`` (an engine may skip it otherwise, e.g. to compute only n values)."""

    def run(
        self,
        x: Any,
        theta: Any,
        *,
        shots: int | None = None,
        seed: int = 0,
        density_matrices: bool = False,
        progress: bool = False,
    ) -> Result:
        """Outputs of a batch ``x [B, <=2^n]``; with ``shots``, sampled from the exact
        distribution (seeded by ``seed``)."""
        import torch

        from qaa_hw.simulate.results import sampled

        distribution = shots is not None or self.compiled.spec.readout == "probs"
        result = self.exact(x, theta, distribution=distribution,
                            density_matrices=density_matrices, progress=progress)
        return sampled(result, shots, generator=torch.Generator().manual_seed(int(seed)))


class StatevectorEngine(Engine):
    """The ideal logical circuit on the differentiable training engine
    (:func:`qaa_hw.simulate.statevector.simulate_qaa`; its strategies fused, dense and
    layered are chosen by ``method``). No noise, no compilation: the reference the noisy
    engines are compared with.

    Args:
        compiled: the compiled adapter (only its spec is used).
        noise: must be ``False`` or ``None`` (this engine is ideal).
        method: the training strategy (``"auto"``: chosen by the tensor's device).
    """

    capabilities = Capabilities(noisy=False, gradient=True, batched=True)

    def __init__(self, compiled: CompiledAdapter, *, noise: Any = False,
                 method: Method = "auto") -> None:
        if noise not in (False, None):
            raise ConfigError("the statevector engine is ideal; give noise=False")
        self.compiled = compiled
        self.noise = None
        self.method = method

    def exact(self, x: Any, theta: Any, *, distribution: bool = True,
              density_matrices: bool = False, progress: bool = False) -> Result:
        """Ideal ``<Z_i>`` (and the distribution when asked or the readout is ``probs``)."""
        from dataclasses import replace

        import torch

        from qaa_hw.simulate.results import Result, z_from_probabilities
        from qaa_hw.simulate.statevector import simulate_qaa

        if density_matrices:
            raise ConfigError("the statevector engine returns no density matrices")
        spec = self.compiled.spec
        xs = torch.as_tensor(x, dtype=torch.float64)
        xs = xs[None] if xs.dim() == 1 else xs
        th = torch.as_tensor(theta, dtype=torch.float64).reshape(spec.parameter_shape)
        if not distribution and spec.readout == "z":
            return Result(simulate_qaa(spec, xs, th, method=self.method))
        probs = simulate_qaa(replace(spec, readout="probs"), xs, th, method=self.method)
        return Result(z_from_probabilities(probs, spec.num_qubits), probs)


EngineFactory = Callable[..., Engine]
#: Preparation-noise modes of the fast engine (:class:`~qaa_hw.simulate.noisy.FastNoisyEngine`).
PREP_NOISE_MODES: tuple[str, ...] = ("exact", "effective", "none")


def _fast(compiled: CompiledAdapter, **options: Any) -> Engine:
    from qaa_hw.simulate.noisy import FastNoisyEngine

    return FastNoisyEngine(compiled, **options)


def _exact(compiled: CompiledAdapter, **options: Any) -> Engine:
    from qaa_hw.simulate.noisy import DensityMatrixEngine

    return DensityMatrixEngine(compiled, **options)


def _aer(compiled: CompiledAdapter, **options: Any) -> Engine:
    from qaa_hw.simulate.executors import AerExecutor

    return AerExecutor(compiled, **options)


def _cirq(compiled: CompiledAdapter, **options: Any) -> Engine:
    from qaa_hw.simulate.executors import CirqExecutor

    return CirqExecutor(compiled, **options)


#: CLI/YAML names of the noisy engines: ``name -> (factory, capabilities)``; each factory takes
#: the keyword options of its class (``noise`` for all, ``prep_noise`` for ``fast``, ...).
ENGINES: dict[str, tuple[EngineFactory, Capabilities]] = {
    "statevector": (StatevectorEngine, StatevectorEngine.capabilities),
    "fast": (_fast, Capabilities(gradient=True, batched=True)),
    "exact": (_exact, Capabilities(gradient=True, density_matrix=True, batched=True)),
    "aer": (_aer, Capabilities(density_matrix=True, reference=True)),
    "cirq": (_cirq, Capabilities(density_matrix=True, reference=True, idle_switch=False)),
}


def noisy_engines() -> tuple[str, ...]:
    """Names of the engines that simulate device noise."""
    return tuple(name for name, (_, caps) in ENGINES.items() if caps.noisy)


def make_engine(name: str, compiled: CompiledAdapter, **options: Any) -> Engine:
    """The engine named ``name`` (one of :data:`ENGINES`) for ``compiled``.

    Raises:
        ConfigError: unknown name.
    """
    if name not in ENGINES:
        raise ConfigError(f"engine={name!r} is not valid; accepted: {', '.join(ENGINES)}")
    return ENGINES[name][0](compiled, **options)


def choose_engine(need: Capabilities) -> str:
    """The first engine of :data:`ENGINES` whose capabilities cover ``need``.

    Raises:
        ConfigError: no engine can do it.
    """
    for name, (_, caps) in ENGINES.items():
        if caps.covers(need):
            return name
    raise ConfigError(f"no engine offers {need}")
