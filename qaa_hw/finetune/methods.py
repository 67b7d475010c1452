"""One entry point per fine-tuning method: wrap a base model, say how to run and save it.

``build_adapted(model, settings)`` returns an :class:`AdaptedModel` for every method of
:data:`METHODS`; training and evaluation only talk to that record, so every method runs
through the same loop on the same data:

* ``qaa`` and its ablations (:data:`qaa_hw.adapters.ablations.ABLATIONS`: ``qaa-frozen``,
  ``qaa-const``, ``qaa-nocircuit``, ``quadratic``), all configured by ``settings.qaa``;
* ``lora``, ``prefix`` (peft) and ``sora``;
* ``base``: the base model as is (nothing trained);
* the text rules of :data:`qaa_hw.finetune.rules.RULES` (``retrieval``, ``template``),
  which have no model at all and are scored by the training loop directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from qaa_hw.adapters.baselines import LoRASettings, PrefixSettings
from qaa_hw.adapters.common import ParameterCount, count_parameters
from qaa_hw.adapters.qaa import QAAConfig
from qaa_hw.adapters.sora import SoRAConfig
from qaa_hw.errors import ConfigError, did_you_mean
from qaa_hw.finetune.names import METHODS, QAA_METHODS, RULE_METHODS


@dataclass(frozen=True)
class MethodSettings:
    """The method and the settings of each adapter (only the chosen one is used).

    Attributes:
        method: one of :data:`METHODS`.
        qaa: QAA adapter configuration (also of the QAA ablations).
        lora: LoRA (peft) settings.
        prefix: Prefix-tuning (peft) settings.
        sora: SoRA settings.
    """

    method: str = "qaa"
    qaa: QAAConfig = field(default_factory=QAAConfig)
    lora: LoRASettings = field(default_factory=LoRASettings)
    prefix: PrefixSettings = field(default_factory=PrefixSettings)
    sora: SoRAConfig = field(default_factory=SoRAConfig)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"method={self.method!r} is not valid{did_you_mean(self.method, METHODS)}; "
                f"accepted: {', '.join(METHODS)}"
            )

    def adapter_settings(self) -> dict[str, Any]:
        """The chosen adapter's settings as plain data."""
        if self.method in QAA_METHODS:
            return self.qaa.to_dict()
        if self.method not in ("lora", "prefix", "sora"):
            return {}
        chosen: Any = getattr(self, self.method)
        settings: dict[str, Any] = chosen.to_dict()
        return settings


@dataclass
class AdaptedModel:
    """A base model with one adapter method applied.

    Attributes:
        method: the method name.
        model: what training calls, ``model(input_ids=, attention_mask=, labels=)`` (the
            peft wrapper for LoRA/Prefix, the modified base model for QAA/SoRA).
        lm: the underlying Hugging Face causal LM that generation calls directly (adapter
            layers injected in it; for Prefix the prefix comes from ``prefix_cache``).
        prefix_cache: ``batch_size -> KV cache`` holding the trained prefix (Prefix only).
        num_prefix_tokens: length of that prefix (0 otherwise).
        state_prefixes: name fragments of the adapter's parameters/buffers to checkpoint.
        after_step: called with the learning rate after every optimiser step (SoRA's
            proximal step), or ``None``.
    """

    method: str
    model: nn.Module
    lm: nn.Module
    prefix_cache: Callable[[int], Any] | None = None
    num_prefix_tokens: int = 0
    state_prefixes: tuple[str, ...] = ()
    after_step: Callable[[float], Any] | None = None

    def parameters_count(self) -> ParameterCount:
        """Trainable / total parameters (peft prompt encoders included)."""
        return count_parameters(self.model)


def build_adapted(model: nn.Module, settings: MethodSettings) -> AdaptedModel:
    """Apply ``settings.method`` to ``model`` (in place for QAA/SoRA).

    Raises:
        ConfigError: the adapter's target modules are not in the model, or the method is a
            text rule (no model to adapt).
    """
    method = settings.method
    if method in QAA_METHODS:
        from qaa_hw.adapters.ablations import ABLATIONS
        from qaa_hw.adapters.qaa import PREFIX as QAA_PREFIX
        from qaa_hw.adapters.qaa import inject_qaa

        inject_qaa(model, settings.qaa, ABLATIONS.get(method))
        return AdaptedModel(method, model, model, state_prefixes=(QAA_PREFIX,))
    if method == "base":
        for p in model.parameters():
            p.requires_grad_(False)
        return AdaptedModel(method, model, model)
    if method in RULE_METHODS:
        raise ConfigError(f"method={method!r} is a text rule; it adapts no model")
    if method == "sora":
        from qaa_hw.adapters.sora import PREFIX as SORA_PREFIX
        from qaa_hw.adapters.sora import inject_sora, sora_proximal_step

        inject_sora(model, settings.sora)
        lam = settings.sora.sparse_lambda

        def proximal(lr: float) -> int:
            return sora_proximal_step(model, lr, lam)

        return AdaptedModel(method, model, model, state_prefixes=(SORA_PREFIX,),
                            after_step=proximal)
    if method == "lora":
        from qaa_hw.adapters.baselines import apply_lora

        peft_model = apply_lora(model, settings.lora)
        return AdaptedModel(method, peft_model, _base_of(peft_model),
                            state_prefixes=("lora_",))
    from qaa_hw.adapters.baselines import apply_prefix, prefix_cache

    peft_model = apply_prefix(model, settings.prefix)

    def cache(batch: int) -> Any:
        return prefix_cache(peft_model, batch)

    return AdaptedModel(method, peft_model, _base_of(peft_model), prefix_cache=cache,
                        num_prefix_tokens=settings.prefix.num_virtual_tokens,
                        state_prefixes=("prompt_encoder",))


def _base_of(peft_model: nn.Module) -> nn.Module:
    get_base = getattr(peft_model, "get_base_model", None)
    base: nn.Module = get_base() if get_base is not None else peft_model
    return base
