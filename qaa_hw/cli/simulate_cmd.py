"""``qaa_hw simulate``: ideal vs noisy outputs of a compiled adapter on random inputs."""

from __future__ import annotations

import argparse

from qaa_hw.cli._common import check_outputs, format_table, integer, number, seed, write_json
from qaa_hw.cli.compile_cmd import add_spec_options, spec_from_args
from qaa_hw.cli.mitigation_options import add_mitigation_options, run_mitigation_report
from qaa_hw.limits import MAX_COUNT, MAX_SHOTS, check_input_amplitudes

ENGINE_HELP = (
    "fast: our Heisenberg-picture engine (default); exact: our density-matrix engine; "
    "aer: Qiskit Aer density matrix (scheduled circuit with delays); cirq: Cirq density "
    "matrix (one simulation per input, progress bar on stderr)"
)
PREP_NOISE_HELP = (
    "fast engine only: noise of the state preparation, 'exact' (default), 'effective' "
    "(fitted x-independent channel) or 'none'"
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` command."""
    parser = sub.add_parser(
        "simulate",
        help="compare ideal and noisy adapter outputs on random inputs",
        description=(
            "Compile a QAA adapter for a device, draw theta ~ U(-pi, pi) and K input vectors "
            "with standard normal entries (seeded), and compare the ideal readout with the "
            "noisy one: per output the mean ideal and noisy values and the mean absolute "
            "error, plus the mean output-state fidelity."
        ),
    )
    parser.add_argument("--device", required=True, help="catalog name, e.g. ibm_brisbane")
    add_spec_options(parser)
    parser.add_argument(
        "--noise-scale", type=number("--noise-scale"), default=1.0,
        help="multiply every error and divide T1/T2 by this factor (default 1)",
    )
    parser.add_argument("--engine", default="fast", help=ENGINE_HELP)
    parser.add_argument(
        "--idle-noise", choices=("on", "off"), default="on",
        help="relax idle qubits on the scheduled (ASAP) idle windows (default on; the report "
             "also gives the outputs without it); off reproduces the older model",
    )
    parser.add_argument("--prep-noise", default="exact", help=PREP_NOISE_HELP)
    parser.add_argument("--shots", type=integer("--shots", 1, MAX_SHOTS), default=None,
                        help="shots per input (default: exact expectation values)")
    parser.add_argument("--inputs", type=integer("--inputs", 1, MAX_COUNT), default=16,
                        help="number K of random inputs (default 16)")
    parser.add_argument("--seed", type=seed(), default=0,
                        help="seed of the compiler, theta and the inputs (default 0)")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON")
    add_mitigation_options(parser)
    parser.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    """Compile, evaluate, print the comparison table and write the JSON report."""
    from qaa_hw.analysis.noisy_report import evaluate_noisy
    from qaa_hw.compile.api import compile_adapter
    from qaa_hw.devices.catalog import load_device
    from qaa_hw.devices.model import scale_noise

    spec = spec_from_args(args)
    check_input_amplitudes("--inputs", args.inputs, spec.num_qubits)
    check_outputs(args)
    device = scale_noise(load_device(args.device), args.noise_scale)
    compiled = compile_adapter(spec, device, seed=args.seed)
    report = evaluate_noisy(
        compiled,
        engine=args.engine,
        prep_noise=args.prep_noise,
        shots=args.shots,
        inputs=args.inputs,
        seed=args.seed,
        idle=args.idle_noise == "on",
        progress=True,
    )
    mode = f"{report.engine}" + (f" ({report.prep_noise} prep noise)" if report.prep_noise else "")
    sampling = f"{report.shots} shots" if report.shots else "exact"
    print(f"QAA adapter on {device.name} (noise scale {device.noise_scale:g}): "
          f"n={spec.num_qubits}, L={spec.num_layers}, {spec.readout} readout; engine {mode}, "
          f"{sampling}, {args.inputs} random inputs, seed {args.seed}")
    print(f"layout (logical -> physical): {list(compiled.initial_layout)}; "
          f"readout on {list(compiled.final_layout)}")
    print(format_table(report.rows()))
    idle = "on" if report.idle else "off"
    print(f"mean absolute error: {report.mean_abs_error:.4g} (idle relaxation {idle})")
    if report.idle_effect is not None:
        payload_idle = report.to_dict()
        print(f"idle relaxation: moves the outputs by {report.idle_effect:.4g} on average "
              f"(max {payload_idle['idle_effect_max']:.4g}); error without it "
              f"{report.error_without_idle:.4g}")
    elif report.idle:
        print(f"idle relaxation: engine {report.engine} cannot turn it off (no comparison)")
    print(f"mean output-state fidelity: {report.mean_fidelity:.4g} "
          f"(min {float(report.fidelity.min()):.4g})")
    print(f"noisy evaluation time: {report.seconds:.3g} s "
          f"({args.inputs / max(report.seconds, 1e-12):.4g} inputs/s; "
          f"setup {report.setup_seconds:.3g} s)")
    payload = report.to_dict()
    if args.mitigation:
        from qaa_hw.analysis.noisy_report import random_problem

        xs, theta = random_problem(compiled, args.inputs, args.seed)  # the report's inputs
        payload["mitigation"] = run_mitigation_report(args, compiled, xs, theta)
        print("error mitigation (mean absolute error against ideal, same inputs):")
        print(format_table(payload["mitigation"]))
    if args.json:
        write_json(args.json, payload)
        print(f"JSON report written to {args.json}")
    return 0
