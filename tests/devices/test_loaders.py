"""Loaders checked against independent references (the vendor SDK objects themselves)."""

from __future__ import annotations

import math
import statistics
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from qaa_hw.devices.catalog import CATALOG_DIR, load_device
from qaa_hw.devices.google import google_device_names
from qaa_hw.devices.ibm import ibm_device_names, load_ibm_device
from qaa_hw.devices.model import DeviceModel
from qaa_hw.devices.synthetic import load_synthetic_device
from qaa_hw.devices.yaml_io import dump_yaml_device, load_yaml_device
from qaa_hw.errors import DeviceError


def _google(pid: str) -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from cirq_google.engine import (
            create_device_from_processor_id,
            load_device_noise_properties,
        )
    return create_device_from_processor_id(pid), load_device_noise_properties(pid)


def assert_same_device(a: DeviceModel, b: DeviceModel) -> None:
    """Equal structure and text; numbers equal up to unit-conversion rounding (1e-12)."""
    assert (a.name, a.family, a.source, a.snapshot_date) == (
        b.name,
        b.family,
        b.source,
        b.snapshot_date,
    )
    assert (a.qubit_labels, a.coordinates, a.noise_scale) == (
        b.qubit_labels,
        b.coordinates,
        b.noise_scale,
    )
    assert a.num_qubits == b.num_qubits
    for qa, qb in zip(a.qubits, b.qubits, strict=True):
        for field in ("t1_s", "t2_s", "prob_meas1_prep0", "prob_meas0_prep1"):
            assert getattr(qa, field) == pytest.approx(getattr(qb, field), rel=1e-12)
        assert (qa.frequency_hz is None) == (qb.frequency_hz is None)
        if qa.frequency_hz is not None:
            assert qa.frequency_hz == pytest.approx(qb.frequency_hz, rel=1e-12)
    assert {n: set(per) for n, per in a.instructions.items()} == {
        n: set(per) for n, per in b.instructions.items()
    }
    for name, per in a.instructions.items():
        for qargs, props in per.items():
            other = b.instructions[name][qargs]
            assert props.error == pytest.approx(other.error, rel=1e-12, abs=1e-300)
            assert props.duration_s == pytest.approx(other.duration_s, rel=1e-12, abs=1e-300)


# ----------------------------------------------------------------------------- IBM
def test_ibm_names_match_the_fake_provider() -> None:
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    expected = sorted(
        "ibm_" + b.name.removeprefix("fake_") for b in FakeProviderForBackendV2().backends()
    )
    assert ibm_device_names() == expected
    assert len(expected) == 59


def test_ibm_brisbane_matches_its_target() -> None:
    from qiskit_ibm_runtime.fake_provider import FakeBrisbane

    backend = FakeBrisbane()
    target, props = backend.target, backend.properties()
    device = load_device("ibm_brisbane")
    assert device.num_qubits == 127
    assert device.two_qubit_gate == "ecr"
    assert set(device.directed_edges()) == set(target["ecr"].keys())
    for qargs, inst in target["ecr"].items():
        assert device.instructions["ecr"][qargs].error == inst.error
        assert device.instructions["ecr"][qargs].duration_s == inst.duration
    for q in range(127):
        ref = target.qubit_properties[q]
        assert device.qubits[q].t1_s == ref.t1
        assert device.qubits[q].t2_s == min(ref.t2, 2 * ref.t1)
        assert device.qubits[q].frequency_hz == ref.frequency
        assert device.qubits[q].prob_meas1_prep0 == props.qubit_property(q)["prob_meas1_prep0"][0]
    assert any(ref.t2 > 2 * ref.t1 for ref in target.qubit_properties)  # the clamp was needed
    assert device.snapshot_date == props.last_update_date.date().isoformat()
    assert device.instructions["rz"][(0,)].error == 0.0


def test_ibm_torino_has_cz_and_alias_resolves() -> None:
    from qiskit_ibm_runtime.fake_provider import FakeTorino

    device = load_device("fake_torino")
    assert device.name == "ibm_torino"
    assert device.two_qubit_gate == "cz"
    assert set(device.directed_edges()) == set(FakeTorino().target["cz"].keys())


def test_ibm_several_entanglers_keep_every_pair() -> None:
    from qiskit_ibm_runtime.fake_provider import FakeCairoV2

    target = FakeCairoV2().target
    device = load_ibm_device("ibm_cairo")
    assert device.two_qubit_gates == ("ecr",)  # ecr is on 14 pairs, cx on 12
    pairs = {frozenset(qa) for name in ("cx", "ecr") for qa in target[name]}
    assert {frozenset(e) for e in device.directed_edges()} == pairs
    assert "cx dropped" in device.source


