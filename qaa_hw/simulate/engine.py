"""The engine protocol: every simulator of a compiled adapter has the same shape.

An engine is built (and precompiles) for one compiled adapter and one
:class:`~qaa_hw.simulate.noise.NoiseSpec`, and evaluates batches of inputs::

    engine.run(x, theta, *, shots=None, seed=0, density_matrices=False) -> Result

``x`` is ``[B, <=2^n]`` (rows zero-padded and L2-normalised by the engine), ``theta`` the
trainable values; the :class:`~qaa_hw.simulate.results.Result` holds the measured ``<Z_i>`` and
distribution in logical qubit order, readout error included. With ``shots`` the exact
distribution is sampled by :func:`~qaa_hw.simulate.results.sampled` (the one sampler).

Engines declare :class:`Capabilities`; callers pick one by what they need
(:func:`qaa_hw.simulate.registry.choose_engine`); names exist only for the CLI and YAML.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal, get_args

import torch

from qaa_hw.simulate.results import Result, sampled

if TYPE_CHECKING:
    from qaa_hw.compile.compiled import CompiledAdapter
    from qaa_hw.simulate.noise import NoiseSpec


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

    As a request (:func:`qaa_hw.simulate.registry.choose_engine`), the defaults ask for a noisy
    engine that follows the idle flag and nothing else.
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
        distribution = shots is not None or self.compiled.spec.readout == "probs"
        result = self.exact(x, theta, distribution=distribution,
                            density_matrices=density_matrices, progress=progress)
        return sampled(result, shots, generator=torch.Generator().manual_seed(int(seed)))


#: Preparation-noise modes of the fast engine (:class:`~qaa_hw.simulate.noisy.FastNoisyEngine`).
PrepNoise = Literal["exact", "effective", "none"]
PREP_NOISE_MODES: tuple[str, ...] = get_args(PrepNoise)
