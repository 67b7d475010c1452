"""``qaa_hw sweep SPEC.yaml``: run a noise sweep into a resumable results store."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from qaa_hw.cli._common import format_table, integer
from qaa_hw.limits import MAX_SWEEP_POINTS, MAX_WORKERS

EXECUTOR_HELP = (
    "local: a process pool of --workers processes (default); dask: dask.distributed workers "
    "(a new LocalCluster of --workers processes, or the scheduler at --address)"
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` command."""
    parser = sub.add_parser(
        "sweep",
        help="run a sweep spec (devices x noise x adapter settings x mitigation x seeds)",
        description=(
            "Evaluate every point of a sweep spec (docs/sweeps.md): compile the adapter, "
            "simulate it under noise, mitigate, and record one row per point in "
            "OUT/results.sqlite as soon as it finishes. Rerunning the same command resumes: "
            "finished points are skipped. Writes OUT/results.csv and OUT/results.parquet."
        ),
    )
    parser.add_argument("spec", help="sweep spec YAML file, e.g. analysis/default_study.yaml")
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (default out/sweeps/<spec name>)")
    parser.add_argument("--workers", type=integer("--workers", 1, MAX_WORKERS), default=None,
                        help="worker processes (default: the number of CPUs)")
    parser.add_argument("--max-points", type=integer("--max-points", 1, None),
                        default=MAX_SWEEP_POINTS, metavar="N",
                        help=f"refuse sweeps of more than N points (default {MAX_SWEEP_POINTS:,})")
    parser.add_argument("--executor", choices=("local", "dask"), default=None,
                        help=EXECUTOR_HELP)
    parser.add_argument("--address", metavar="ADDR",
                        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (implies dask)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="evaluate again the points recorded as failed")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep, export CSV/Parquet and print a summary."""
    from qaa_hw.analysis.runner import run_sweep
    from qaa_hw.analysis.store import ResultStore
    from qaa_hw.analysis.sweep_spec import load_sweep_spec
    from qaa_hw.files import check_output_dir
    from qaa_hw.shutdown import as_interrupted

    spec = load_sweep_spec(args.spec)
    out = check_output_dir(Path(args.out) if args.out else Path("out") / "sweeps" / spec.name,
                           what="--out")
    executor = args.executor or ("dask" if args.address else "local")
    workers = min(args.workers or max(1, os.cpu_count() or 1), MAX_WORKERS)
    print(f"sweep {spec.name!r}: {spec.size:,} points -> {out}/results.sqlite "
          f"({executor}, {workers} workers)", flush=True)
    try:
        summary = run_sweep(spec, out, workers=workers, executor=executor,
                            address=args.address, retry_failed=args.retry_failed,
                            progress=not args.no_progress, max_points=args.max_points)
    except KeyboardInterrupt as e:
        raise as_interrupted(e, f"finished points are kept in {out}/results.sqlite; rerun "
                                "the same command to resume") from None
    with ResultStore(out) as store:
        csv_path = store.export_csv(out / "results.csv")
        parquet_path = store.export_parquet(out / "results.parquet")
        counts = store.count()
        failures = store.failures()
    print(f"done in {summary.seconds:.1f} s: {summary.ok} evaluated, {summary.failed} failed, "
          f"{summary.skipped} already finished (resumed)"
          + (f", {summary.crashes} worker crashes survived" if summary.crashes else ""))
    print(f"store: {counts['ok']} ok + {counts['failed']} failed rows; exported {csv_path} "
          f"and {parquet_path}")
    if failures:
        print("failed points (rerun with --retry-failed to try them again):")
        print(format_table([{"key": f["key"], "device": f["device"], "qubits": f["qubits"],
                             "layers": f["layers"], "mitigation": f["mitigation"],
                             "error": f["error"]} for f in failures[:20]]))
        if len(failures) > 20:
            print(f"... and {len(failures) - 20} more (see results.csv)")
    return 0
