"""Helpers shared by the adapters: target matching, freezing, parameter counts, state dicts.

Every adapter of this package follows the peft tuner convention: the adapter's parameters
and buffers carry a name prefix (``qaa_``, ``sora_``; peft's own ``lora_`` / prompt encoder
for the baselines) and only parameters whose name contains that prefix are trainable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from qaa_hw.errors import ConfigError


@dataclass(frozen=True)
class ParameterCount:
    """Trainable and total parameter counts of a model.

    Attributes:
        trainable: parameters with ``requires_grad``.
        total: all parameters (frozen base included).
        share: ``trainable / total`` (a fraction, not a percentage).
    """

    trainable: int
    total: int
    share: float

    @property
    def percent(self) -> float:
        """``100 * share``."""
        return 100.0 * self.share

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {**asdict(self), "percent": self.percent}


def count_parameters(model: nn.Module) -> ParameterCount:
    """Count trainable (``requires_grad``) and total parameters, shared tensors once."""
    seen: set[int] = set()
    trainable = total = 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return ParameterCount(trainable=trainable, total=total, share=trainable / max(total, 1))


def matches_target(module_name: str, targets: Sequence[str]) -> bool:
    """peft-style match: the module's full name equals a target or ends with ``"." + target``."""
    return any(module_name == t or module_name.endswith("." + t) for t in targets)


def find_targets(model: nn.Module, targets: Sequence[str]) -> list[tuple[str, nn.Linear]]:
    """Every ``nn.Linear`` whose name matches ``targets``, in ``named_modules`` order.

    Raises:
        ConfigError: nothing matched (the message lists the Linear layer names there are).
    """
    found = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and matches_target(name, targets)
    ]
    if not found:
        suffixes = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                           if isinstance(m, nn.Linear)})
        raise ConfigError(
            f"target_modules={list(targets)!r} matched no nn.Linear in "
            f"{type(model).__name__}; Linear layers there: {', '.join(suffixes) or 'none'}"
        )
    return found


def replace_module(model: nn.Module, name: str, new: nn.Module) -> None:
    """Put ``new`` at dotted path ``name`` inside ``model``."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def freeze_except(model: nn.Module, prefix: str) -> None:
    """``requires_grad`` only for parameters whose name contains ``prefix``."""
    for name, p in model.named_parameters():
        p.requires_grad_(prefix in name)


def trainable_state_dict(model: nn.Module, prefixes: Sequence[str] = ()) -> dict[str, torch.Tensor]:
    """Trainable parameters plus every parameter or buffer whose name contains a prefix.

    This is what an adapter checkpoint stores: the frozen base model is rebuilt from its
    own files, the adapter (including fixed buffers such as a frozen down-projection) from
    here.
    """
    out: dict[str, torch.Tensor] = {}
    for name, p in model.named_parameters():
        if p.requires_grad or any(pre in name for pre in prefixes):
            out[name] = p.detach().clone()
    for name, b in model.named_buffers():
        if any(pre in name for pre in prefixes):
            out[name] = b.detach().clone()
    return out


def load_trainable_state_dict(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy a :func:`trainable_state_dict` back into ``model`` (every key must exist).

    Raises:
        ConfigError: a key is missing from the model or has another shape.
    """
    own: dict[str, torch.Tensor] = dict(model.named_parameters())
    own.update(dict(model.named_buffers()))
    for name, value in state.items():
        target = own.get(name)
        if target is None:
            raise ConfigError(f"checkpoint entry {name!r} does not exist in the model")
        if target.shape != value.shape:
            raise ConfigError(
                f"checkpoint entry {name!r} has shape {tuple(value.shape)}; the model's has "
                f"{tuple(target.shape)}"
            )
        with torch.no_grad():
            target.copy_(value)


def modules_of_type(model: nn.Module, kind: type[nn.Module]) -> Iterator[tuple[str, nn.Module]]:
    """``(name, module)`` for every submodule that is an instance of ``kind``."""
    for name, module in model.named_modules():
        if isinstance(module, kind):
            yield name, module
