"""The study's resumable store: one row per run, reruns skip finished rows, another budget
is refused; the plan covers every method, seed and shots setting once."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _finetune_study import (
    CORE,
    EXTRA,
    FIXED,
    Budget,
    append_row,
    pending,
    plan,
    read_store,
)


def test_plan_has_each_row_once() -> None:
    budget = Budget()
    rows = plan(budget)
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys))
    trains = [r for r in rows if r.kind == "train"]
    assert len(trains) == len(FIXED) + len(budget.seeds) * (len(CORE) + len(EXTRA))
    shots = [r for r in rows if r.kind == "shots"]
    assert len(shots) == (len(budget.shots_models) * len(budget.devices)
                          * len(budget.mitigations) * len(budget.shots))


def test_rerun_skips_stored_rows_and_refuses_another_budget(tmp_path: Path) -> None:
    budget = Budget()
    store = tmp_path / "store.jsonl"
    rows = plan(budget)
    for row in rows[:3]:
        append_row(store, {"key": row.key, "kind": row.kind, "budget": asdict(budget),
                           "budget_key": budget.key(), "cpu_s": 1.0})
    done = read_store(store, budget)
    assert [r.key for r in pending(rows, done)] == [r.key for r in rows[3:]]
    with pytest.raises(SystemExit, match="another budget"):
        read_store(store, Budget(steps=budget.steps + 1))


def test_second_model_plans_its_methods_once_in_its_own_store() -> None:
    from _finetune_study import MAIN_MODEL, SECOND_MODEL, SECOND_MODEL_METHODS, store_of

    rows = plan(Budget(model=SECOND_MODEL))
    assert [r.key for r in rows] == [f"train/{m}/s0" for m in SECOND_MODEL_METHODS]
    main_store, main_runs = store_of(MAIN_MODEL)
    store, runs = store_of(SECOND_MODEL)
    assert store != main_store and runs != main_runs and runs.parent == main_runs


def test_rows_option_refuses_a_pattern_that_matches_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from finetune import main

    code = main(["--study", "--report-only", "--store", str(tmp_path / "s.jsonl"),
                 "--rows", "train/qaa/s0,train/lora-r2/*"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == ["error: --rows train/lora-r2/* matches no row of the study; keys look like "
                   "train/qaa/s0 or shots/qaa/s0/device=ibm_torino/mitigation=rem/shots=100"]


def test_headline_says_yes_only_when_qaa_beats_every_compared_method() -> None:
    from _finetune_report import QUESTION, headline

    from qaa_hw.analysis.bootstrap import Interval

    runs = {name: [{}] * 3 for name in ("qaa", *QUESTION)}

    def found(words: dict[str, str]) -> list[dict]:
        return [{"other": o, "metric": "loss", "word": w, "diff": Interval(0, 0, 0)}
                for o, w in words.items()]

    all_better = found(dict.fromkeys(QUESTION, "QAA better"))
    assert headline(all_better, runs)[0].startswith("- **test loss: yes.** QAA (3 seeds)")
    mixed = found({**dict.fromkeys(QUESTION, "QAA better"), "lora-r1": "no difference"})
    line = headline(mixed, runs)[0]
    assert line.startswith("- **test loss: no.**")
    assert "no different from LoRA r = 1 (3)" in line


def test_fewest_shots_needs_every_larger_count_to_pass() -> None:
    from _finetune_report import _fewest

    done = [100, 1000, 10000]
    assert _fewest([100, 1000, 10000], done) == "100"
    assert _fewest([1000], done) == "none up to 10,000"  # 10,000 fails again
    assert _fewest([1000, 10000], done) == "1,000"
    assert _fewest([], done) == "none up to 10,000"
