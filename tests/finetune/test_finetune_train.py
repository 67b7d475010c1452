"""The training loop on the tiny model: loss goes down, resume is exact, λ = 0 equals ideal."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import torch

from qaa_hw.adapters.qaa import QAAConfig, qaa_layers
from qaa_hw.compile.cache import CompileCache
from qaa_hw.errors import ConfigError
from qaa_hw.finetune.data import load_jsonl, task_files
from qaa_hw.finetune.evaluate import (
    EvalSetting,
    evaluate_settings,
    greedy_generate,
    settings_grid,
)
from qaa_hw.finetune.methods import MethodSettings, build_adapted
from qaa_hw.finetune.models import tiny_model
from qaa_hw.finetune.train import TrainConfig, run_finetune

FAST = {"model": "tiny", "batch_size": 4, "train_examples": 32, "eval_examples": 2,
        "max_new_tokens": 4, "bertscore": False, "checkpoint_every": 0}


def _config(method: str = "qaa", **kw) -> TrainConfig:
    settings = MethodSettings(method=method, qaa=QAAConfig(num_qubits=3, num_layers=1))
    return TrainConfig(methods=settings, **{**FAST, **kw})


def test_short_run_lowers_training_loss(tmp_path: Path) -> None:
    summary = run_finetune(_config(steps=24), tmp_path / "run", progress=False)
    first, last = sum(summary.losses[:4]) / 4, sum(summary.losses[-4:]) / 4
    assert last < first - 0.05
    events = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "train"] == list(range(1, 25))
    assert [e["backend"] for e in events if e["event"] == "eval"] == ["ideal"]
    with sqlite3.connect(tmp_path / "run" / "results.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 1
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["steps_done"] == 24


@pytest.mark.parametrize("method", ["qaa", "sora"])
def test_resume_reproduces_the_next_step_loss(tmp_path: Path, method: str) -> None:
    config = _config(method, steps=5)
    straight = run_finetune(config, tmp_path / "a", progress=False)
    run_finetune(config, tmp_path / "b", progress=False, stop_after=3)
    resumed = run_finetune(config, tmp_path / "b", progress=False, resume=True)
    assert resumed.losses == straight.losses  # the steps of both runs, none repeated
    with pytest.raises(ConfigError, match="already has a checkpoint"):
        run_finetune(config, tmp_path / "b", progress=False)
    other = _config(method, steps=5, lr=0.5)
    with pytest.raises(ConfigError, match=r"other settings \(learning_rate, lr\)"):
        run_finetune(other, tmp_path / "b", progress=False, resume=True)


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="apply to QAA circuits only"):
        TrainConfig(methods=MethodSettings(method="lora"), train_noise="ibm_brisbane")
    with pytest.raises(ConfigError, match="mitigation='pec' is not valid"):
        TrainConfig(eval_devices=("ibm_brisbane",), mitigation=("pec",))
    with pytest.raises(ConfigError, match="method='qa' is not valid; did you mean 'qaa'"):
        MethodSettings(method="qa")


def test_noisy_evaluation_at_scale_zero_equals_ideal() -> None:
    model, tok = tiny_model(seed=5)
    adapted = build_adapted(model, MethodSettings(qaa=QAAConfig(num_qubits=3, num_layers=2)))
    with torch.no_grad():
        for _, layer in qaa_layers(model):
            layer.qaa_up.normal_(0, 1.0)
    examples = load_jsonl(task_files("e2e_mini")[1], limit=3)
    settings = settings_grid(["ibm_brisbane"], [0.0, 2.0], ["none", "zne"])
    results = evaluate_settings(adapted, tok, examples, settings,
                                compile_cache=CompileCache(), max_new_tokens=6)
    ideal = results[0][1]
    assert results[0][0] == EvalSetting()
    for setting, result in results[1:]:
        if setting.noise_scale == 0.0:
            assert result.loss == pytest.approx(ideal.loss, abs=1e-5)
            assert result.predictions == ideal.predictions
            assert result.scores.rouge_l == pytest.approx(ideal.scores.rouge_l, abs=1e-12)
    noisy2 = {s.mitigation: r.loss for s, r in results if s.noise_scale == 2.0}
    assert abs(noisy2["none"] - ideal.loss) > 1e-4


@pytest.mark.parametrize("method", ["qaa", "lora", "prefix"])
def test_cached_greedy_generation_equals_full_forward_greedy(method: str) -> None:
    model, tok = tiny_model(seed=6)
    adapted = build_adapted(model, MethodSettings(method=method))
    with torch.no_grad():  # move every adapter away from its identity initialisation
        for p in adapted.model.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)) * 0.3)
    prompts = ["name[Blue Lantern]", "a", "eatType[pub], food[French]"]
    fast = greedy_generate(adapted, tok, prompts, max_new_tokens=6, batch_size=3)
    slow = []
    with torch.no_grad():
        for prompt in prompts:
            ids = tok(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            new: list[int] = []
            for _ in range(6):
                nxt = int(adapted.model(input_ids=ids).logits[0, -1].argmax())
                if nxt == tok.eos_token_id:
                    break
                new.append(nxt)
                ids = torch.cat((ids, torch.tensor([[nxt]])), dim=1)
            slow.append(tok.decode(new, skip_special_tokens=True).strip())
    assert fast == slow
