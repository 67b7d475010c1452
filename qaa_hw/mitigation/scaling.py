"""How zero-noise extrapolation amplifies the noise: strategies with one meaning on every path.

A :class:`NoiseScaling` is both a Mitiq ``scale_noise`` callable (``(circuit, scale_factor) ->
circuit``, what :func:`mitiq.zne.execute_with_zne` takes) and the same amplification for the
in-house engines (:meth:`NoiseScaling.engine_setting`: a noise spec and a folding factor), so
:class:`~qaa_hw.mitigation.api.Mitigator` on Aer or Cirq and the fine-tuning evaluation on the
fast engine amplify the noise in the same way (tested to agree to round-off).

* :class:`GateFolding` (the default, runnable on hardware): Mitiq's folding functions. At odd
  integer scale factors ``fold_gates_at_random`` and ``fold_all`` fold every gate
  ``G -> G (G^-1 G)^k``; folded gates take time, so idle windows grow too. Readout is
  not amplified. The engines implement exactly this (``fold=k``); ``fold_global`` and
  non-integer factors need the circuit-level path.
* :class:`PulseStretch`: every pulse stretched by the scale factor (Kandala et al., Nature
  2019), a physical amplification for devices with pulse-level control: gate errors and
  relaxation during gates and idle windows grow by the factor, readout does not
  (:func:`~qaa_hw.devices.model.scale_noise` with ``readout=False``). On the Mitiq path the
  circuit's operations are tagged with :class:`Stretch` and the backend simulates them with the
  stretched noise spec.

Names (``fold_random``, ``fold_global``, ``fold_all``, ``pulse_stretch``) exist only for the CLI
and YAML (:data:`SCALINGS`, :func:`make_scaling`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qaa_hw.errors import ConfigError

if TYPE_CHECKING:
    from qaa_hw.simulate.noise import NoiseSpec


class NoiseScaling(ABC):
    """A noise-amplification strategy (see the module docstring)."""

    #: Whether the amplified circuits can be run on hardware as they are.
    hardware_runnable: bool = True

    @abstractmethod
    def __call__(self, circuit: Any, scale_factor: float) -> Any:
        """Mitiq's ``scale_noise``: the circuit with its noise amplified by ``scale_factor``."""

    @abstractmethod
    def engine_setting(self, noise: NoiseSpec, scale_factor: float) -> tuple[NoiseSpec, int]:
        """``(noise spec, gate-folding factor)`` that give the in-house engines the same
        amplification.

        Raises:
            ConfigError: the engines cannot reproduce this amplification.
        """

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Settings as plain data."""


@dataclass(frozen=True)
class GateFolding(NoiseScaling):
    """Unitary folding with Mitiq (``random``: ``fold_gates_at_random`` seeded; ``global``:
    ``fold_global``; ``all``: ``fold_all``, odd integer factors only)."""

    method: str = "random"
    seed: int = 0

    def __call__(self, circuit: Any, scale_factor: float) -> Any:
        from mitiq.zne.scaling import fold_all, fold_gates_at_random, fold_global

        if self.method == "random":
            return fold_gates_at_random(circuit, scale_factor, seed=self.seed)
        if self.method == "global":
            return fold_global(circuit, scale_factor)
        return fold_all(circuit, scale_factor)

    def engine_setting(self, noise: NoiseSpec, scale_factor: float) -> tuple[NoiseSpec, int]:
        """Every gate folded ``(s - 1) / 2`` times; odd integer ``s`` and local folding only."""
        if self.method == "global":
            raise ConfigError(
                "ZNE scaling='fold_global' folds the whole circuit, which the fast engine (state "
                "preparation, then ansatz) cannot run; accepted here: fold_random, fold_all, "
                "pulse_stretch"
            )
        if not _odd_integer(scale_factor):
            raise ConfigError(
                f"ZNE scale factor {scale_factor:g} with scaling={self.name!r}: the engines "
                "fold every gate G -> G (G^-1 G)^k, so factors must be odd integers (1, 3, 5, "
                "...); use pulse_stretch for other factors"
            )
        return noise, int(scale_factor)

    @property
    def name(self) -> str:
        """The CLI/YAML name."""
        return f"fold_{self.method}"

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain data."""
        return {"scaling": self.name, "seed": self.seed} if self.method == "random" else {
            "scaling": self.name}


@dataclass(frozen=True)
class Stretch:
    """Cirq tag: the operation runs with its pulses stretched by ``factor``."""

    factor: float

    def __str__(self) -> str:
        return f"stretch x{self.factor:g}"


@dataclass(frozen=True)
class PulseStretch(NoiseScaling):
    """Every pulse stretched by the scale factor; readout unchanged (see the module docstring)."""

    hardware_runnable = False

    def __call__(self, circuit: Any, scale_factor: float) -> Any:
        import cirq

        if not math.isfinite(scale_factor) or scale_factor < 1:
            raise ConfigError(f"pulse stretch factor {scale_factor!r} must be finite and >= 1")
        tag = Stretch(float(scale_factor))
        return cirq.map_operations(circuit, lambda op, _: op.with_tags(tag))

    def engine_setting(self, noise: NoiseSpec, scale_factor: float) -> tuple[NoiseSpec, int]:
        """The stretched noise spec, no folding."""
        return noise.stretched(scale_factor), 1

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain data."""
        return {"scaling": "pulse_stretch"}


def stretch_factor(circuit: Any) -> float:
    """The :class:`Stretch` factor of a circuit's operations (1 when untagged).

    Raises:
        ConfigError: operations carry different factors.
    """
    factors = {
        tag.factor for op in circuit.all_operations() for tag in op.tags if isinstance(tag, Stretch)
    }
    if len(factors) > 1:
        raise ConfigError(f"a circuit mixes pulse-stretch factors {sorted(factors)}")
    return factors.pop() if factors else 1.0


def _odd_integer(value: float) -> bool:
    return float(value).is_integer() and int(value) % 2 == 1


#: The CLI/YAML names of the strategies, each with its constructor ``seed -> NoiseScaling``.
SCALINGS: dict[str, Callable[[int], NoiseScaling]] = {
    "fold_random": lambda seed: GateFolding("random", seed),
    "fold_global": lambda seed: GateFolding("global", seed),
    "fold_all": lambda seed: GateFolding("all", seed),
    "pulse_stretch": lambda seed: PulseStretch(),
}


def make_scaling(name: str, seed: int = 0) -> NoiseScaling:
    """The strategy named ``name`` (one of :data:`SCALINGS`).

    Raises:
        ConfigError: unknown name.
    """
    if name not in SCALINGS:
        raise ConfigError(
            f"ZNE scaling={name!r} is not valid; accepted: {', '.join(SCALINGS)}"
        )
    return SCALINGS[name](seed)
