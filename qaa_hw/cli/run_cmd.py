"""``qaa_hw run``: run a compiled adapter on a device (or its local/virtual stand-in) and compare
the measured outputs with the prediction of our noisy engine.

``qaa_hw run --backend local:ibm_brisbane --inputs 32 --shots 4000 --mitigation rem``
compiles the adapter for the backend's calibration (or ``--device``), checks that the backend
still has that calibration (``--force`` runs anyway), submits every input as one job (a
parameterised PUB on IBM, a sweep on Google), and prints measured vs predicted ``<Z_i>`` with
their shot standard errors, and the QPU seconds used vs the cost model's estimate.
"""

from __future__ import annotations

import argparse
from typing import Any

from qaa_hw.cli._common import check_outputs, format_table, integer, seed, write_json
from qaa_hw.cli.compile_cmd import add_spec_options, spec_from_args
from qaa_hw.errors import ConfigError, QaaHwError
from qaa_hw.limits import MAX_COUNT, MAX_SHOTS

#: Rows of the per-input table printed (all go to --json).
PRINTED_INPUTS = 8


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    parser = sub.add_parser(
        "run", help="run an adapter on a device (IBM Runtime, Google Engine, local stand-ins)",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--backend", required=True,
        help="local:ibm_<x> (runtime local testing mode), ibm:NAME (saved IBM Quantum account), "
             "google-qvm:PROCESSOR (Cirq virtual machine), google:PROCESSOR (Google Engine)",
    )
    parser.add_argument("--device", help="compile for this catalog device or snapshot file "
                        "(default: the backend's current calibration)")
    add_spec_options(parser)
    parser.add_argument("--inputs", default="16", metavar="K|FILE.npy",
                        help="K random inputs, or a [B, <=2^n] .npy array (default 16)")
    parser.add_argument("--theta", metavar="FILE.npy",
                        help="trainable values (default: U(-pi, pi), seeded by --seed)")
    parser.add_argument("--shots", type=integer("--shots", 1, MAX_SHOTS), default=4000,
                        help="shots per input (default 4000)")
    parser.add_argument("--mitigation", default="none",
                        help="none, or a technique of zne, rem, ddd joined by + (default none)")
    parser.add_argument("--mode", choices=("batch", "session", "job"), default="batch",
                        help="IBM execution mode (default batch)")
    parser.add_argument("--tag", action="append", default=[], help="job tag (repeatable)")
    parser.add_argument("--max-inputs-per-job", type=integer("--max-inputs-per-job", 1, MAX_COUNT),
                        help="split the inputs into jobs of this size (default: one job)")
    parser.add_argument("--force", action="store_true",
                        help="run even if the backend's calibration differs from the compiled one")
    parser.add_argument("--save-calibration", metavar="DIR", nargs="?", const="",
                        help="save the backend's calibration as a dated snapshot (default "
                             "folder: the catalog's devices/)")
    parser.add_argument("--seed", type=seed(), default=0,
                        help="compiler, inputs, theta, simulators")
    parser.add_argument("--json", metavar="FILE", help="write every number as JSON")
    parser.set_defaults(func=cmd_run)


def _load_array(path: str, what: str) -> Any:
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{what}={path!r} cannot be read as a .npy array: {e}") from e


def _problem(args: argparse.Namespace, compiled: Any) -> tuple[Any, Any]:
    """``(x, theta)`` from ``--inputs`` / ``--theta``."""
    from qaa_hw.analysis.noisy_report import random_problem
    from qaa_hw.hardware.circuits import check_inputs, check_theta

    text = str(args.inputs)
    if text.isdigit():
        if int(text) < 1:
            raise ConfigError(f"--inputs={text} is not valid; accepted: K >= 1 or a .npy file")
        x, theta = random_problem(compiled, int(text), args.seed)
    elif text.endswith(".npy"):
        x = _load_array(text, "--inputs")
        theta = random_problem(compiled, 1, args.seed)[1]
    else:
        raise ConfigError(f"--inputs={text!r} is not valid; accepted: an integer K >= 1 or a "
                          "path ending in .npy")
    if args.theta:
        theta = _load_array(args.theta, "--theta")
    return check_inputs(compiled, x), check_theta(compiled, theta)


def _compiled(args: argparse.Namespace, backend: Any) -> Any:
    from qaa_hw.compile.api import compile_adapter
    from qaa_hw.devices.catalog import load_device

    device = load_device(args.device) if args.device else backend.device
    return compile_adapter(spec_from_args(args), device, seed=args.seed)


