"""Sweep runner: resume after interruption, recorded failures, crashed workers, Dask."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _sweep_helpers import (
    MARKER_ENV,
    always_crash_point,
    cheap_point,
    crash_once_point,
    failing_point,
)

from qaa_hw.analysis.runner import run_sweep
from qaa_hw.analysis.store import ResultStore
from qaa_hw.analysis.sweep_spec import SweepSpec, parse_sweep_spec
from qaa_hw.errors import ConfigError

HELPERS = Path(__file__).resolve().parent


def grid(**extra: object) -> SweepSpec:
    return parse_sweep_spec({"name": "t", "devices": ["ibm_torino"], "qubits": [1, 2, 3],
                             "layers": [1, 2], **extra})


def keys_and_count(folder: Path) -> tuple[set[str], int]:
    db = sqlite3.connect(folder / "results.sqlite")
    keys = [r[0] for r in db.execute("SELECT key FROM points")]
    db.close()
    return set(keys), len(keys)


def test_runs_and_resumes_without_duplicates(tmp_path: Path) -> None:
    spec = grid()
    first = run_sweep(spec, tmp_path, workers=2, point_fn=cheap_point, progress=False)
    assert (first.total, first.ok, first.failed, first.skipped) == (6, 6, 0, 0)
    again = run_sweep(spec, tmp_path, workers=2, point_fn=cheap_point, progress=False)
    assert (again.ok, again.skipped) == (0, 6)
    keys, count = keys_and_count(tmp_path)
    assert count == 6 and keys == {p.key for p in spec.points()}
    rows = ResultStore(tmp_path).rows()
    assert {r["value"] for r in rows} == {float(n) for n in (1, 2, 3)}


def test_failing_point_is_recorded_and_others_complete(tmp_path: Path) -> None:
    summary = run_sweep(grid(), tmp_path, workers=2, point_fn=failing_point, progress=False)
    assert (summary.ok, summary.failed) == (4, 2)
    with ResultStore(tmp_path) as store:
        failures = store.failures()
        assert {f["qubits"] for f in failures} == {3}
        assert failures[0]["error"] == "ValueError: synthetic failure for n=3"
        assert "Traceback" in failures[0]["traceback"]
    # Failed points count as finished unless retried.
    assert run_sweep(grid(), tmp_path, point_fn=failing_point, progress=False).skipped == 6
    retry = run_sweep(grid(), tmp_path, point_fn=cheap_point, retry_failed=True, progress=False)
    assert (retry.ok, retry.skipped) == (2, 4)
    assert ResultStore(tmp_path).count() == {"ok": 6, "failed": 0}


def test_worker_killed_mid_sweep_loses_nothing(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MARKER_ENV, str(tmp_path))
    spec = grid(layers=[1, 2, 3])
    summary = run_sweep(spec, tmp_path / "out", workers=2, point_fn=crash_once_point,
                        progress=False)
    assert summary.crashes == 1
    assert (summary.ok, summary.failed) == (9, 0)
    keys, count = keys_and_count(tmp_path / "out")
    assert count == 9 and keys == {p.key for p in spec.points()}
    attempts = {r["qubits"]: r["attempts"] for r in ResultStore(tmp_path / "out").rows()
                if r["layers"] == 2}
    assert attempts[2] == 2  # the crashing point ran again, alone


def test_point_that_always_kills_its_worker_is_recorded(tmp_path: Path) -> None:
    summary = run_sweep(grid(), tmp_path, workers=2, point_fn=always_crash_point,
                        progress=False, max_crashes=2)
    assert (summary.ok, summary.failed) == (5, 1)
    (failure,) = ResultStore(tmp_path).failures()
    assert (failure["qubits"], failure["layers"]) == (2, 1)
    assert failure["error"].startswith("WorkerCrash: the worker process died")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
def test_interrupted_sweep_resumes(tmp_path: Path, sig: signal.Signals) -> None:
    """Kill (or Ctrl-C) the whole sweep, parent and pool, mid-run; rerun; check the keys."""
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import signal
        import sys
        # A terminal's Ctrl-C even when started with SIGINT ignored (background jobs of a
        # non-interactive shell inherit that, and Python then installs no handler).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.path.insert(0, {str(HELPERS)!r})
        from _sweep_helpers import slow_point
        from qaa_hw.analysis.runner import run_sweep
        from qaa_hw.analysis.sweep_spec import parse_sweep_spec
        if __name__ == "__main__":
            spec = parse_sweep_spec({{"devices": ["ibm_torino"], "qubits": [1, 2, 3, 4],
                                      "layers": [1, 2, 3, 4, 5]}})
            run_sweep(spec, {str(out)!r}, workers=2, point_fn=slow_point, progress=False)
    """)
    path = tmp_path / "sweep.py"
    path.write_text(script)
    proc = subprocess.Popen([sys.executable, str(path)], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline and done < 4:
            time.sleep(0.1)
            if (out / "results.sqlite").exists():
                try:
                    done = keys_and_count(out)[1]
                except sqlite3.OperationalError:
                    done = 0
        assert proc.poll() is None, "the sweep finished before it could be interrupted"
    finally:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0
    kept, count = keys_and_count(out)
    assert 4 <= count < 20
    assert ResultStore(out).count()["failed"] == 0  # an interruption is not a failure
    spec = parse_sweep_spec({"devices": ["ibm_torino"], "qubits": [1, 2, 3, 4],
                             "layers": [1, 2, 3, 4, 5]})
    summary = run_sweep(spec, out, workers=2, point_fn=cheap_point, progress=False)
    assert summary.skipped == count and summary.ok == 20 - count
    keys, total = keys_and_count(out)
    assert total == 20 and keys == {p.key for p in spec.points()} and kept <= keys


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="executor='ray' is not valid"):
        run_sweep(grid(), tmp_path, executor="ray")
    with pytest.raises(ConfigError, match="workers=0 is not valid"):
        run_sweep(grid(), tmp_path, workers=0)


