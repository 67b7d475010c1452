"""Sweep throughput with 1 and 2 worker processes, and the per-point cost of the results store.

What is measured:

* **Points per second** of ``run_sweep`` (local process pool) on real points (compile +
  noisy simulation of n = 2-3 adapters on ibm_torino, distinct seeds so no point reuses a
  cached compilation), with 1 and with 2 workers. Two rates: end to end (worker start-up
  and imports included) and steady state (from the arrival of the ``workers``-th result to the
  last one, i.e. once every worker is warm). Goal: 2 workers >= 1.7x one worker.
* **Store overhead**: mean time of ``ResultStore.record`` (one committed SQLite transaction
  per point, WAL) for rows like the sweep's; goal < 5 ms. Also the runner's own per-point
  overhead: the pool round trip plus the store, with a point function that does nothing.

Usage::

    .venv/bin/python benchmarks/sweep_scaling.py [--points 24] [--write-docs]

``--write-docs`` replaces the "## Sweeps" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine_summary, markdown_table, replace_docs_section

from qaa_hw.analysis.runner import run_sweep
from qaa_hw.analysis.store import PointResult, ResultStore
from qaa_hw.analysis.sweep_spec import SweepPoint, parse_sweep_spec


def noop_point(point: SweepPoint) -> dict[str, Any]:
    """A point function that does no work (runner overhead)."""
    return {"esp": 0.5}


def timed_point(point: SweepPoint) -> dict[str, Any]:
    """The default point function, plus the CPU seconds its worker process spent on it."""
    from qaa_hw.analysis.evaluate import evaluate_point

    t0 = time.process_time()
    out = evaluate_point(point)
    out["cpu_s"] = time.process_time() - t0
    return out


def real_points(count: int) -> list[SweepPoint]:
    """``count`` distinct real points: n = 2, 3; L = 1, 2, 3; seeds 0, 1, ..."""
    seeds = list(range(max(1, -(-count // 6))))
    spec = parse_sweep_spec({"devices": ["ibm_torino"], "qubits": [2, 3], "layers": [1, 2, 3],
                             "seeds": seeds, "inputs": 8})
    return spec.points()[:count]


def throughput(points: list[SweepPoint], workers: int, point_fn: Any) -> dict[str, float]:
    """Run the points in a fresh store; return end-to-end and steady-state points/s, the
    1-minute load average before the run and the cores the workers actually got in steady
    state (their CPU seconds per wall second)."""
    arrivals: list[tuple[float, float]] = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = run_sweep(points, Path(tmp), workers=workers, point_fn=point_fn,
                            progress=False, on_result=lambda r: arrivals.append(
                                (time.perf_counter(), float(r.results.get("cpu_s", 0.0)))))
        total = time.perf_counter() - t0
    if summary.failed:
        raise RuntimeError(f"{summary.failed} benchmark points failed")
    n = len(arrivals)
    warm = arrivals[workers - 1][0]
    span = arrivals[-1][0] - warm
    steady = (n - workers) / span if n > workers else float("nan")
    cpu = sum(c for _, c in arrivals[workers:])
    return {"points": n, "seconds": total, "end_to_end": n / total, "steady": steady,
            "load": load, "cores": cpu / span if span > 0 else float("nan")}


def store_overhead(records: int = 400) -> dict[str, float]:
    """Mean and p95 milliseconds of one ``ResultStore.record`` (a committed transaction)."""
    results = {c: 0.123456789 for c in ("depth", "two_qubit_count", "duration_s", "esp",
                                        "output_fidelity", "abs_error", "mitigated_abs_error",
                                        "overhead", "compile_s", "simulate_s")}
    results.update(initial_layout="[1,2,3,4]", final_layout="[1,2,3,4]",
                   active_qubits="[1,2,3,4]")
    times = []
    with tempfile.TemporaryDirectory() as tmp, ResultStore(tmp) as store:
        for i in range(records):
            p = SweepPoint(device="ibm_torino", seed=i)
            r = PointResult(key=p.key, status="ok", settings=p.to_dict(), results=results)
            t0 = time.perf_counter()
            store.record(r)
            times.append(time.perf_counter() - t0)
    times.sort()
    return {"mean_ms": 1e3 * statistics.fmean(times),
            "p95_ms": 1e3 * times[int(0.95 * len(times))]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=24, help="real points per run")
    parser.add_argument("--write-docs", action="store_true",
                        help="replace the '## Sweeps' section of docs/benchmarks.md")
    args = parser.parse_args(argv)
    points = real_points(args.points)
    print(f"{len(points)} real points (ibm_torino, n=2-3, L=1-3, 8 inputs, exact prep noise)")
    rates = {w: throughput(points, w, timed_point) for w in (1, 2)}
    noop = [SweepPoint(device="ibm_torino", seed=i) for i in range(200)]
    runner = {w: throughput(noop, w, noop_point) for w in (1, 2)}
    store = store_overhead()
    rows = []
    for w in (1, 2):
        r = rates[w]
        rows.append([w, f"{r['seconds']:.1f}", f"{r['end_to_end']:.3g}", f"{r['steady']:.3g}",
                     f"{r['end_to_end'] / rates[1]['end_to_end']:.2f}",
                     f"{r['steady'] / rates[1]['steady']:.2f}", f"{r['cores']:.2f}",
                     f"{r['steady'] / r['cores']:.3g}", f"{r['load']:.1f}"])
    table = markdown_table(["workers", "wall (s)", "points/s end to end", "points/s steady",
                            "speed-up end to end", "speed-up steady", "cores obtained",
                            "points per CPU-second", "load avg before"], rows)
    speedup = rates[2]["steady"] / rates[1]["steady"]
    efficiency = (rates[2]["steady"] / rates[2]["cores"]) / (rates[1]["steady"]
                                                             / rates[1]["cores"])
    overhead_rows = [
        ["ResultStore.record (one committed transaction)", f"{store['mean_ms']:.2f}",
         f"{store['p95_ms']:.2f}", f"{store['mean_ms'] / 5.0:.2f}"],
        *[[f"runner round trip + store, no-op point, {w} worker(s)",
           f"{1e3 / runner[w]['steady']:.2f}", "-", f"{1e3 / runner[w]['steady'] / 5.0:.2f}"]
          for w in (1, 2)],
    ]
    overhead = markdown_table(["per-point cost", "mean (ms)", "p95 (ms)", "vs 5 ms goal"],
                              overhead_rows)
    command = "python benchmarks/sweep_scaling.py" + (
        f" --points {args.points}" if args.points != 24 else "")
    section = (
        "## Sweeps\n\n"
        f"Command: `{command} --write-docs`\n\n"
        f"Machine: {machine_summary()}. Workers are spawned processes with one torch thread "
        "each; the host is shared, so rates vary between runs.\n\n"
        f"Throughput of `run_sweep` (local process pool) on {len(points)} real points "
        "(compile + fast noisy evaluation, distinct seeds, no cache hits). *Steady* counts "
        "from the arrival of the workers-th result (every worker warm) to the last; *end to "
        "end* includes spawning the workers and importing qiskit/torch in them.\n\n"
        + table +
        f"\nGoal: 2 workers >= 1.7x one worker in steady state: measured {speedup:.2f}x. "
        "*Cores obtained* is the workers' CPU seconds per wall second in steady state: below "
        "the worker count, other processes on the host took the difference (see the load "
        "average), and the speed-up is bounded by the cores obtained. *Points per "
        "CPU-second* does not depend on how much of the host the run got: 2 workers do "
        f"{efficiency:.2f}x the work per CPU-second of one, so on two otherwise idle cores "
        f"the steady speed-up would be about {2 * efficiency:.2f}x (a projection, not a "
        "measurement).\n\n"
        + overhead +
        f"\nGoal: store < 5 ms per point: measured {store['mean_ms']:.2f} ms (WAL, "
        "synchronous=NORMAL, one transaction per point).\n"
    )
    print(section)
    if args.write_docs:
        replace_docs_section("## Sweeps", section)
        print("docs/benchmarks.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