def test_ibm_legacy_u_basis_maps_to_rz_sx_x() -> None:
    from qiskit_ibm_runtime.fake_provider import FakeAlmadenV2

    target = FakeAlmadenV2().target
    device = load_ibm_device("ibm_almaden")
    assert set(device.basis_gates) >= {"rz", "sx", "x", "cx"}
    assert device.instructions["sx"][(0,)].error == target["u2"][(0,)].error
    assert "sx taken from legacy u2" in device.source


def _reference_ibm_device(name: str) -> DeviceModel:
    """The device through the live fake backend (``backend.target`` + ``properties()``)."""
    import importlib

    from qaa_hw.devices.ibm import _fake_backends, device_from_backend

    class_name = _fake_backends()[name][1]
    backend = getattr(importlib.import_module("qiskit_ibm_runtime.fake_provider"), class_name)()
    source = load_ibm_device(name).source.split("; ")[0]
    return device_from_backend(backend, name=name, source=source)


@pytest.mark.parametrize(
    "name", ["ibm_brisbane", "ibm_torino", "ibm_cairo", "ibm_almaden", "ibm_fractional"]
)
def test_ibm_snapshot_reader_matches_the_target_path(name: str) -> None:
    """JSON reader (default loader) == conversion of backend.target (the reference)."""
    device = load_ibm_device(name)
    reference = _reference_ibm_device(name)
    assert_same_device(device, reference)
    assert device == reference  # exact, not just within 1e-12


def test_ibm_fractional_drops_rzz_and_cambridge_uses_its_props_file() -> None:
    from qaa_hw.devices.ibm import snapshot_files

    assert "outside the model dropped: rzz" in load_ibm_device("ibm_fractional").source
    files = snapshot_files("ibm_cambridge")
    assert files is not None and files[1].name == "props_cambridge.json"


