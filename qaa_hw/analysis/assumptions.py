"""The assumptions a user sets for a feasibility assessment: verdict thresholds and what a
training run on a QPU looks like (``docs/feasibility.md`` explains every number)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from qaa_hw.errors import ConfigError

GRADIENTS: tuple[str, ...] = ("parameter_shift", "forward")


@dataclass(frozen=True)
class Thresholds:
    """Verdict thresholds (see the module docstring and ``docs/feasibility.md``)."""

    esp_feasible: float = 0.5
    esp_marginal: float = 0.1
    t2_feasible: float = 0.25
    t2_marginal: float = 1.0
    error_feasible: float = 0.05
    error_marginal: float = 0.15

    def __post_init__(self) -> None:
        if not 0 < self.esp_marginal <= self.esp_feasible <= 1:
            raise ConfigError("thresholds: need 0 < esp_marginal <= esp_feasible <= 1")
        if not 0 < self.t2_feasible <= self.t2_marginal:
            raise ConfigError("thresholds: need 0 < t2_feasible <= t2_marginal")
        if not 0 < self.error_feasible <= self.error_marginal:
            raise ConfigError("thresholds: need 0 < error_feasible <= error_marginal")

    def to_dict(self) -> dict[str, float]:
        """Plain data."""
        return asdict(self)


@dataclass(frozen=True)
class TrainingAssumptions:
    """What a training run and generation on a QPU are assumed to look like.

    Attributes:
        tokens_per_step: tokens per optimizer step (batch x sequence length), default 512
            (4 sequences of 128 tokens).
        modules: adapted modules per token (e.g. ``q_proj`` and ``v_proj`` of one block).
        steps_per_epoch: optimizer steps per epoch (default 250: 128k tokens).
        shots: shots per circuit used for the cost when a sweep point is exact
            (``shots: null``); points with shots use their own.
        gradient: ``"parameter_shift"`` (2P + 1 circuits per token and module) or
            ``"forward"`` (1; the cost of a forward pass only).
    """

    tokens_per_step: int = 512
    modules: int = 2
    steps_per_epoch: int = 250
    shots: int = 1000
    gradient: str = "parameter_shift"

    def __post_init__(self) -> None:
        for f in ("tokens_per_step", "modules", "steps_per_epoch", "shots"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{f}: expected an integer >= 1, got {v!r}")
        if self.gradient not in GRADIENTS:
            raise ConfigError(f"gradient: expected one of {', '.join(GRADIENTS)}, "
                              f"got {self.gradient!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TrainingAssumptions:
        """Build from a ``training:`` mapping; unknown keys are errors naming the key."""
        names = {f.name for f in fields(cls)}
        for key in data:
            if key not in names:
                raise ConfigError(f"{key}: unknown field (accepted: {', '.join(sorted(names))})")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)
