"""Where a QAA layer's circuit runs: ideal, or noisy on a device, with finite shots.

A backend maps ``(spec, x, theta)`` to the circuit readout (``[..., n]`` Z expectations or
``[..., 2^n]`` probabilities); :func:`qaa_hw.adapters.qaa.set_qaa_backend` switches a trained
layer between them. :class:`IdealBackend` runs the differentiable statevector engine;
:class:`NoisyBackend` the compiled adapter on the fast noisy engine under the device's
:class:`~qaa_hw.simulate.noise.NoiseSpec` (λ-scaled, idle relaxation on; optionally folded or
with a given, e.g. pulse-stretched, spec).

With an exact embedding and ``prep_noise`` ``"effective"`` or ``"none"`` the noisy readout is
exactly a quadratic form ``out_o(x) = x̂ᵀ Q_o x̂`` of the normalised input
(:meth:`~qaa_hw.simulate.noisy.FastNoisyEngine.quadratic_form`), built once per ``theta`` and
differentiable in ``x`` and ``theta``: noise-aware training of a whole LLM then runs the engine
once per layer and step, not per token. Otherwise the engine runs per token and only ``theta``
gets gradients (training a down-projection is refused). Finite shots sample each token's exact
measured distribution (:func:`~qaa_hw.simulate.results.sample_frequencies`); evaluation only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.model import DeviceModel, scale_noise
from qaa_hw.errors import ConfigError
from qaa_hw.simulate.engine import PREP_NOISE_MODES
from qaa_hw.simulate.noise import NoiseSpec, noise_spec
from qaa_hw.simulate.noisy import FastNoisyEngine, PrepNoise
from qaa_hw.simulate.results import sample_frequencies, z_from_probabilities
from qaa_hw.simulate.statevector import simulate_qaa


class QAABackend(ABC):
    """How a QAA layer evaluates its circuit."""

    #: short kind, stored in result rows: ``"ideal"``, ``"noisy"``, ``"mitigated"``.
    kind: str = ""

    @abstractmethod
    def readout(self, spec: QAASpec, x: Tensor, theta: Tensor) -> Tensor:
        """Circuit readout for every row of ``x`` (``[..., d]``, ``d <= 2^n``).

        Returns:
            ``[..., spec.output_dim]`` in ``x.dtype``.
        """

    def describe(self) -> dict[str, Any]:
        """Plain-data description for result rows (kind, device, noise scale, ...)."""
        return {"backend": self.kind, "device": None, "noise_scale": None,
                "mitigation": "none", "shots": None}

    def clear_cache(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Forget cached per-theta results (called when a backend is (re)installed)."""


class IdealBackend(QAABackend):
    """Exact statevector simulation (:func:`~qaa_hw.simulate.statevector.simulate_qaa`)."""

    kind = "ideal"

    def readout(self, spec: QAASpec, x: Tensor, theta: Tensor) -> Tensor:
        """See :meth:`QAABackend.readout`."""
        return simulate_qaa(spec, x, theta)


def normalised_rows(x: Tensor, dim: int) -> Tensor:
    """Zero-pad the last axis to ``dim`` and L2-normalise; all-zero rows become ``e_0``.

    Matches the statevector engine's embedding convention (differentiable, NaN-free).
    """
    if x.shape[-1] < dim:
        x = torch.nn.functional.pad(x, (0, dim - x.shape[-1]))
    sq = (x * x).sum(-1, keepdim=True)
    zero = (sq == 0).to(x.dtype)
    if bool(zero.any()):
        e0 = torch.zeros(dim, dtype=x.dtype, device=x.device)
        e0[0] = 1.0
        x = x + zero * e0
        sq = sq + zero
    return x / sq.sqrt()


def quadratic_readout(x: Tensor, q: Tensor) -> Tensor:
    """``x̂ᵀ Q_o x̂`` for every row (``x [..., <=d]``, ``Q [O, d, d]``) -> ``[..., O]``."""
    num_out, dim, _ = q.shape
    xh = normalised_rows(x, dim)
    qx = xh @ q.to(xh.dtype).permute(1, 0, 2).reshape(dim, num_out * dim)
    return (qx.unflatten(-1, (num_out, dim)) * xh.unsqueeze(-2)).sum(-1)