def test_loading_an_ibm_device_does_not_import_qiskit_ibm_runtime() -> None:
    import subprocess
    import sys

    code = ("import sys; from qaa_hw.devices.catalog import load_device; "
            "d = load_device('ibm_brisbane'); assert d.num_qubits == 127; "
            "print('qiskit_ibm_runtime' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_every_ibm_snapshot_matches_the_target_path() -> None:
    for name in ibm_device_names():
        assert load_ibm_device(name) == _reference_ibm_device(name), name


# --------------------------------------------------------------------------- Google
def test_google_names_match_the_virtual_engine_factory() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from cirq_google.engine import virtual_engine_factory as factory

    expected = sorted("google_" + pid for pid in factory.MEDIAN_CALIBRATION_TIMESTAMPS)
    assert google_device_names() == expected


def test_google_weber_matches_cirq_device() -> None:
    cirq_device, _ = _google("weber")
    device = load_device("google_weber")
    grid = sorted(cirq_device.metadata.qubit_set)
    assert device.num_qubits == len(grid) == 53
    assert device.qubit_labels is not None and device.coordinates is not None
    label_to_qubit = {f"q({q.row},{q.col})": q for q in grid}
    edges = {
        frozenset((label_to_qubit[device.qubit_labels[a]], label_to_qubit[device.qubit_labels[b]]))
        for a, b in device.directed_edges()
    }
    assert edges == {frozenset(e) for e in cirq_device.metadata.nx_graph.edges}
    q0 = label_to_qubit[device.qubit_labels[0]]
    assert device.coordinates[0] == (q0.col, -q0.row)
    assert "PRICED as its sqrt-iSWAP decomposition" in device.source
    assert device.snapshot_date == "2021-11-03"


def test_google_willow_numbers_follow_the_documented_conversions() -> None:
    import cirq
    from cirq.devices.noise_utils import OpIdentifier

    _, noise = _google("willow_pink")
    device = load_device("google_willow_pink")
    assert device.two_qubit_gate == "cz"
    labels = device.qubit_labels
    assert labels is not None
    a, b = device.directed_edges()[0]
    qa, qb = (cirq.GridQubit(*map(int, labels[i][2:-1].split(","))) for i in (a, b))
    pauli = noise.gate_pauli_errors[OpIdentifier(cirq.CZPowGate, qa, qb)]
    assert device.instructions["cz"][(a, b)].error == pytest.approx(pauli * 4 / 5)
    p1 = noise.gate_pauli_errors[OpIdentifier(cirq.PhasedXZGate, qa)]
    assert device.instructions["sx"][(a,)].error == pytest.approx(p1 * 2 / 3)
    t1, tphi = noise.t1_ns[qa] * 1e-9, noise.tphi_ns[qa] * 1e-9
    assert device.qubits[a].t2_s == pytest.approx(1 / (1 / (2 * t1) + 1 / tphi))
    assert device.qubits[a].prob_meas1_prep0 == noise.readout_errors[qa][0]
    assert device.instructions["rz"][(a,)].error == 0.0


# ----------------------------------------------------------------------------- YAML
@pytest.mark.parametrize("path", sorted(CATALOG_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_catalog_yaml_devices_are_all_to_all(path: Path) -> None:
    device = load_device(path.stem)
    assert device.name == path.stem
    assert device.family == "ion"
    assert device.source and device.snapshot_date
    n = device.num_qubits
    assert n >= 10
    assert nx.is_isomorphic(device.coupling_graph(), nx.complete_graph(n))
    assert device.instructions["rz"][(0,)].error == 0.0
    assert all(q.t2_s <= 2 * q.t1_s for q in device.qubits)


def test_yaml_round_trip_of_an_ibm_device(tmp_path: Path) -> None:
    device = load_device("ibm_lagos")
    dump_yaml_device(device, tmp_path / "lagos.yaml")
    again = load_yaml_device(tmp_path / "lagos.yaml")
    assert_same_device(again, device)


def test_yaml_round_trip_keeps_labels_and_coordinates(tmp_path: Path) -> None:
    device = load_device("google_rainbow")
    dump_yaml_device(device, tmp_path / "rainbow.yaml")
    assert_same_device(load_yaml_device(tmp_path / "rainbow.yaml"), device)


GOOD = """\
name: trap
family: ion
num_qubits: 4
coupling: all_to_all
defaults:
  qubit: {t1_us: 1.0e+6, t2_us: 5.0e+5, readout_error: 0.01}
  instructions:
    rz: {error: 0, duration_ns: 0}
    sx: {error: 1.0e-4, duration_ns: 10000}
    measure: {duration_ns: 100000}
    cx: {error: 5e-3, duration_ns: 200000}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trap.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_compact_yaml_form(tmp_path: Path) -> None:
    extra = (
        "qubits:\n- {}\n- {t1_us: 20, t2_us: 30, prob_meas0_prep1: 0.2}\n- {}\n- {}\n"
        "instructions:\n  cx:\n  - {qubits: [0, 1], error: 0.5, duration_ns: 1}\n"
    )
    device = load_yaml_device(_write(tmp_path, GOOD + extra))
    assert device.num_qubits == 4
    assert len(device.directed_edges()) == 12
    assert device.qubits[1].t1_s == pytest.approx(20e-6)
    assert device.qubits[1].t2_s == pytest.approx(30e-6)
    assert device.qubits[0].t2_s == pytest.approx(0.5)  # from defaults.qubit
    assert device.qubits[1].prob_meas0_prep1 == 0.2
    assert device.qubits[1].prob_meas1_prep0 == 0.01  # readout_error fills the other one
    assert device.instructions["cx"][(0, 1)].error == 0.5
    assert device.instructions["cx"][(1, 0)].error == 5e-3  # "5e-3" read as YAML 1.1 string
    assert device.instructions["measure"][(2,)].error == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("t1_us: 1.0e+6, ", ""), r"trap\.yaml: qubits\[0\]\.t1_us: missing required field"),
        (("num_qubits: 4", "num_qubits: 4\nqubits: [{}, {}, {}, {t1_us: -5}]"),
         r"trap\.yaml: qubits\[3\]\.t1_us: expected a positive number, got -5"),
        (("    rz:", "    rzz:"), r"trap\.yaml: defaults\.instructions\.rzz: unknown instruction"),
        (("family: ion", "family: ion\ninstructions:\n  sx: [{qubits: [7], error: 0, "
          "duration_ns: 1}]"),
         r"trap\.yaml: instructions\.sx\[0\]\.qubits: qubit index 7 is out of range 0\.\.3"),
        (("t2_us: 5.0e+5", "t2_us: 5.0e+6"), r"defaults\.qubit\.t2_us: T2 must not exceed"),
        (("error: 1.0e-4", "error: 2"), r"sx\.error: expected a probability in \[0, 1\], got 2"),
        (("family: ion", "famly: ion"), r"trap\.yaml: famly: unknown field"),
        (("coupling: all_to_all", "coupling: [[0, 0]]"), r"coupling\[0\]: cx on \[0, 0\] repeats"),
        (("coupling: all_to_all\n", ""), r"cx: a default two-qubit gate needs `coupling`"),
        (("num_qubits: 4", "num_qubits: [4"), r"trap\.yaml: invalid YAML"),
    ],
)
def test_malformed_yaml_names_file_field_and_reason(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    old, new = edit
    assert old in GOOD
    with pytest.raises(DeviceError, match=message):
        load_yaml_device(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_missing_yaml_file() -> None:
    with pytest.raises(DeviceError, match=r"nope\.yaml: cannot read device file"):
        load_yaml_device("nope.yaml")


# ------------------------------------------------------------------------ synthetic
def test_synthetic_is_deterministic_per_seed() -> None:
    name = "synthetic:heavy_hex:27?cx_error=5e-3&t1_us=150"
    a, b = load_synthetic_device(name), load_synthetic_device(name)
    assert a == b
    assert a.num_qubits == 27
    other = load_synthetic_device(name + "&seed=1")
    assert other.qubits != a.qubits
    median = statistics.median(p.error for p in a.instructions["cx"].values())
    assert median == pytest.approx(5e-3, rel=0.3)
    # the draws do not depend on the means: doubling cx_error doubles every cx error
    doubled = load_synthetic_device(name.replace("5e-3", "1e-2"))
    for qargs, props in a.instructions["cx"].items():
        assert doubled.instructions["cx"][qargs].error == pytest.approx(2 * props.error)


@pytest.mark.parametrize(
    ("name", "qubits", "edges", "max_degree"),
    [
        ("synthetic:line:5", 5, 4, 2),
        ("synthetic:ring:6", 6, 6, 2),
        ("synthetic:grid:3x4", 12, 17, 4),
        ("synthetic:grid:10", 10, 13, 4),
        ("synthetic:all_to_all:6", 6, 15, 5),
        ("synthetic:heavy_hex:127", 127, None, 3),
    ],
)
def test_synthetic_topologies(name: str, qubits: int, edges: int | None, max_degree: int) -> None:
    graph = load_synthetic_device(name).coupling_graph()
    assert graph.number_of_nodes() == qubits
    assert nx.is_connected(graph)
    assert max(d for _, d in graph.degree) == max_degree
    if edges is not None:
        assert graph.number_of_edges() == edges


def test_synthetic_heavy_hex_prefixes_nest() -> None:
    small = load_synthetic_device("synthetic:heavy_hex:20").coupling_graph()
    big = load_synthetic_device("synthetic:heavy_hex:40").coupling_graph()
    assert set(small.edges) == set(big.subgraph(range(20)).edges)


def test_synthetic_keys_and_gates() -> None:
    flat = load_synthetic_device("synthetic:line:4?spread=0&2q_error=0.02&t1_us=100&t2_us=500")
    assert {p.error for p in flat.instructions["cx"].values()} == {0.02}
    assert len(flat.instructions["cx"]) == 6  # cx in both directions
    assert all(q.t2_s == pytest.approx(2 * q.t1_s) for q in flat.qubits)  # clamped to 2 T1
    cz = load_synthetic_device("synthetic:ring:5?gate=cz")
    assert cz.two_qubit_gate == "cz" and len(cz.instructions["cz"]) == 5
    assert math.isclose(cz.instructions["sx"][(0,)].duration_s, 60e-9)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("synthetic:hexagon:5", r"unknown topology 'hexagon'; accepted: line:N, ring:N"),
        ("synthetic:line:5?cx_eror=1e-3", r"unknown key 'cx_eror'; accepted: gate, cx_error"),
        ("synthetic:line:5?cx_error=2", r"cx_error='2': expected a probability in \[0, 1\]"),
        ("synthetic:line:5?gate=iswap", r"gate='iswap': expected one of cx, cz, ecr"),
        ("synthetic:line:5?t1_us=-3", r"t1_us='-3': expected a positive number"),
        ("synthetic:grid:0x3", r"grid rows '0' is not a positive integer"),
        ("synthetic:ring:2", r"ring needs 3\.\.1024 qubits, got 2"),
    ],
)
def test_synthetic_errors_name_the_problem(name: str, message: str) -> None:
    with pytest.raises(DeviceError, match=message):
        load_synthetic_device(name)


@pytest.mark.slow
def test_every_ibm_fake_backend_loads() -> None:
    for name in ibm_device_names():
        device = load_ibm_device(name)
        assert device.family == "ibm" and device.snapshot_date
        assert len(device.two_qubit_gates) <= 1
        assert {"rz", "sx", "x", "measure"} <= set(device.instructions)
