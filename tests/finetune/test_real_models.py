"""The shipped real models load offline, match the cost model's layer table, and take QAA
adapters that leave them unchanged at initialisation (slow: each load dequantises a GGUF)."""

from __future__ import annotations

import pytest
import torch

from qaa_hw.adapters.qaa import QAAConfig, qaa_layers
from qaa_hw.analysis.assumptions import MODEL_LAYERS
from qaa_hw.finetune.methods import MethodSettings, build_adapted
from qaa_hw.finetune.models import load_model

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(MODEL_LAYERS))
def test_real_model_loads_and_takes_qaa(name: str) -> None:
    model, tok = load_model(name)
    assert model.config.num_hidden_layers == MODEL_LAYERS[name]
    ids = tok("word: cat (noun)\ndefinition:", return_tensors="pt").input_ids
    with torch.no_grad():
        before = model(input_ids=ids).logits
    adapted = build_adapted(model, MethodSettings(method="qaa", qaa=QAAConfig()))
    layers = list(qaa_layers(adapted.model))
    assert len(layers) == 2 * MODEL_LAYERS[name]  # q_proj and v_proj of every layer
    with torch.no_grad():
        after = adapted.model(input_ids=ids).logits
    assert torch.isfinite(after).all()
    # the up-projection starts at zero (float32 kernels may round differently: 1e-5 seen)
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-4)
