"""``qaa_hw compile``: map a QAA adapter onto a device and report its cost."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qaa_hw.circuits.spec import (
    EMBEDDINGS,
    ENTANGLERS,
    MAX_LAYERS,
    MAX_QUBITS,
    READOUTS,
    ROTATIONS,
    QAASpec,
)
from qaa_hw.cli._common import (
    check_outputs,
    format_table,
    integer,
    number,
    seed,
    write_json,
)
from qaa_hw.files import write_text_atomic

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
    parser.add_argument("--qubits", type=integer("--qubits", 1, MAX_QUBITS), default=4,
                        help=f"n, 1..{MAX_QUBITS} (default 4)")
    parser.add_argument("--layers", type=integer("--layers", 1, MAX_LAYERS), default=2,
                        help=f"L, 1..{MAX_LAYERS} (default 2)")
    parser.add_argument("--rotations", choices=ROTATIONS, default="ry")
    parser.add_argument("--entangler", choices=ENTANGLERS, default="ring")
    parser.add_argument("--embedding", choices=EMBEDDINGS, default="exact")
    parser.add_argument(
        "--embedding-fidelity", type=number("--embedding-fidelity", 0.0, 1.0, low_open=True),
        default=0.99, help="target of --embedding approx, in (0, 1] (default 0.99)"
    )
    parser.add_argument("--readout", choices=READOUTS, default="z")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compile`` command."""
    parser = sub.add_parser("compile", help="compile a QAA adapter for a device and report it")
    parser.add_argument("--device", required=True, help="catalog name, e.g. ibm_brisbane")
    add_spec_options(parser)
    parser.add_argument("--seed", type=seed(), default=0, help="compiler seed (default 0)")
    parser.add_argument(
        "--noise-scale", type=number("--noise-scale"), default=1.0,
        help="multiply every error and divide T1/T2 by this factor (default 1)",
    )
    parser.add_argument(
        "--time-budget", type=number("--time-budget", low_open=True), default=None, metavar="S",
        help="stop searching for candidate circuits after S seconds (> 0; default: no limit; "
             "translating the best ones comes on top)",
    )
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (shown on stderr for n >= 7)")
    parser.add_argument("--no-baseline", action="store_true", help="skip Qiskit's level 3")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON")
    parser.add_argument(
        "--qasm", metavar="FILE",
        help="write the physical circuit as OpenQASM 3, logical qubit i measured into c[i]",
    )
    parser.add_argument(
        "--bind", metavar="INPUTS.npy",
        help="with --qasm: write one bound circuit per input row (FILE_<i>.qasm) instead",
    )
    parser.add_argument("--theta", metavar="THETA.npy",
                        help="trainable values for --bind (default: all zero)")
    parser.add_argument("--plot", metavar="FILE", help="draw the coupling map with the layout")
    parser.set_defaults(func=cmd_compile)


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


def write_qasm(compiled: object, args: argparse.Namespace) -> None:
    """``--qasm``: the measured circuit (parameters ``alpha``/``theta`` free) or, with
    ``--bind``, one bound program per input row."""
    import numpy as np
    from qiskit import qasm3

    from qaa_hw.compile.compiled import CompiledAdapter
    from qaa_hw.errors import ConfigError
    from qaa_hw.hardware.circuits import bound_qasm, measured_circuit

    assert isinstance(compiled, CompiledAdapter)
    path = Path(args.qasm)

    def load(option: str, file: str) -> np.ndarray:
        try:
            return np.asarray(np.load(file, allow_pickle=False), dtype=float)
        except (OSError, ValueError) as e:
            raise ConfigError(f"{option}={file!r} cannot be read as a .npy array: {e}") from e

    if not args.bind:
        write_text_atomic(path, qasm3.dumps(measured_circuit(compiled)), what="--qasm file")
        print(f"OpenQASM 3 written to {path} (logical qubit i measured into c[i])")
        return
    xs = load("--bind", args.bind)
    theta = load("--theta", args.theta) if args.theta else np.zeros(compiled.spec.num_parameters)
    programs = bound_qasm(compiled, xs, theta)
    width = len(str(len(programs) - 1))
    suffix = path.suffix or ".qasm"
    for i, text in enumerate(programs):
        write_text_atomic(path.with_name(f"{path.stem}_{i:0{width}d}{suffix}"), text,
                          what="--qasm file")
    print(f"{len(programs)} bound OpenQASM 3 programs written to "
          f"{path.with_name(path.stem)}_*{suffix}")


def cmd_compile(args: argparse.Namespace) -> int:
    """Compile, print the comparison table and write requested files."""
    from qaa_hw.compile.api import FULL_EFFORT_QUBITS, compile_adapter
    from qaa_hw.errors import ConfigError

    if (args.bind or args.theta) and not args.qasm:
        raise ConfigError("--bind/--theta are not valid without --qasm FILE; accepted: "
                          "--qasm FILE --bind INPUTS.npy [--theta THETA.npy]")
    if args.theta and not args.bind:
        raise ConfigError("--theta is not valid without --bind INPUTS.npy")
    from qaa_hw.devices.catalog import load_device
    from qaa_hw.devices.model import scale_noise

    spec = spec_from_args(args)
    check_outputs(args)
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
        write_qasm(ours, args)
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
