"""Mitigated QAA backends for LLM evaluation: zero-noise extrapolation with Mitiq's factories.

**What runs.** :class:`ZNEBackend` evaluates the compiled adapter with the fast noisy engine with
the noise amplified to each ZNE scale factor ``s`` (default 1, 3, 5) by the technique's
:class:`~qaa_hw.mitigation.scaling.NoiseScaling` strategy, the same object the Mitiq path
(:class:`~qaa_hw.mitigation.Mitigator`, ``qaa_hw simulate --mitigation zne``, sweeps) uses:

* gate folding (``fold_random``, the default, or ``fold_all``; odd integer factors): every
  gate ``G -> G (G^-1 G)^k`` inside the engine's program, idle windows rescheduled, readout
  untouched. What a user can run on hardware; equal to Mitiq's folding on Aer to round-off
  (``tests/simulate/test_one_physics.py``).
* ``pulse_stretch``: gate errors and relaxation (gates and idle windows) scaled by ``s``,
  readout not.

Each output is extrapolated to zero noise with the Mitiq factory of the
:class:`~qaa_hw.mitigation.techniques.ZNE` record (Richardson by default); nothing of the
extrapolation is re-implemented here. With ``shots``, every amplified circuit is sampled
independently, so the extrapolation's amplification of the shot noise shows in the results.

**Linearity.** Richardson, linear and polynomial factories are linear in the values they
extrapolate, so the mitigated output is ``sum_k w_k out_{s_k}(x)`` with weights read once
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

#: Mitigation names accepted by fine-tuning evaluation (``rem+zne``: REM on every amplified
#: circuit, then the extrapolation).
MITIGATIONS: tuple[str, ...] = ("none", "zne", "rem", "rem+zne")


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


def rem_correct(values: Tensor, confusion: Tensor, readout: str) -> Tensor:
    """Readout-error mitigation of measured readouts with per-qubit confusion matrices.

    The tensored inverse confusion matrix applied to the measured distribution (what Mitiq's
    ``generate_tensored_inverse_confusion_matrix`` builds), without the projection onto the
    closest probability distribution, so the correction stays linear (a quadratic form stays
    one, shots are corrected per token). For ``z`` readout this is, per qubit,
    ``z = (z_meas - (p10 - p01)) / (1 - p01 - p10)``.

    Args:
        values: ``[..., n]`` Z expectations or ``[..., 2^n]`` probabilities.
        confusion: ``[n, 2, 2]``, ``confusion[i, b, m] = P(m | b)`` on logical qubit i.
        readout: ``"z"`` or ``"probs"``.
    """
    conf = confusion.to(values.dtype)
    if readout == "z":
        p01, p10 = conf[:, 0, 1], conf[:, 1, 0]
        return (values - (p10 - p01)) / (1 - p01 - p10)
    from qaa_hw.simulate.results import apply_confusion

    inverse = torch.linalg.inv(conf)
    flat = values.reshape(-1, values.shape[-1])
    return apply_confusion(flat, inverse).reshape(values.shape)


class REMBackend(QAABackend):
    """A noisy backend's readouts corrected by :func:`rem_correct` (exact or with shots).

    Args:
        inner: the noisy backend whose measured readouts are corrected.
    """

    kind = "mitigated"

    def __init__(self, inner: NoisyBackend) -> None:
        self.inner = inner
        self.confusion = inner.engine.program.readout.detach().clone()

    def describe(self) -> dict[str, Any]:
        """See :meth:`QAABackend.describe`."""
        return {**self.inner.describe(), "backend": self.kind, "mitigation": "rem"}

    def clear_cache(self) -> None:
        """Clear the inner backend's cache."""
        self.inner.clear_cache()

    def readout(self, spec: QAASpec, x: Tensor, theta: Tensor) -> Tensor:
        """The inner readout, readout error removed."""
        return rem_correct(self.inner.readout(spec, x, theta), self.confusion, spec.readout)

    def quadratic_form(self, theta: Tensor, readout: str) -> Tensor:
        """The inner quadratic form with the correction applied to its outputs."""
        q = self.inner.quadratic_form(theta, readout)  # [O, d, d]
        d = q.shape[-1]
        if readout == "z":
            eye = torch.eye(d, dtype=q.dtype)
            conf = self.confusion.to(q.dtype)
            p01, p10 = conf[:, 0, 1], conf[:, 1, 0]
            return (q - (p10 - p01)[:, None, None] * eye) / (1 - p01 - p10)[:, None, None]
        flat = q.permute(1, 2, 0).reshape(d * d, -1)
        return rem_correct(flat, self.confusion, readout).reshape(d, d, -1).permute(2, 0, 1)


class ZNEBackend(QAABackend):
    """Zero-noise extrapolated outputs of a compiled adapter (see the module docstring).

    Args:
        compiled: the adapter compiled for the device.
        noise_scale: λ, the noise level being mitigated.
        technique: the ZNE record (factory, scale factors, noise scaling; default
            Richardson at 1, 3, 5 with random gate folding).
        prep_noise: preparation noise of the engine (see :class:`NoisyBackend`).
        shots: finite shots per amplified circuit and token (``None``: exact).
        seed: seed of the engines and samplers.
        rem: readout-error mitigation of every amplified circuit before extrapolating.
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
        rem: bool = False,
    ) -> None:
        if not math.isfinite(noise_scale) or noise_scale < 0:
            raise ConfigError(f"noise_scale={noise_scale!r} is not valid; accepted: >= 0")
        self.technique = technique if technique is not None else ZNE()
        self.weights = extrapolation_weights(self.technique)
        self.noise_scale = float(noise_scale)
        self.shots = shots
        base = NoisyBackend(compiled, noise_scale=self.noise_scale, prep_noise=prep_noise,
                            shots=shots, seed=seed)
        scaling = self.technique.noise_scaling(seed)
        amplified = [
            base.amplified(*scaling.engine_setting(base.noise, s), seed=seed + k)
            for k, s in enumerate(self.technique.scale_factors)
        ]
        self.rem = rem
        self.scaled: list[NoisyBackend | REMBackend] = (
            [REMBackend(b) for b in amplified] if rem else list(amplified))
        self.device_name = compiled.device.name

    def describe(self) -> dict[str, Any]:
        """See :meth:`QAABackend.describe`."""
        return {"backend": self.kind, "device": self.device_name,
                "noise_scale": self.noise_scale,
                "mitigation": "rem+zne" if self.rem else "zne", "shots": self.shots,
                "technique": self.technique.to_dict()}

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
