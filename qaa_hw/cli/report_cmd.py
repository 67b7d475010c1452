"""``qaa_hw report``: hardware-feasibility report (HTML + Markdown) for a list of devices."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qaa_hw.cli._common import format_table, integer, number
from qaa_hw.errors import ConfigError
from qaa_hw.limits import MAX_SHOTS, MAX_WORKERS

if TYPE_CHECKING:
    from qaa_hw.analysis.assumptions import Pricing, TrainingAssumptions


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` command."""
    parser = sub.add_parser(
        "report",
        help="feasibility report (verdicts, recommended configuration, QPU cost) per device",
        description=(
            "Assess each device from a sweep's results (docs/feasibility.md): verdict with "
            "reasons, recommended and largest feasible QAA configuration, the QPU cost of "
            "training and generation, plots. Writes OUT/report.html (self-contained), "
            "OUT/report.md and OUT/assessment.json. Without --sweep, runs a quick default "
            "sweep of the devices into OUT/sweep first."
        ),
    )
    parser.add_argument("--devices", required=True,
                        help="comma-separated device names, e.g. ibm_brisbane,ibm_torino")
    parser.add_argument("--sweep", metavar="DIR",
                        help="a sweep output folder (with results.sqlite) to report on")
    parser.add_argument("--out", required=True, metavar="DIR", help="report folder")
    parser.add_argument("--workers", type=integer("--workers", 1, MAX_WORKERS), default=None,
                        help="workers of the quick default sweep (default: the number of CPUs)")
    parser.add_argument("--tokens-per-step", type=integer("--tokens-per-step"),
                        help="tokens per optimizer step (default 512)")
    parser.add_argument("--model", help="model whose layers carry adapters: smollm2-135m "
                        "(30 layers, the default), gemma3-270m (18), tiny, or a folder with a "
                        "config.json")
    parser.add_argument("--target-modules", metavar="NAMES",
                        help="comma-separated adapted modules per layer (default q_proj,v_proj)")
    parser.add_argument("--finetune-run", metavar="DIR",
                        help="a QAA fine-tuning run folder: layers and target modules from it")
    parser.add_argument("--no-input-gradients", action="store_true",
                        help="do not count the gradients with respect to the adapter inputs")
    parser.add_argument("--steps-per-epoch", type=integer("--steps-per-epoch"),
                        help="optimizer steps per epoch (default 250)")
    parser.add_argument("--shots", type=integer("--shots", 1, MAX_SHOTS),
                        help="shots per circuit for exact sweep points (default: from "
                             "--finetune-store's quality-vs-shots result, else 1000)")
    parser.add_argument("--finetune-store", metavar="FILE",
                        help="fine-tuning results store (JSON lines, benchmarks/finetune.py "
                             "--study): adds task quality against noise; sets the shots")
    parser.add_argument("--usd-per-qpu-second", type=number("--usd-per-qpu-second"),
                        help="QPU price (default 1.60: IBM's pay-as-you-go USD 96 per minute)")
    parser.add_argument("--price-source", help="where --usd-per-qpu-second comes from")
    parser.add_argument("--paper-qubits", type=integer("--paper-qubits", 1, 16), default=10,
                        help="qubits of the paper's configuration assessed on every device "
                             "(default 10: SmolLM2's 576-dim hidden state, no down-projection)")
    parser.add_argument("--no-paper-config", action="store_true",
                        help="skip compiling the paper's configuration")
    parser.add_argument("--gradient", choices=("parameter_shift", "forward"),
                        help="circuits per token: 2P+1 (parameter_shift, default) or 1")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_report)


def _training(args: argparse.Namespace, stored: Mapping[str, Any],
              study_shots: int | None) -> TrainingAssumptions:
    from qaa_hw.analysis.assumptions import (
        TrainingAssumptions,
        finetune_run_modules,
        model_layers,
    )

    values = dict(stored)
    if study_shots is not None:
        values["shots"] = study_shots
    if args.finetune_run:
        values["layers"], values["targets"] = finetune_run_modules(args.finetune_run)
        values.pop("modules", None)
    if args.model:
        values["layers"] = model_layers(args.model)
        values.pop("modules", None)
    if args.target_modules is not None:
        names = [t for t in args.target_modules.split(",") if t.strip()]
        if not names:
            raise ConfigError(f"--target-modules={args.target_modules!r}: expected "
                              "comma-separated module names, e.g. q_proj,v_proj")
        values["targets"] = len(names)
        values.pop("modules", None)
    if args.no_input_gradients:
        values["input_gradients"] = False
    for field in ("tokens_per_step", "steps_per_epoch", "shots", "gradient"):
        if getattr(args, field) is not None:
            values[field] = getattr(args, field)
    try:
        return TrainingAssumptions.from_mapping(values)
    except ConfigError as e:
        raise ConfigError(f"training assumptions: {e}") from e


