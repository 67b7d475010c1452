"""SoRA (ours) and the peft baselines (LoRA, Prefix) on the tiny model."""

from __future__ import annotations

import pytest
import torch

from qaa_hw.adapters.baselines import (
    LoRASettings,
    PrefixSettings,
    apply_lora,
    apply_prefix,
    prefix_cache,
)
from qaa_hw.adapters.common import count_parameters
from qaa_hw.adapters.sora import (
    SoRAConfig,
    inject_sora,
    sora_active_rank,
    sora_layers,
    sora_proximal_step,
)
from qaa_hw.errors import ConfigError
from qaa_hw.finetune.models import tiny_model


def test_sora_starts_as_base_model_and_trains_only_sora_parameters() -> None:
    model, tok = tiny_model(seed=4)
    batch = tok(["abc def"], return_tensors="pt")
    with torch.no_grad():
        before = model(**batch).logits.clone()
    inject_sora(model, SoRAConfig(r=4))
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, before)
    model(**batch, labels=batch["input_ids"]).loss.backward()
    graded = {n for n, p in model.named_parameters() if p.grad is not None}
    assert graded and all("sora_" in n for n in graded)
    assert count_parameters(model).trainable == 2 * (4 * 64 + 4 + 64 * 4) + 2 * (
        4 * 64 + 4 + 32 * 4)


def test_sora_proximal_step_zeros_small_gates_and_shrinks_the_rest() -> None:
    model, _ = tiny_model()
    inject_sora(model, SoRAConfig(r=4))
    layers = [layer for _, layer in sora_layers(model)]
    with torch.no_grad():
        layers[0].sora_gate.copy_(torch.tensor([0.5, -0.5, 0.004, -0.002]))
    zeros = sora_proximal_step(model, lr=0.1, sparse_lambda=0.05)  # threshold 0.005
    assert torch.allclose(layers[0].sora_gate, torch.tensor([0.495, -0.495, 0.0, 0.0]))
    assert zeros == 2
    assert sora_active_rank(model) == (4 * len(layers) - 2, 4 * len(layers))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"r": 0}, "r=0"), ({"alpha": 0.0}, "alpha=0.0"), ({"sparse_lambda": -1.0}, "sparse")],
)
def test_sora_config_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        SoRAConfig(**kwargs)


def test_lora_via_peft_trains_lora_parameters_only() -> None:
    model, _tok = tiny_model()
    peft_model = apply_lora(model, LoRASettings(r=2))
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert count_parameters(peft_model).trainable == 2 * (2 * 64 + 64 * 2) + 2 * (
        2 * 64 + 32 * 2)
    with pytest.raises(ConfigError, match=r"matched no nn\.Linear"):
        apply_lora(tiny_model()[0], LoRASettings(target_modules=("nope",)))


def test_prefix_via_peft_and_its_cache() -> None:
    model, _tok = tiny_model()
    peft_model = apply_prefix(model, PrefixSettings(num_virtual_tokens=3))
    count = count_parameters(peft_model)
    assert count.trainable == 3 * 2 * 2 * 32  # tokens x layers x (key, value) x kv width
    cache = prefix_cache(peft_model, 2)
    assert cache.get_seq_length() == 3
    with pytest.raises(ConfigError, match="num_virtual_tokens=0"):
        PrefixSettings(num_virtual_tokens=0)
    with pytest.raises(ConfigError, match="not a peft prompt-learning model"):
        prefix_cache(torch.nn.Linear(2, 2), 1)
