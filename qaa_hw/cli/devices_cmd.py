"""``qaa_hw devices list`` and ``qaa_hw devices show NAME [--plot FILE]``."""

from __future__ import annotations

import argparse
import math
import sys

from qaa_hw.cli._common import check_outputs, format_table, write_json

LIST_COLUMNS = (
    "name",
    "family",
    "qubits",
    "two_qubit_gate",
    "median_2q_error",
    "median_t1_us",
    "median_t2_us",
    "median_readout_error",
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``devices`` command group."""
    parser = sub.add_parser("devices", help="list and inspect device models")
    dsub = parser.add_subparsers(dest="devices_command", required=True, metavar="ACTION")

    p_list = dsub.add_parser("list", help="every catalog device with median calibration")
    p_list.add_argument("--family", help="only this family (ibm, google, ion, ...)")
    p_list.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    p_list.set_defaults(func=cmd_list)

    p_show = dsub.add_parser("show", help="details of one device")
    p_show.add_argument("name", help="catalog name, e.g. ibm_brisbane or synthetic:ring:8")
    p_show.add_argument("--plot", metavar="FILE", help="draw the coupling map (PNG or SVG)")
    p_show.add_argument("--json", metavar="FILE", help="write the full device model as JSON")
    p_show.set_defaults(func=cmd_show)


def cmd_list(args: argparse.Namespace) -> int:
    """Print one row per catalog device."""
    from tqdm import tqdm

    from qaa_hw.devices.catalog import available_devices, load_device

    check_outputs(args)
    names = available_devices()
    rows = []
    for name in tqdm(names, desc="loading devices", unit="dev", file=sys.stderr, leave=False):
        device = load_device(name)
        if args.family and device.family != args.family:
            continue
        rows.append(device.summary())
    print(format_table(rows, LIST_COLUMNS))
    print(f"\n{len(rows)} devices; synthetic devices by name, e.g. "
          "synthetic:heavy_hex:27?cx_error=5e-3")
    if args.json:
        write_json(args.json, rows)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print the device's calibration summary and per-qubit extremes; optionally plot."""
    from qaa_hw.devices.catalog import load_device

    check_outputs(args)
    device = load_device(args.name)
    summary = device.summary()
    print(f"{device.name}  ({device.family}, {device.num_qubits} qubits)")
    print(f"source: {device.source or '-'}")
    print(f"snapshot: {device.snapshot_date or '-'}")
    print(f"basis gates: {', '.join(device.basis_gates)}")
    graph = device.coupling_graph()
    print(f"couplings: {graph.number_of_edges()} pairs, max degree "
          f"{max((d for _, d in graph.degree()), default=0)}")
    for key in LIST_COLUMNS[4:]:
        print(f"{key}: {summary[key]:.4g}")
    rows = []
    for gate in device.basis_gates:
        per = device.instructions[gate]
        errors = sorted(p.error for p in per.values())
        durations = sorted(p.duration_s for p in per.values())
        rows.append({
            "instruction": gate,
            "qargs": len(per),
            "min_error": errors[0],
            "median_error": errors[len(errors) // 2],
            "max_error": errors[-1],
            "median_duration_ns": durations[len(durations) // 2] * 1e9,
        })
    if "measure" in device.instructions:
        per = device.instructions["measure"]
        rows.append({
            "instruction": "measure",
            "qargs": len(per),
            "min_error": min(p.error for p in per.values()),
            "median_error": sorted(p.error for p in per.values())[len(per) // 2],
            "max_error": max(p.error for p in per.values()),
            "median_duration_ns": sorted(p.duration_s for p in per.values())[len(per) // 2] * 1e9,
        })
    print()
    print(format_table(rows))
    best = sorted(
        range(device.num_qubits),
        key=lambda q: (device.qubits[q].readout_error, -min(device.qubits[q].t1_s, math.inf)),
    )[:5]
    print(f"\nbest-readout qubits: {best}")
    if args.plot:
        from qaa_hw.analysis.plots import plot_coupling_map

        path = plot_coupling_map(device, args.plot)
        print(f"coupling map written to {path}")
    if args.json:
        write_json(args.json, device.to_dict())
    return 0
