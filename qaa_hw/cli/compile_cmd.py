"""``qaa_hw compile``: map a QAA adapter onto a device and report its cost."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qaa_hw.circuits.spec import EMBEDDINGS, ENTANGLERS, READOUTS, ROTATIONS, QAASpec
from qaa_hw.cli._common import format_table, non_negative_float, positive_int, write_json

METRIC_ROWS = (
    ("depth", "depth"),
    ("two_qubit_depth", "2q depth"),
    ("two_qubit_count", "2q gates"),
    ("one_qubit_count", "1q gates"),
    ("swaps", "swaps"),
    ("duration_s", "duration (us)"),
    ("esp", "ESP"),
    ("duration_over_t1", "duration / min T1"),
    ("duration_over_t2", "duration / min T2"),
)


def add_spec_options(parser: argparse.ArgumentParser) -> None:
    """Options that define a QAA spec (shared by compile, simulate, ...)."""
    parser.add_argument("--qubits", type=positive_int("--qubits"), default=4, help="n (default 4)")
    parser.add_argument("--layers", type=positive_int("--layers"), default=2, help="L (default 2)")
    parser.add_argument("--rotations", choices=ROTATIONS, default="ry")
    parser.add_argument("--entangler", choices=ENTANGLERS, default="ring")
    parser.add_argument("--embedding", choices=EMBEDDINGS, default="exact")
    parser.add_argument(
        "--embedding-fidelity", type=float, default=0.99, help="target of --embedding approx"
    )
    parser.add_argument("--readout", choices=READOUTS, default="z")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compile`` command."""
    parser = sub.add_parser("compile", help="compile a QAA adapter for a device and report it")
    parser.add_argument("--device", required=True, help="catalog name, e.g. ibm_brisbane")
    add_spec_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="compiler seed (default 0)")
    parser.add_argument(
        "--noise-scale", type=non_negative_float("--noise-scale"), default=1.0,
        help="multiply every error and divide T1/T2 by this factor (default 1)",
    )
    parser.add_argument(
        "--time-budget", type=_time_budget, default=None, metavar="S",
        help="stop searching for candidate circuits after S seconds (> 0; default: no limit; "
             "translating the best ones comes on top)",
    )
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (shown on stderr for n >= 7)")
    parser.add_argument("--no-baseline", action="store_true", help="skip Qiskit's level 3")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON")
    parser.add_argument("--qasm", metavar="FILE", help="write the physical circuit as OpenQASM 3")
    parser.add_argument("--plot", metavar="FILE", help="draw the coupling map with the layout")
    parser.set_defaults(func=cmd_compile)


def _time_budget(text: str) -> float:
    """argparse type of ``--time-budget``: seconds > 0."""
    value = non_negative_float("--time-budget")(text)
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"--time-budget={text} is not valid; accepted: a number of seconds > 0")
    return value


def spec_from_args(args: argparse.Namespace) -> QAASpec:
    """Build a QAASpec from the shared options."""
    return QAASpec(
        num_qubits=args.qubits,
        num_layers=args.layers,
        rotations=args.rotations,
        entangler=args.entangler,
        embedding=args.embedding,
        embedding_fidelity=args.embedding_fidelity,
        readout=args.readout,
    )


def cmd_compile(args: argparse.Namespace) -> int:
    """Compile, print the comparison table and write requested files."""
    from qaa_hw.compile.api import FULL_EFFORT_QUBITS, compile_adapter
    from qaa_hw.devices.catalog import load_device
    from qaa_hw.devices.model import scale_noise

    spec = spec_from_args(args)
    device = scale_noise(load_device(args.device), args.noise_scale)
    t0 = time.perf_counter()
    ours = compile_adapter(spec, device, seed=args.seed, time_budget_s=args.time_budget,
                           progress=not args.no_progress and spec.num_qubits > FULL_EFFORT_QUBITS)
    t_ours = time.perf_counter() - t0
    results = {"qaa_hw": (ours, t_ours)}
    if not args.no_baseline:
        from qaa_hw.compile.baseline import compile_with_qiskit

        t0 = time.perf_counter()
        base = compile_with_qiskit(spec, device, seed=args.seed)
        results["qiskit_level3"] = (base, time.perf_counter() - t0)

    print(f"QAA adapter on {device.name} (noise scale {device.noise_scale:g}): "
          f"n={spec.num_qubits}, L={spec.num_layers}, {spec.rotations}, {spec.entangler}, "
          f"{spec.embedding} embedding, {spec.num_parameters} trainable parameters")
    print(f"qaa_hw layout (logical -> physical): {list(ours.initial_layout)}; "
          f"readout on {list(ours.final_layout)}")
    rows = []
    for key, label in METRIC_ROWS:
        row: dict[str, object] = {"metric": label}
        for name, (compiled, _) in results.items():
            value = getattr(compiled.metrics, key)
            row[name] = value * 1e6 if key == "duration_s" else value
        if "qiskit_level3" in results:
            a = getattr(ours.metrics, key)
            b = getattr(results["qiskit_level3"][0].metrics, key)
            row["ratio"] = a / b if b else float("nan")
        rows.append(row)
    rows.append({"metric": "compile time (s)", **{n: t for n, (_, t) in results.items()}})
    print(format_table(rows))
    if args.qasm:
        from qiskit import qasm3

        path = Path(args.qasm)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(qasm3.dumps(ours.circuit))
        print(f"OpenQASM 3 written to {path}")
    if args.plot:
        from qaa_hw.analysis.plots import plot_coupling_map

        out = plot_coupling_map(device, args.plot, highlight=ours.active_qubits,
                                title=f"{device.name}: qaa_hw layout {list(ours.initial_layout)}")
        print(f"coupling map written to {out}")
    if args.json:
        payload = {name: {**c.to_dict(), "compile_time_s": t} for name, (c, t) in results.items()}
        write_json(args.json, payload)
        print(f"JSON report written to {args.json}")
    return 0
