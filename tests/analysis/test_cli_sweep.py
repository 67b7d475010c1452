"""``qaa_hw sweep`` and ``qaa_hw report`` end to end on a tiny real sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qaa_hw.cli.main import main

SPEC = """
name: cli_tiny
devices: [ibm_torino]
qubits: [1, 2]
layers: [1]
inputs: 4
"""


def test_sweep_then_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "sweep"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "2 evaluated, 0 failed" in text
    assert (out / "results.csv").is_file() and (out / "results.parquet").is_file()
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    assert "0 evaluated, 0 failed, 2 already finished" in capsys.readouterr().out
    rep = tmp_path / "report"
    store = tmp_path / "finetune_study.jsonl"
    store.write_text("\n".join(json.dumps(r) for r in STUDY_ROWS) + "\n")
    assert main(["report", "--devices", "ibm_torino", "--sweep", str(out), "--out", str(rep),
                 "--model", "tiny", "--target-modules", "q_proj,v_proj,o_proj",
                 "--finetune-store", str(store), "--usd-per-qpu-second", "2",
                 "--price-source", "test price", "--paper-qubits", "3"]) == 0
    text = capsys.readouterr().out
    assert "ibm_torino" in text and "report written to" in text
    md = (rep / "report.md").read_text()
    assert "6 adapted modules (2 layers x 3 targets)" in md
    assert "input gradients for the 3 modules above the lowest layer" in md
    # 1,000 shots is the fewest within 1 % of the exact-value loss on every device
    assert "1000 shots per circuit for exact sweep points (the fewest shots" in md
    assert "USD 2 per QPU-second (test price)" in md
    assert "## Task quality against noise" in md and "| qaa | ibm_torino | 1 | none | 100 |" in md
    assert "### The paper's configuration" in md and "| n=3 L=2 ry ring/exact none |" in md
    assert "Advantage check: ibm_torino (" in md
    assert (rep / "report.html").stat().st_size > 10_000


STUDY_ROWS = [
    {"kind": "train", "name": "qaa", "seed": 0, "metrics": {"loss": 1.9, "rouge_l": 0.3}},
    *[{"kind": "shots", "name": "qaa", "seed": seed, "device": device, "mitigation": "none",
       "shots": shots, "metrics": {"loss": loss + 0.001 * seed}}
      for seed in (0, 1) for device in ("ibm_torino", "ibm_brisbane")
      for shots, loss in (("exact", 2.0), (100, 2.3), (1000, 2.01), (10000, 2.0))],
]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "{bad}"], r"bad\.yaml: qubits\[1\]: expected an integer 1\.\.16, got 'four'"),
        (["report", "--devices", "ibm_brisbain", "--out", "{tmp}"],
         r"device 1: expected a device name .*did you mean 'ibm_brisbane'"),
        (["report", "--devices", "ibm_torino", "--sweep", "{tmp}", "--out", "{tmp}"],
         r"no results\.sqlite there"),
        (["report", "--devices", "ibm_torino", "--out", "{tmp}", "--finetune-store",
          "{tmp}/missing.jsonl"], r"fine-tuning store '.*missing\.jsonl': No such file"),
        (["report", "--devices", "ibm_torino", "--out", "{tmp}", "--model", "gpt9"],
         r"model='gpt9' is not valid; accepted: smollm2-135m, gemma3-270m, tiny or a folder"),

    ],
)
def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             argv: list[str], message: str) -> None:
    import re

    bad = tmp_path / "bad.yaml"
    bad.write_text("devices: [ibm_torino]\nqubits: [2, four]\n")
    argv = [a.replace("{bad}", str(bad)).replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1


@pytest.mark.slow
def test_report_without_sweep_runs_the_quick_sweep(tmp_path: Path) -> None:
    assert main(["report", "--devices", "ibm_torino", "--out", str(tmp_path), "--workers", "2",
                 "--no-progress"]) == 0
    assert (tmp_path / "sweep" / "results.sqlite").is_file()
    assert "## ibm_torino" in (tmp_path / "report.md").read_text()