def _pricing(args: argparse.Namespace) -> Pricing:
    from qaa_hw.analysis.assumptions import Pricing

    if args.usd_per_qpu_second is None:
        if args.price_source:
            raise ConfigError("--price-source needs --usd-per-qpu-second")
        return Pricing()
    return Pricing(args.usd_per_qpu_second, args.price_source or "user value")


def cmd_report(args: argparse.Namespace) -> int:
    """Run (or read) the sweep, assess the devices, write the report files."""
    from qaa_hw.analysis.report import build_report
    from qaa_hw.analysis.runner import run_sweep
    from qaa_hw.analysis.store import DB_NAME, ResultStore
    from qaa_hw.analysis.sweep_spec import check_device_name, quick_spec
    from qaa_hw.files import check_output_dir
    from qaa_hw.shutdown import as_interrupted

    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    if not devices:
        raise ConfigError(f"--devices={args.devices!r}: expected comma-separated device names")
    for i, d in enumerate(devices):
        check_device_name(d, source="--devices", where=f"device {i + 1}")
    out = check_output_dir(args.out, what="--out")
    # everything the user gave is checked before a sweep may run
    pricing = _pricing(args)
    _training(args, {}, None)
    quality: list[Any] = []
    study_shots = None
    shots_note = "user value" if args.shots else ""
    if args.finetune_store:
        from qaa_hw.analysis.task_quality import load_quality_store, shots_from_study

        quality = load_quality_store(args.finetune_store)
        study_shots = shots_from_study(quality)
        if study_shots is not None and not args.shots:
            shots_note = (f"the fewest shots within 1% of the exact-value test loss in "
                          f"{args.finetune_store}")
    if args.sweep:
        sweep_dir = Path(args.sweep)
        if not (sweep_dir / DB_NAME).is_file():
            raise ConfigError(f"--sweep {str(sweep_dir)!r}: no {DB_NAME} there (run "
                              "`qaa_hw sweep SPEC.yaml --out DIR` first)")
        note = f"sweep folder {sweep_dir}"
    else:
        sweep_dir = out / "sweep"
        spec = quick_spec(devices)
        workers = args.workers or max(1, os.cpu_count() or 1)
        print(f"no --sweep given: running the quick default sweep ({spec.size} points, "
              f"{workers} workers) into {sweep_dir}")
        try:
            summary = run_sweep(spec, sweep_dir, workers=workers, progress=not args.no_progress)
        except KeyboardInterrupt as e:
            raise as_interrupted(e, f"finished sweep points are kept in {sweep_dir}/"
                                    "results.sqlite; rerun the same command to resume") from None
        print(f"sweep done in {summary.seconds:.1f} s ({summary.ok} evaluated, "
              f"{summary.failed} failed, {summary.skipped} resumed)")
        note = f"the quick default sweep in {sweep_dir}"
    with ResultStore(sweep_dir) as store:
        rows = store.rows()
        failures = [f for f in store.failures() if f.get("device") in devices]
        stored: dict[str, Any] = next(
            (v["training"] for v in store.specs() if v.get("training")), {})
    if not shots_note:
        shots_note = "the sweep spec's training section" if "shots" in stored else "default"
    training = _training(args, stored, study_shots)
    paper = None
    if not args.no_paper_config:
        from qaa_hw.circuits.spec import QAASpec

        paper = QAASpec(num_qubits=args.paper_qubits, num_layers=2)
    files = build_report(rows, devices, out, training=training, pricing=pricing,
                         sweep_note=note, shots_note=shots_note, failures=failures,
                         quality=quality, paper=paper)
    summary_rows = []
    for a in json.loads(files.assessment.read_text(encoding="utf-8")):
        rec = a.get("recommended") or {}
        summary_rows.append({
            "device": a["device"], "verdict": a.get("level", "no data"),
            "recommended": (f"n={rec.get('qubits')} L={rec.get('layers')} "
                            f"{rec.get('entangler')} {rec.get('mitigation')}" if rec else "-"),
            "cost": rec.get("cost_verdict", "-"),
            "QPU h/epoch": rec.get("qpu_h_per_epoch", float("nan")),
            "USD/epoch": rec.get("usd_per_epoch", float("nan")),
            "USD/1k tokens": rec.get("usd_per_1k_tokens", float("nan")),
            "QPU/classical": (a.get("advantage") or {}).get("qpu_over_classical",
                                                            float("nan")),
        })
    print(format_table(summary_rows))
    print(f"report written to {files.html} and {files.markdown}")
    return 0

