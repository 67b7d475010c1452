"""Shared pieces of the reliability tests: input files, CLI runs, process-group checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

#: Point functions importable by spawned workers (``tests/analysis/_sweep_helpers.py``).
HELPERS = Path(__file__).resolve().parents[1] / "analysis"
if str(HELPERS) not in sys.path:
    sys.path.insert(0, str(HELPERS))

DEVICE_HEADER = """name: {name}
num_qubits: {n}
coupling: {coupling}
defaults:
  qubit: {{t1_us: 100, t2_us: 100, readout_error: 0.01}}
  instructions:
    rz: {{error: 0, duration_ns: 0}}
    sx: {{error: 1.0e-4, duration_ns: 35}}
    x: {{error: 1.0e-4, duration_ns: 35}}
    measure: {{duration_ns: 1000}}
    cx: {{error: 5.0e-3, duration_ns: 300}}
"""


def device_yaml(folder: Path, name: str, n: int, coupling: str = "all_to_all") -> Path:
    """A compact device file of ``n`` qubits."""
    path = folder / f"{name}.yaml"
    path.write_text(DEVICE_HEADER.format(name=name, n=n, coupling=coupling))
    return path


def subprocess_env() -> dict[str, str]:
    """The environment of a child ``python -m qaa_hw``: this checkout's package first, then
    the point functions of the tests."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(root), str(HELPERS), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def group_members(pgid: int) -> list[int]:
    """Live processes (not zombies) in process group ``pgid`` (Linux ``/proc``)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    """Paths the bad-input table refers to as ``{name}``."""
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a folder\n")
    good = tmp_path / "good.yaml"
    good.write_text("devices: [ibm_torino]\nqubits: [1]\nlayers: [1]\ninputs: 2\n"
                    "mitigation_inputs: 1\n")

    def spec(name: str, text: str) -> str:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        return str(path)

    return {
        "tmp": str(tmp_path),
        "file": str(a_file),
        "good": str(good),
        "big_device": str(device_yaml(tmp_path, "big", 100_000)),
        "wide_device": str(device_yaml(tmp_path, "wide", 200)),
        "huge_line": str(device_yaml(tmp_path, "huge_line", 5000, coupling="[[0, 1]]")),
        "bad_qubits": spec("bad_qubits", "devices: [ibm_torino]\nqubits: [2, four]\n"),
        "bad_seed": spec("bad_seed", "devices: [ibm_torino]\nseeds: [-1]\n"),
        "big_seed": spec("big_seed", "devices: [ibm_torino]\nseeds: [4294967296]\n"),
        "bad_shots": spec("bad_shots", "devices: [ibm_torino]\nshots: [0]\n"),
        "huge_shots": spec("huge_shots", "devices: [ibm_torino]\nshots: [10000000000]\n"),
        "bad_inputs": spec("bad_inputs", "devices: [ibm_torino]\ninputs: 0\n"),
        "wide_inputs": spec("wide_inputs", "devices: [ibm_torino]\nqubits: [16]\n"
                                           "inputs: 5000\n"),
        "bad_noise": spec("bad_noise", "devices: [ibm_torino]\nnoise_scale: [.nan]\n"),
        "bad_layers": spec("bad_layers", "devices: [ibm_torino]\nlayers: [65]\n"),
        "grid": spec("grid", "devices: [ibm_torino]\nqubits: [1, 2, 3]\nlayers: [1, 2, 3]\n"),
        "missing": str(tmp_path / "missing.yaml"),
    }
