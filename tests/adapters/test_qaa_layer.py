"""QAA adapter layer on a tiny random Llama: zero-init identity, gradients, config errors."""

from __future__ import annotations

import pytest
import torch

from qaa_hw.adapters.common import count_parameters
from qaa_hw.adapters.qaa import (
    QAAConfig,
    QAALinear,
    inject_qaa,
    qaa_layers,
    set_qaa_backend,
    set_qaa_enabled,
)
from qaa_hw.errors import ConfigError
from qaa_hw.finetune.models import tiny_model


def _batch(tok) -> dict[str, torch.Tensor]:
    enc = tok(["Hello there", "Attributes: name[x]"], padding=True, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


CASES = [
    QAAConfig(),
    QAAConfig(readout="probs", num_qubits=3, num_layers=1),
    QAAConfig(target_modules=("q_proj", "v_proj", "o_proj"), train_down=True, rotations="ry_rz"),
    QAAConfig(target_modules=("down_proj",), num_qubits=5, down_dim=20, entangler="line"),
]


@pytest.mark.parametrize("config", CASES, ids=lambda c: f"{c.readout}-{c.num_qubits}q")
def test_zero_initialised_qaa_leaves_logits_unchanged_exactly(config: QAAConfig) -> None:
    model, tok = tiny_model(seed=3)
    batch = _batch(tok)
    with torch.no_grad():
        before = model(**batch).logits.clone()
    inject_qaa(model, config)
    with torch.no_grad():
        after = model(**batch).logits
    assert torch.equal(before, after)
    assert len(list(qaa_layers(model))) == 2 * len(config.target_modules)


@pytest.mark.parametrize("config", CASES, ids=lambda c: f"{c.readout}-{c.num_qubits}q")
def test_only_adapter_parameters_receive_gradients(config: QAAConfig) -> None:
    model, tok = tiny_model(seed=1)
    inject_qaa(model, config)
    with torch.no_grad():  # a non-zero up-projection, so theta gets gradient too
        for _, layer in qaa_layers(model):
            layer.qaa_up.normal_(0, 0.1)
    batch = _batch(tok)
    out = model(**batch, labels=batch["input_ids"])
    out.loss.backward()
    with_grad = {n for n, p in model.named_parameters() if p.grad is not None}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert with_grad == trainable
    assert all("qaa_" in n for n in trainable)
    assert any(n.endswith("qaa_theta") for n in with_grad)
    assert any(n.endswith("qaa_down") for n in with_grad) == config.train_down
    assert all(float(model.get_parameter(n).grad.abs().sum()) > 0 for n in with_grad)


def test_trainable_count_and_share() -> None:
    model, _ = tiny_model()
    total = sum(p.numel() for p in model.parameters())
    cfg = QAAConfig(num_qubits=4, num_layers=2)
    inject_qaa(model, cfg)
    count = count_parameters(model)
    # per layer: theta (2*4) + up (out * 4); q_proj out 64, v_proj out 32 (2 kv heads of 16)
    assert count.trainable == 2 * ((8 + 64 * 4) + (8 + 32 * 4))
    assert count.total == total + count.trainable
    assert count.share == pytest.approx(count.trainable / count.total)


def test_disable_and_backend_switch_change_nothing_at_zero_init() -> None:
    model, _tok = tiny_model()
    inject_qaa(model, QAAConfig())
    set_qaa_enabled(model, False)
    assert all(layer.qaa_disabled for _, layer in qaa_layers(model))
    set_qaa_enabled(model, True)
    from qaa_hw.adapters.backends import IdealBackend

    assert set_qaa_backend(model, IdealBackend()) == 4


def test_layer_repr_and_features() -> None:
    layer = QAALinear(torch.nn.Linear(10, 6), QAAConfig(num_qubits=2, num_layers=1))
    assert layer.in_features == 10 and layer.out_features == 6
    assert "qubits=2" in repr(layer) and "backend=ideal" in repr(layer)
    x = torch.randn(3, 5, 10)
    assert torch.equal(layer(x), layer.base_layer(x))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target_modules": ()}, "target_modules"),
        ({"entangler": "native"}, "entangler='native'"),
        ({"num_qubits": 0}, "qubits=0"),
        ({"down_dim": 17}, r"down_dim=17 .* 1\.\.16"),
        ({"readout": "x"}, "readout='x'"),
        ({"init_scale": -1.0}, "init_scale"),
    ],
)
def test_config_errors_name_the_value(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        QAAConfig(**kwargs)


def test_unknown_target_lists_what_exists() -> None:
    model, _ = tiny_model()
    with pytest.raises(ConfigError, match=r"matched no nn.Linear .*q_proj"):
        inject_qaa(model, QAAConfig(target_modules=("qproj",)))


def test_double_injection_is_refused() -> None:
    model, _ = tiny_model()
    inject_qaa(model, QAAConfig())
    with pytest.raises(ConfigError, match="already has QAA layers"):
        inject_qaa(model, QAAConfig())


def test_bfloat16_base_model_keeps_float32_adapters() -> None:
    model, tok = tiny_model(seed=2)
    model = model.to(torch.bfloat16)
    batch = _batch(tok)
    with torch.no_grad():
        before = model(**batch).logits.clone()
    inject_qaa(model, QAAConfig())
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, before)
    assert {p.dtype for n, p in model.named_parameters() if p.requires_grad} == {torch.float32}
    model(**batch, labels=batch["input_ids"]).loss.backward()
    assert all(p.grad is not None for _, p in model.named_parameters() if p.requires_grad)


def test_load_model_rejects_unknown_dtype() -> None:
    from qaa_hw.finetune.models import load_model

    with pytest.raises(ConfigError, match="dtype='float16' is not valid"):
        load_model("tiny", dtype="float16")