class NoisyBackend(QAABackend):
    """A compiled adapter on its device, noise scaled by ``noise_scale``, fast noisy engine.

    Args:
        compiled: the adapter compiled for the device (:func:`compile_for_device`).
        noise_scale: λ applied to ``compiled.device`` (0 = noiseless, 1 = as calibrated).
        prep_noise: :class:`~qaa_hw.simulate.noisy.FastNoisyEngine` preparation noise;
            ``"effective"`` (default) allows the fast, fully differentiable quadratic form.
        shots: finite shots per token (``None``: exact expectation values).
        seed: seed of the engine's fit and of the shot sampler.
        idle: relax idle qubits on the scheduled idle windows (default).
        noise: a noise spec of the λ-scaled device on the active qubits to use instead
            (e.g. pulse-stretched for ZNE).
        fold: odd gate-folding factor (ZNE).

    Raises:
        ConfigError: invalid ``prep_noise`` or ``shots``.
    """

    kind = "noisy"

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        noise_scale: float = 1.0,
        prep_noise: PrepNoise = "effective",
        shots: int | None = None,
        seed: int = 0,
        idle: bool = True,
        noise: NoiseSpec | None = None,
        fold: int = 1,
    ) -> None:
        if prep_noise not in PREP_NOISE_MODES:
            raise ConfigError(
                f"prep_noise={prep_noise!r} is not valid; accepted: {', '.join(PREP_NOISE_MODES)}"
            )
        if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int)
                                  or shots < 1):
            raise ConfigError(f"shots={shots!r} is not valid; accepted: an integer >= 1 or None")
        self.noise_scale = float(noise_scale)
        self.base_device: DeviceModel = compiled.device
        self.compiled = replace(compiled, device=scale_noise(compiled.device, noise_scale))
        self.noise = noise if noise is not None else noise_spec(
            self.compiled.device, self.compiled.active_qubits, idle=idle
        )
        self.engine = FastNoisyEngine(
            self.compiled, prep_noise=prep_noise, seed=seed, noise=self.noise, fold=fold
        )
        self.prep_noise: PrepNoise = prep_noise
        self.shots = shots
        self.seed = int(seed)
        self._generator = torch.Generator().manual_seed(self.seed)
        self._cache: dict[tuple[int, str], tuple[Tensor, int, Tensor]] = {}
        self.uses_quadratic_form = self.engine.embedding_map is not None and prep_noise != "exact"

    def amplified(self, noise: NoiseSpec, fold: int, *, seed: int) -> NoisyBackend:
        """The same adapter and settings with another noise spec and folding factor."""
        return NoisyBackend(
            replace(self.compiled, device=self.base_device), noise_scale=self.noise_scale,
            prep_noise=self.prep_noise, shots=self.shots, seed=seed, noise=noise, fold=fold,
        )

    # ------------------------------------------------------------------ description
    def describe(self) -> dict[str, Any]:
        """See :meth:`QAABackend.describe`."""
        return {"backend": self.kind, "device": self.base_device.name,
                "noise_scale": self.noise_scale, "mitigation": "none", "shots": self.shots,
                "idle_relaxation": self.noise.idle}

    def clear_cache(self) -> None:
        """Forget cached quadratic forms and restart the shot sampler from its seed."""
        self._cache.clear()
        self._generator = torch.Generator().manual_seed(self.seed)

    # ----------------------------------------------------------------- evaluation
    def engine_outputs(self, x: Tensor, theta: Tensor, readout: str) -> Tensor:
        """Engine readout (``"z"`` or ``"probs"``) of rows ``x [B, d]``, float64, [B, O]."""
        if readout == "z":
            return self.engine.expectations(x, theta)
        return self.engine.probabilities(x, theta)

    def quadratic_form(self, theta: Tensor, readout: str) -> Tensor:
        """``Q [O, d, d]`` (float64) with ``out_o(x) = x̂ᵀ Q_o x̂``; differentiable in theta.

        Cached per ``theta`` version while no gradient is being recorded.

        Raises:
            ConfigError: this backend has no quadratic form (``prep_noise="exact"`` or an
                approximate embedding).
        """
        if not self.uses_quadratic_form:
            raise ConfigError(
                "this noisy backend has no quadratic form (prep_noise='exact' or an approx "
                "embedding); use prep_noise='effective' or 'none' with an exact embedding"
            )
        recording = torch.is_grad_enabled() and theta.requires_grad
        key = (id(theta), readout)
        hit = self._cache.get(key)
        if not recording and hit is not None and hit[0] is theta and hit[1] == theta._version:
            return hit[2]
        q = self.engine.quadratic_form(theta, readout=readout)  # type: ignore[arg-type]
        if not recording:
            self._cache[key] = (theta, theta._version, q.detach())
        return q

    def readout(self, spec: QAASpec, x: Tensor, theta: Tensor) -> Tensor:
        """See :meth:`QAABackend.readout`."""
        self._check_spec(spec)
        if self.shots is not None:
            return self._sampled(spec, x, theta)
        if self.uses_quadratic_form:
            return quadratic_readout(x, self.quadratic_form(theta, spec.readout))
        if torch.is_grad_enabled() and x.requires_grad:
            raise ConfigError(
                f"prep_noise={self.prep_noise!r} evaluates each token with the engine, which "
                "has no gradient with respect to the input; train with prep_noise='effective' "
                "(the default) or freeze the down-projection"
            )
        rows = x.detach().reshape(-1, x.shape[-1])
        out = self.engine_outputs(rows, theta, spec.readout)
        return out.to(x.dtype).reshape(*x.shape[:-1], out.shape[-1])

    def _sampled(self, spec: QAASpec, x: Tensor, theta: Tensor) -> Tensor:
        if torch.is_grad_enabled() and (x.requires_grad or theta.requires_grad):
            raise ConfigError(
                f"shots={self.shots} backends evaluate only (sampling has no gradient); "
                "train with exact expectation values and evaluate with shots under no_grad"
            )
        rows = x.detach().reshape(-1, x.shape[-1])
        if self.uses_quadratic_form:
            probs = quadratic_readout(rows.double(), self.quadratic_form(theta, "probs"))
        else:
            probs = self.engine_outputs(rows, theta, "probs")
        assert self.shots is not None
        freq = sample_frequencies(probs, self.shots, generator=self._generator)
        out = z_from_probabilities(freq, spec.num_qubits) if spec.readout == "z" else freq
        return out.to(x.dtype).reshape(*x.shape[:-1], out.shape[-1])

    # --------------------------------------------------------------------- checks
    def _check_spec(self, spec: QAASpec) -> None:
        own = self.compiled.spec
        if (spec.num_qubits, spec.num_layers, spec.rotations, spec.readout, spec.entangler) != (
            own.num_qubits, own.num_layers, own.rotations, own.readout, own.entangler
        ):
            raise ConfigError(
                f"the backend was compiled for {own.to_dict()} but the layer's spec is "
                f"{spec.to_dict()}; compile the layer's spec for the device"
            )
