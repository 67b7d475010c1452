"""Stop signals: the command ends cleanly, no process outlives it, finished work is kept and
the rerun resumes it.

The sweep runs through the real CLI (``qaa_hw.cli.main.main``) in a child process whose
point function is the slow fake of ``tests/analysis/_sweep_helpers.py`` (so the test
times signals, not quantum simulation); the signal goes to the parent process only, as
``kill PID``, ``timeout`` and schedulers send it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import group_members, subprocess_env

from qaa_hw.analysis.store import ResultStore
from qaa_hw.cli.main import main

SPEC = "name: sig\ndevices: [ibm_torino]\nqubits: [1, 2, 3, 4]\nlayers: [1, 2, 3, 4]\n"
POINTS = 16
#: Seconds every process of the command has to be gone in after the signal.
CLEANUP_S = 10.0


def _count(out: Path) -> int:
    try:
        with sqlite3.connect(out / "results.sqlite") as db:
            return int(db.execute("SELECT COUNT(*) FROM points").fetchone()[0])
    except sqlite3.Error:
        return 0


def _start(tmp_path: Path, argv: list[str], point: str) -> subprocess.Popen[str]:
    """``main(argv)`` in a new session, with the sweep's point function replaced."""
    script = tmp_path / "run_cli.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import qaa_hw.analysis.evaluate as evaluate
        from _sweep_helpers import {point}
        evaluate.evaluate_point = {point}
        from qaa_hw.cli.main import main
        if __name__ == "__main__":
            sys.exit(main({argv!r}))
    """))
    return subprocess.Popen([sys.executable, str(script)], env=subprocess_env(),
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _stop_and_check(proc: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    """Signal the parent only; every process of its group must be gone in CLEANUP_S."""
    try:
        os.kill(proc.pid, sig)
        gone = _wait_for(lambda: not group_members(proc.pid), CLEANUP_S)
        left = group_members(proc.pid)
    finally:
        if group_members(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert gone, f"processes left {CLEANUP_S} s after {sig.name}: {left}"
    return proc.returncode, err


@pytest.mark.parametrize("sig", [
    signal.SIGTERM, pytest.param(signal.SIGHUP, marks=pytest.mark.slow), signal.SIGKILL,
], ids=["SIGTERM", "SIGHUP", "SIGKILL"])
def test_sweep_with_two_workers_stops_cleanly_and_resumes(
    tmp_path: Path, sig: signal.Signals, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec, out = tmp_path / "sig.yaml", tmp_path / "out"
    spec.write_text(SPEC)
    argv = ["sweep", str(spec), "--out", str(out), "--workers", "2", "--no-progress"]
    proc = _start(tmp_path, argv, "slow_point")
    try:
        assert _wait_for(lambda: _count(out) >= 2, 120), "no point finished in 120 s"
        assert proc.poll() is None, "the sweep finished before it could be stopped"
    finally:
        code, err = _stop_and_check(proc, sig)
    done = _count(out)
    assert 2 <= done < POINTS
    assert ResultStore(out).count() == {"ok": done, "failed": 0}  # stopping is no failure
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 128 + sig, err
        last = err.strip().splitlines()[-1]
        assert last == (f"qaa_hw sweep: interrupted by {sig.name}; finished points are kept "
                        f"in {out}/results.sqlite; rerun the same command to resume")
    # the rerun (fast points, same spec and folder) evaluates only the rest
    import _sweep_helpers

    import qaa_hw.analysis.evaluate as evaluate

    monkeypatch.setattr(evaluate, "evaluate_point", _sweep_helpers.cheap_point)
    assert main(argv) == 0
    assert f"{POINTS - done} evaluated, 0 failed, {done} already finished" in (
        capsys.readouterr().out)
    assert ResultStore(out).count() == {"ok": POINTS, "failed": 0}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_dask_sweep_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    spec, out = tmp_path / "sig.yaml", tmp_path / "out"
    spec.write_text(SPEC)
    argv = ["sweep", str(spec), "--out", str(out), "--workers", "2", "--executor", "dask",
            "--no-progress"]
    proc = _start(tmp_path, argv, "slow_point")
    try:
        assert _wait_for(lambda: _count(out) >= 2, 180), "no point finished in 180 s"
        assert proc.poll() is None, "the sweep finished before it could be stopped"
    finally:
        code, err = _stop_and_check(proc, sig)
    if sig == signal.SIGTERM:
        assert code == 128 + signal.SIGTERM, err
        assert "interrupted by SIGTERM; finished points are kept" in err
    assert ResultStore(out).count()["failed"] == 0


@pytest.mark.slow
def test_report_stops_its_quick_sweep_cleanly_on_sigterm(tmp_path: Path) -> None:
    out = tmp_path / "report"
    argv = ["report", "--devices", "ibm_torino", "--out", str(out), "--workers", "2",
            "--no-progress"]
    proc = _start(tmp_path, argv, "slow_point")
    try:
        assert _wait_for(lambda: _count(out / "sweep") >= 2, 120), "no point in 120 s"
        assert proc.poll() is None, "the sweep finished before it could be stopped"
    finally:
        code, err = _stop_and_check(proc, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == (
        f"qaa_hw report: interrupted by SIGTERM; finished sweep points are kept in "
        f"{out}/sweep/results.sqlite; rerun the same command to resume")
    assert ResultStore(out / "sweep").count()["failed"] == 0
    assert not (out / "report.html").exists()


def _finetune_argv(out: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "qaa_hw", "finetune", "--model", "tiny", "--out", str(out),
            "--steps", str(steps), "--batch-size", "2", "--train-examples", "8",
            "--eval-examples", "2", "--max-new-tokens", "2", "--no-bertscore",
            "--checkpoint-every", "0", "--no-progress", "--qubits", "2", "--layers", "1"]


def _train_steps(out: Path) -> list[int]:
    lines = (out / "metrics.jsonl").read_text().splitlines() if (
        out / "metrics.jsonl").exists() else []
    return [json.loads(x)["step"] for x in lines if '"train"' in x]


@pytest.mark.slow
def test_finetune_sigterm_keeps_every_finished_step_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], one_torch_thread: None
) -> None:
    import torch

    out = tmp_path / "ft"
    proc = subprocess.Popen(_finetune_argv(out, 100_000), env=subprocess_env(),
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: len(_train_steps(out)) >= 3, 180), "no training step"
    finally:
        code, err = _stop_and_check(proc, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == (
        f"qaa_hw finetune: interrupted by SIGTERM; finished steps are kept in {out}/"
        "checkpoint.pt; rerun the same command with --resume to continue")
    done = int(torch.load(out / "checkpoint.pt", weights_only=False)["step"])
    assert _train_steps(out) == list(range(1, done + 1))  # nothing logged is lost
    # resuming with fewer steps than done would shorten the run: refused, nothing changed
    assert main([*_finetune_argv(out, done - 1)[3:], "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"steps={done - 1} is fewer than the {done} steps already in" in err
    assert main([*_finetune_argv(out, done + 2)[3:], "--resume"]) == 0
    assert _train_steps(out) == list(range(1, done + 3))  # no step twice
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps_done"] == done + 2 and len(summary["losses"]) == done + 2
    assert main([*_finetune_argv(out, done + 2)[3:], "--resume"]) == 2
    assert "already finished its" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text()) == summary