def cmd_run(args: argparse.Namespace) -> int:
    """Resolve, compile, check the calibration, run, compare, report."""
    from qaa_hw.hardware.backends import resolve_backend
    from qaa_hw.hardware.calibration import check_calibration, save_snapshot
    from qaa_hw.hardware.jobs import JobFailed
    from qaa_hw.hardware.mitigation import check_device_technique
    from qaa_hw.mitigation.techniques import technique_from_names

    check_outputs(args)
    technique = None
    if args.mitigation != "none":
        technique = check_device_technique(technique_from_names(args.mitigation))
    backend = resolve_backend(args.backend, seed=args.seed)
    if args.save_calibration is not None:
        path = save_snapshot(backend.device, args.save_calibration or None)
        print(f"calibration of {args.backend} saved to {path}")
    compiled = _compiled(args, backend)
    x, theta = _problem(args, compiled)
    diffs = check_calibration(compiled.device, backend.device, compiled.active_qubits,
                              backend=args.backend, force=args.force)
    if diffs:
        print(f"warning: running despite {len(diffs)} calibration difference(s) (--force)")
    engine = backend.engine(compiled, tags=["qaa_hw", *args.tag], mode=args.mode,
                            max_inputs_per_job=args.max_inputs_per_job)
    print(f"{args.backend}: adapter n={compiled.spec.num_qubits} L={compiled.spec.num_layers} "
          f"on physical qubits {list(compiled.final_layout)} (readout order), "
          f"{len(x)} inputs x {args.shots} shots")
    try:
        measured = engine.run(x, theta, shots=args.shots, seed=args.seed)
    except JobFailed as e:
        if args.json and e.partial is not None:
            write_json(args.json, {"backend": args.backend, "error": str(e),
                                   "finished_inputs": e.finished,
                                   "measured": e.partial.expectations.tolist(),
                                   "jobs": [r.to_dict() for r in e.records]})
            print(f"the {e.finished} finished inputs were written to {args.json}")
        raise
    payload = _report(args, engine, compiled, x, theta, measured, technique)
    if args.json:
        write_json(args.json, payload)
        print(f"JSON written to {args.json}")
    return 0


def _report(args: argparse.Namespace, engine: Any, compiled: Any, x: Any, theta: Any,
            measured: Any, technique: Any) -> dict[str, Any]:
    """Print the comparison and return the JSON payload."""
    import numpy as np

    from qaa_hw.hardware.jobs import standard_errors
    from qaa_hw.simulate.registry import make_engine

    predicted = make_engine("fast", compiled).run(x, theta).expectations.numpy()
    z = measured.expectations.numpy()
    se = standard_errors(measured).numpy()
    try:
        mitigated = _mitigate(args, engine, x, theta, measured, technique)
    except QaaHwError:
        if args.json:  # keep the measured outputs: only the mitigation is lost
            write_json(args.json, {"backend": args.backend, "measured": z.tolist(),
                                   "standard_errors": se.tolist(),
                                   "predicted": predicted.tolist(),
                                   "jobs": [r.to_dict() for r in engine.records]})
            print(f"mitigation failed; the measured outputs were written to {args.json}")
        raise
    rows = []
    for b in range(min(len(z), PRINTED_INPUTS)):
        for i in range(z.shape[1]):
            row: dict[str, Any] = {"input": b, "qubit": i, "measured": float(z[b, i]),
                                   "predicted": float(predicted[b, i]),
                                   "|diff|/SE": float(abs(z[b, i] - predicted[b, i]) / se[b, i])}
            if mitigated is not None:
                row["mitigated"] = float(mitigated[b, i])
            rows.append(row)
    print(format_table(rows))
    within = np.abs(z - predicted) <= 2 * se
    print(f"mean |measured - predicted| = {np.abs(z - predicted).mean():.4f}; within 2 SE: "
          f"{within.mean():.0%} of {within.size} outputs (predicted: our noisy engine 'fast')")
    usage = [r.usage_s for r in engine.records if r.usage_s is not None]
    estimate = sum(r.predicted_s for r in engine.records)
    used = f"{sum(usage):.1f} s" if usage else "not reported by this backend"
    print(f"QPU time: used {used}; cost model estimate {estimate:.1f} s "
          f"({len(engine.records)} job(s))")
    return {
        "backend": args.backend,
        "device": compiled.device.name,
        "compiled": compiled.to_dict(),
        "shots": args.shots,
        "inputs": np.asarray(x).tolist(),
        "theta": np.asarray(theta).tolist(),
        "measured": z.tolist(),
        "standard_errors": se.tolist(),
        "predicted": predicted.tolist(),
        "mitigation": args.mitigation,
        "mitigated": None if mitigated is None else mitigated.tolist(),
        "mean_abs_diff": float(np.abs(z - predicted).mean()),
        "fraction_within_2se": float(within.mean()),
        "qpu_seconds_used": sum(usage) if usage else None,
        "qpu_seconds_estimate": estimate,
        "jobs": [r.to_dict() for r in engine.records],
    }


def _mitigate(args: argparse.Namespace, engine: Any, x: Any, theta: Any, measured: Any,
              technique: Any) -> Any:
    """Mitigated ``<Z>`` per input: REM alone corrects the batch's distributions with the
    measured confusion; other techniques run per input through the device backend."""
    import numpy as np
    import torch

    from qaa_hw.hardware.mitigation import DeviceBackend
    from qaa_hw.mitigation.api import Mitigator
    from qaa_hw.mitigation.estimators import rem_correct, rem_inverse
    from qaa_hw.mitigation.techniques import REM
    from qaa_hw.simulate.results import z_from_probabilities

    if technique is None:
        return None
    backend = DeviceBackend(engine, shots=args.shots, seed=args.seed)
    if isinstance(technique, REM):
        assert measured.probabilities is not None
        inverse = rem_inverse(backend.confusion, method=technique.method)
        corrected = rem_correct(measured.probabilities.numpy(), inverse)
        return z_from_probabilities(torch.as_tensor(corrected), engine.num_logical).numpy()
    mitigator = Mitigator(backend.engine.compiled, backend=backend, seed=args.seed)
    return np.stack([mitigator.estimate(row, theta, technique).mitigated for row in x])
