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
