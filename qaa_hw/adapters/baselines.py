"""Baselines through peft: LoRA and Prefix tuning on the same model and data as QAA.

peft is imported inside the functions (it pulls in transformers).

Prefix tuning and generation: with transformers 5.x, ``PeftModel.generate`` for prefix
tuning passes the prefix as the deprecated ``past_key_values`` next to a ``cache`` that
generation creates, and the model keeps only ``cache``: the prefix is silently dropped at
generation time (measured on transformers 5.24 / peft 0.21: generated scores equal the base
model's). Training forwards are correct. Our evaluation therefore generates with its own
greedy loop (:mod:`qaa_hw.finetune.evaluate`) and obtains the prefix cache from
:func:`prefix_cache`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from qaa_hw.errors import ConfigError


@dataclass(frozen=True)
class LoRASettings:
    """LoRA through ``peft.LoraConfig``.

    Attributes:
        target_modules: module names to adapt.
        r: rank.
        alpha: ``lora_alpha`` (delta scaled by ``alpha / r``).
        dropout: ``lora_dropout``.
    """

    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise ConfigError(f"r={self.r!r} is not valid; accepted: an integer >= 1")
        if not math.isfinite(self.alpha) or self.alpha <= 0:
            raise ConfigError(f"alpha={self.alpha!r} is not valid; accepted: a number > 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout={self.dropout!r} is not valid; accepted: [0, 1)")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {**asdict(self), "target_modules": list(self.target_modules)}


@dataclass(frozen=True)
class PrefixSettings:
    """Prefix tuning through ``peft.PrefixTuningConfig``.

    Attributes:
        num_virtual_tokens: length of the trained prefix (keys and values in every layer).
    """

    num_virtual_tokens: int = 10

    def __post_init__(self) -> None:
        n = self.num_virtual_tokens
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(
                f"num_virtual_tokens={n!r} is not valid; accepted: an integer >= 1"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return asdict(self)


def _check_targets(model: nn.Module, targets: Sequence[str]) -> None:
    from qaa_hw.adapters.common import find_targets

    find_targets(model, targets)  # raises a ConfigError naming what exists


def apply_lora(model: nn.Module, settings: LoRASettings) -> nn.Module:
    """``peft.get_peft_model`` with a LoRA config; returns the ``PeftModel``."""
    from peft import LoraConfig, TaskType, get_peft_model

    _check_targets(model, settings.target_modules)
    config = LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,  # type: ignore[arg-type]  # peft annotates int; floats work
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        task_type=TaskType.CAUSAL_LM,
        bias="none",
    )
    peft_model: nn.Module = get_peft_model(model, config)
    return peft_model


def apply_prefix(model: nn.Module, settings: PrefixSettings) -> nn.Module:
    """``peft.get_peft_model`` with a Prefix-tuning config; returns the ``PeftModel``."""
    from peft import PrefixTuningConfig, TaskType, get_peft_model

    config = PrefixTuningConfig(
        num_virtual_tokens=settings.num_virtual_tokens, task_type=TaskType.CAUSAL_LM
    )
    peft_model: nn.Module = get_peft_model(model, config)
    return peft_model


def prefix_cache(peft_model: nn.Module, batch_size: int) -> Any:
    """The trained prefix as a fresh KV cache for ``batch_size`` rows (``get_prompt``)."""
    get_prompt = getattr(peft_model, "get_prompt", None)
    if get_prompt is None:
        raise ConfigError(f"{type(peft_model).__name__} is not a peft prompt-learning model")
    return get_prompt(batch_size)
