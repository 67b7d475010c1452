"""SoRA: sparse low-rank adaptation (Ding et al., 2023), implemented here.

A :class:`SoRALinear` wraps a frozen ``nn.Linear`` like LoRA, with a gate vector ``g`` of
length ``r`` between the down- and up-projections:

    ``delta(x) = (alpha / r) * up(g ⊙ down(x))``

``down`` is Kaiming-uniform initialised, ``up`` is zero (the model starts as the base model)
and ``g`` starts at one. The gate is trained with an L1 penalty by a proximal step after
every optimiser step (:func:`sora_proximal_step`): ``g <- sign(g) max(|g| - lr * lambda, 0)``
(soft-thresholding), which sets small gates exactly to zero and prunes the corresponding
rank-one components: the effective rank (:func:`sora_active_rank`) shrinks during training.

Parameters are named ``sora_*``; :func:`inject_sora` freezes everything else.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from qaa_hw.adapters.common import find_targets, freeze_except, replace_module
from qaa_hw.errors import ConfigError

PREFIX = "sora_"


@dataclass(frozen=True)
class SoRAConfig:
    """What SoRA adapter to inject and where.

    Attributes:
        target_modules: names (or suffixes) of the ``nn.Linear`` layers to wrap.
        r: maximum rank (length of the gate).
        alpha: scaling numerator (the delta is multiplied by ``alpha / r``).
        sparse_lambda: L1 strength of the gate; the proximal threshold is ``lr * lambda``.
        seed: seed of the down-projections (layer i uses ``seed + i``).
    """

    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    r: int = 8
    alpha: float = 16.0
    sparse_lambda: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        targets = self.target_modules
        if isinstance(targets, str):
            targets = (targets,)
        object.__setattr__(self, "target_modules", tuple(targets))
        if not self.target_modules:
            raise ConfigError("target_modules=() is not valid; accepted: one or more names")
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise ConfigError(f"r={self.r!r} is not valid; accepted: an integer >= 1")
        if not math.isfinite(self.alpha) or self.alpha <= 0:
            raise ConfigError(f"alpha={self.alpha!r} is not valid; accepted: a number > 0")
        if not math.isfinite(self.sparse_lambda) or self.sparse_lambda < 0:
            raise ConfigError(
                f"sparse_lambda={self.sparse_lambda!r} is not valid; accepted: a number >= 0"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        out = asdict(self)
        out["target_modules"] = list(self.target_modules)
        return out


class SoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus the gated low-rank delta (see the module docstring)."""

    def __init__(self, base_layer: nn.Linear, config: SoRAConfig, *, index: int = 0) -> None:
        super().__init__()
        self.base_layer = base_layer
        self.config = config
        self.scaling = config.alpha / config.r
        dtype = torch.float32  # adapter tensors stay float32 whatever the base dtype
        gen = torch.Generator().manual_seed(int(config.seed) + index)
        bound = 1.0 / math.sqrt(base_layer.in_features)  # kaiming_uniform(a=sqrt 5), as LoRA
        down = (torch.rand(config.r, base_layer.in_features, generator=gen) * 2 - 1) * bound
        self.sora_down = nn.Parameter(down.to(dtype))
        self.sora_gate = nn.Parameter(torch.ones(config.r, dtype=dtype))
        self.sora_up = nn.Parameter(torch.zeros(base_layer.out_features, config.r, dtype=dtype))
        base_layer.weight.requires_grad_(False)
        if base_layer.bias is not None:
            base_layer.bias.requires_grad_(False)

    @property
    def weight(self) -> Tensor:
        """The base layer's weight."""
        return self.base_layer.weight

    def forward(self, x: Tensor) -> Tensor:
        """``base_layer(x) + (alpha / r) * up(gate * down(x))``."""
        result: Tensor = self.base_layer(x)
        h = (x.to(self.sora_down.dtype) @ self.sora_down.T) * self.sora_gate
        return result + ((h @ self.sora_up.T) * self.scaling).to(result.dtype)


def inject_sora(model: nn.Module, config: SoRAConfig) -> nn.Module:
    """Wrap every target ``nn.Linear`` in a :class:`SoRALinear`, in place; freeze the rest.

    Raises:
        ConfigError: no module matched ``config.target_modules``.
    """
    for index, (name, linear) in enumerate(find_targets(model, config.target_modules)):
        replace_module(model, name, SoRALinear(linear, config, index=index))
    freeze_except(model, PREFIX)
    return model


def sora_layers(model: nn.Module) -> Iterator[tuple[str, SoRALinear]]:
    """``(name, layer)`` for every :class:`SoRALinear`."""
    for name, module in model.named_modules():
        if isinstance(module, SoRALinear):
            yield name, module


@torch.no_grad()
def sora_proximal_step(model: nn.Module, lr: float, sparse_lambda: float) -> int:
    """Soft-threshold every gate by ``lr * sparse_lambda``; returns the gates now zero.

    Call it right after ``optimizer.step()`` (the proximal step of the L1 penalty
    ``sparse_lambda * |g|_1``; the penalty itself is not added to the loss).
    """
    threshold = float(lr) * float(sparse_lambda)
    zeros = 0
    for _, layer in sora_layers(model):
        g = layer.sora_gate
        g.copy_(torch.sign(g) * torch.clamp(g.abs() - threshold, min=0.0))
        zeros += int((g == 0).sum())
    return zeros


def sora_active_rank(model: nn.Module) -> tuple[int, int]:
    """``(non-zero gates, all gates)`` over every SoRA layer."""
    active = total = 0
    for _, layer in sora_layers(model):
        active += int((layer.sora_gate != 0).sum())
        total += layer.sora_gate.numel()
    return active, total
