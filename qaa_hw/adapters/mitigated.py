"""Mitigated QAA backends for LLM evaluation: zero-noise extrapolation with Mitiq's factories.

**What runs.** :class:`ZNEBackend` evaluates the compiled adapter with the fast noisy engine at
the amplified noise levels ``λ·s`` for each ZNE scale factor ``s`` (default 1, 3, 5) and
extrapolates every output to zero noise with the Mitiq factory named by the
:class:`~qaa_hw.mitigation.techniques.ZNE` record (``ZNE.make_factory``: Richardson by
default). The extrapolation is Mitiq's; nothing of it is re-implemented here.

**How the noise is amplified.** By scaling the device's calibrated errors (gate errors,
readout errors and 1/T1, 1/T2 multiplied by ``s``; :func:`~qaa_hw.devices.model.scale_noise`),
the simulated analogue of pulse stretching (Kandala et al., Nature 2019), *not* by unitary
folding. Folding through :class:`qaa_hw.mitigation.Mitigator` costs about 0.8 s per input
on Aer (4 qubits, 3 folded circuits, 2-core host), and an LLM evaluation needs the adapter
outputs of every token in every adapted layer (tens of thousands per pass), so circuit-level
folding is out of reach here; ``qaa_hw mitigate`` and the sweeps use it on adapter outputs
directly. Because the amplified circuits run on the same fast engine as the ``noisy`` rows,
mitigated and unmitigated rows share one noise model and are directly comparable.

**Linearity.** Richardson, linear and polynomial factories are linear in the values they
extrapolate, so the mitigated output is ``sum_k w_k out_{λ s_k}(x)`` with weights read once
from the factory (and checked on random values). That keeps the readout a quadratic form of
the input (fast, differentiable) and lets shots be combined per token. Exponential factories
are not linear and are refused.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from qaa_hw.adapters.backends import NoisyBackend, QAABackend
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import ConfigError
from qaa_hw.mitigation.techniques import ZNE
from qaa_hw.simulate.noisy import PrepNoise

#: Mitigation names accepted by fine-tuning evaluation.
MITIGATIONS: tuple[str, ...] = ("none", "zne")


def zne_technique(factory: str = "richardson",
                  scale_factors: tuple[float, ...] = (1.0, 3.0, 5.0)) -> ZNE:
    """The default ZNE record (its ``folding`` field is not used by :class:`ZNEBackend`)."""
    return ZNE(factory=factory, scale_factors=scale_factors)


def extrapolation_weights(technique: ZNE) -> np.ndarray:
    """Weights ``w`` with ``factory(values) = w · values``, read from Mitiq's factory.

    Raises:
        ConfigError: the factory is not linear in the values (e.g. exponential).
    """
    factors = list(technique.scale_factors)

    def run(values: np.ndarray) -> float:
        lookup = dict(zip(factors, values.tolist(), strict=True))
        return float(technique.make_factory().run_classical(lambda s: lookup[s]).reduce())

    if technique.factory == "exponential":
        raise ConfigError(
            "ZNE factory='exponential' is not linear in the values; LLM evaluation needs a "
            "linear one: richardson, linear or polynomial"
        )
    eye = np.eye(len(factors))
    weights = np.array([run(eye[k]) for k in range(len(factors))])
    probe = np.random.default_rng(0).uniform(-1, 1, len(factors))
    if abs(run(probe) - float(weights @ probe)) > 1e-8 * (1 + float(np.abs(probe).sum())):
        raise ConfigError(f"ZNE factory {technique.factory!r} is not linear in the values")
    return weights


class ZNEBackend(QAABackend):
    """Zero-noise extrapolated outputs of a compiled adapter (see the module docstring).

    Args:
        compiled: the adapter compiled for the device.
        noise_scale: λ, the noise level being mitigated.
        technique: the ZNE record (factory and scale factors).
        prep_noise: preparation noise of the engine (see :class:`NoisyBackend`).
        shots: finite shots per amplified circuit and token (``None``: exact).
        seed: seed of the engines and samplers.
    """

    kind = "mitigated"

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        noise_scale: float = 1.0,
        technique: ZNE | None = None,
        prep_noise: PrepNoise = "effective",
        shots: int | None = None,
        seed: int = 0,
    ) -> None:
        if not math.isfinite(noise_scale) or noise_scale < 0:
            raise ConfigError(f"noise_scale={noise_scale!r} is not valid; accepted: >= 0")
        self.technique = technique if technique is not None else zne_technique()
        self.weights = extrapolation_weights(self.technique)
        self.noise_scale = float(noise_scale)
        self.shots = shots
        self.scaled = [
            NoisyBackend(compiled, noise_scale=self.noise_scale * s, prep_noise=prep_noise,
                         shots=shots, seed=seed + k)
            for k, s in enumerate(self.technique.scale_factors)
        ]
        self.device_name = compiled.device.name

    def describe(self) -> dict[str, Any]:
        """See :meth:`QAABackend.describe`."""
        return {"backend": self.kind, "device": self.device_name,
                "noise_scale": self.noise_scale, "mitigation": "zne", "shots": self.shots,
                "technique": {**self.technique.to_dict(), "folding": None,
                              "noise_amplification": "device error scaling"}}

    def clear_cache(self) -> None:
        """Clear every amplified backend's cache."""
        for backend in self.scaled:
            backend.clear_cache()

    def readout(self, spec: QAASpec, x: Tensor, theta: Tensor) -> Tensor:
        """``sum_k w_k out_{λ s_k}(x)``."""
        out: Tensor | None = None
        for w, backend in zip(self.weights.tolist(), self.scaled, strict=True):
            term = backend.readout(spec, x, theta) * w
            out = term if out is None else out + term
        assert out is not None
        return out

    def quadratic_form(self, theta: Tensor, readout: str) -> Tensor:
        """``sum_k w_k Q_k`` (exact backends with a quadratic form only)."""
        qs = [b.quadratic_form(theta, readout) for b in self.scaled]
        w = torch.as_tensor(self.weights, dtype=qs[0].dtype)
        return torch.einsum("k,kodf->odf", w, torch.stack(qs))
