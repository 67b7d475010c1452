"""The fine-tuning results store as the report reads it: rows, means, shots from the study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qaa_hw.analysis.task_quality import load_quality_store, quality_table, shots_from_study
from qaa_hw.errors import ConfigError


def _store(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "study.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _shots_row(shots: object, loss: float, seed: int = 0, **over: object) -> dict:
    return {"kind": "shots", "name": "qaa", "seed": seed, "device": "ibm_torino",
            "mitigation": "none", "shots": shots, "metrics": {"loss": loss}, **over}


def test_rows_means_and_shots(tmp_path: Path) -> None:
    rows = load_quality_store(_store(tmp_path, [
        {"kind": "train", "name": "qaa", "seed": 0, "metrics": {"loss": 1.0}},  # skipped
        _shots_row("exact", 2.0), _shots_row("exact", 2.2, seed=1),
        _shots_row(100, 2.5), _shots_row(1000, 2.11), _shots_row(1000, 2.12, seed=1),
        _shots_row(1000, 2.0, mitigation="rem", metrics={"loss": 2.0, "rouge_l": 0.4}),
    ]))
    assert len(rows) == 6 and {r.device for r in rows} == {"ibm_torino"}
    table = quality_table(rows)
    exact = next(r for r in table if r["mitigation"] == "none" and r["shots"] is None)
    assert exact["seeds"] == 2 and exact["loss"] == pytest.approx(2.1)
    assert [r["shots"] for r in table if r["mitigation"] == "none"] == [100, 1000, None]
    assert shots_from_study(rows) == 1000  # 2.115 <= 2.1 x 1.01; 100 shots: 2.5 is not
    assert shots_from_study(rows, tolerance=0.2) == 100
    assert shots_from_study(rows, mitigation="rem") is None  # no exact reference


def test_shots_none_when_no_shots_reach_the_exact_loss(tmp_path: Path) -> None:
    rows = load_quality_store(_store(tmp_path, [_shots_row("exact", 2.0),
                                                _shots_row(1000, 2.5)]))
    assert shots_from_study(rows) is None


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", r"study\.jsonl line 1: not JSON"),
    (json.dumps(_shots_row(0, 2.0)), r"line 1: shots=0 is not valid; accepted: an integer"),
    (json.dumps({"device": "ibm_torino", "metrics": {}}), r"line 1: a device row needs"),
])
def test_bad_store(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "study.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=message):
        load_quality_store(path)


def test_a_store_without_device_rows_gives_no_section(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "study.jsonl"
    path.write_text(json.dumps({"kind": "train", "metrics": {"loss": 1.0}}) + "\n")
    assert load_quality_store(path) == []
    assert "has no row evaluated on a device yet" in caplog.text