def test_dask_matches_local(tmp_path: Path) -> None:
    """The same sweep (real compile + noisy simulation) on a Dask LocalCluster and locally."""
    from distributed import Client, LocalCluster

    spec = parse_sweep_spec({"devices": ["ibm_torino"], "qubits": [1, 2], "layers": [1],
                             "seeds": [0, 1], "inputs": 4})
    run_sweep(spec, tmp_path / "local", workers=1, progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        summary = run_sweep(spec, tmp_path / "dask", executor="dask", client=client,
                            progress=False)
    assert (summary.ok, summary.failed) == (4, 0)
    local = ResultStore(tmp_path / "local").rows()
    remote = ResultStore(tmp_path / "dask").rows()
    assert [r["key"] for r in local] == [r["key"] for r in remote]
    timing = {"wall_s", "worker", "finished_at", "compile_s", "simulate_s", "mitigate_s"}
    for a, b in zip(local, remote, strict=True):
        for column, value in a.items():
            if column in timing:
                continue
            if isinstance(value, float):
                assert b[column] == pytest.approx(value, rel=1e-9, abs=1e-12), column
            else:
                assert b[column] == value, column


def test_pending_prefers_the_freed_workers_group() -> None:
    from qaa_hw.analysis.runner import _Pending, affinity_key

    spec = parse_sweep_spec({"devices": ["ibm_torino"], "qubits": [1, 2],
                             "mitigation": ["none", "zne", "rem"]})
    pending = _Pending(spec.points())
    first = pending.take(None, set())
    second = pending.take(None, {affinity_key(first)})  # initial fill: another group
    assert affinity_key(second) != affinity_key(first)
    third = pending.take(affinity_key(first), {affinity_key(second)})  # first's worker freed
    assert affinity_key(third) == affinity_key(first) and third.mitigation == "zne"
    pending.put_back(third)
    assert pending.take(None, set()) == third
    remaining = []
    while pending:
        remaining.append(pending.take(None, set()))
    assert len(remaining) == 3
