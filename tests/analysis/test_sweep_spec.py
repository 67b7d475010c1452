"""Sweep spec validation: errors name the file and the field; keys are stable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qaa_hw.analysis.sweep_spec import (
    SweepPoint,
    load_sweep_spec,
    parse_sweep_spec,
    quick_spec,
)
from qaa_hw.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def base(**extra: Any) -> dict[str, Any]:
    return {"devices": ["ibm_torino"], **extra}


def test_defaults_and_product_order() -> None:
    spec = parse_sweep_spec(base(qubits=[2, 3], layers=[1, 2], mitigation=["none", "REM"]))
    points = spec.points()
    assert spec.size == len(points) == 8
    assert points[0] == SweepPoint(device="ibm_torino", qubits=2, layers=1, mitigation="none")
    assert [p.mitigation for p in points[:2]] == ["none", "rem"]  # innermost varies fastest
    assert len({p.key for p in points}) == 8


def test_scalar_is_one_element_axis_and_settings_apply() -> None:
    spec = parse_sweep_spec(base(qubits=3, inputs=5, mitigation_inputs=2, prep_noise="none"))
    (point,) = spec.points()
    assert (point.qubits, point.inputs, point.mitigation_inputs, point.prep_noise) == (
        3, 5, 2, "none")


def test_key_is_stable() -> None:
    # Changing this value means every existing results store re-runs all its points.
    assert SweepPoint(device="ibm_torino").key == SweepPoint(device="ibm_torino").key
    assert SweepPoint(device="ibm_torino").key != SweepPoint(device="ibm_torino", seed=1).key
    assert SweepPoint(device="ibm_torino").key == "2c3b203dc4cbf10a"


def test_combined_mitigation_is_canonical() -> None:
    spec = parse_sweep_spec(base(mitigation=["rem+zne", "none"]))
    assert spec.axes["mitigation"] == ("zne+rem", "none")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (base(qubits=[2, "four"]),
         r"^x\.yaml: qubits\[1\]: expected an integer 1\.\.16, got 'four'$"),
        (base(qubits=[0]), r"qubits\[0\]: expected an integer 1\.\.16, got 0"),
        (base(layers=[1, True]), r"layers\[1\]: expected an integer 1\.\.64, got True"),
        ({"devices": ["ibm_brisbain"]}, r"devices\[0\]: expected a device name .* got "
                                        r"'ibm_brisbain'; did you mean 'ibm_brisbane'"),
        (base(noise_scale=[-1]), r"noise_scale\[0\]: expected a finite number >= 0, got -1"),
        (base(entangler=["rign"]), r"entangler\[0\]: expected one of .*did you mean 'ring'"),
        (base(mitigation=["zen"]), r"mitigation\[0\]: expected 'none' or technique names"),
        (base(mitigation=["zne+pec"]), r"mitigation\[0\]: expected each technique at most once"),
        (base(shots=[0]), r"shots\[0\]: expected an integer 1\.\.1000000000, got 0"),
        (base(seeds=[]), r"seeds: expected a non-empty list, got \[\]"),
        (base(qubits=[2, 2]), r"qubits: expected distinct values"),
        (base(qbits=[2]), r"x\.yaml: qbits: unknown field; did you mean 'qubits'"),
        ({"qubits": [2]}, r"x\.yaml: devices: required field is missing"),
        (base(engine="torch"), r"engine: expected one of fast, exact, aer, cirq, got 'torch'"),
        (base(inputs=4, mitigation_inputs=8), r"mitigation_inputs: expected at most inputs=4"),
        (base(training={"tokens_per_step": 0}),
         r"x\.yaml: training\.tokens_per_step: expected an integer >= 1, got 0"),
        (base(training={"epochs": 3}), r"training\.epochs: unknown field"),
        (base(mitigation_options={"zne": {"factory": "cubic"}}),
         r"x\.yaml: mitigation_options\.zne: ZNE factory='cubic' is not valid"),
        (base(mitigation_options={"zne": {"colour": 1}}), r"mitigation_options\.zne: .*colour"),
        (base(mitigation_options={"zen": {}}), r"mitigation_options\.zen: expected a technique"),
        ([1, 2], r"x\.yaml: top level: expected a mapping"),
    ],
)
def test_malformed_specs_name_the_field(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_sweep_spec(data, source="x.yaml")


def test_file_errors_name_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("devices: [ibm_torino]\nqubits: [2, four]\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: qubits\[1\]: expected an integer "
                                          r"1\.\.16, got 'four'"):
        load_sweep_spec(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("devices: [ibm_torino\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_sweep_spec(broken)
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read sweep spec"):
        load_sweep_spec(tmp_path / "missing.yaml")


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "analysis").glob("*.yaml")))
def test_shipped_specs_are_valid(name: str) -> None:
    spec = load_sweep_spec(ROOT / "analysis" / name)
    assert spec.size >= 1


def test_quick_spec() -> None:
    spec = quick_spec(["ibm_torino", "google_weber"])
    assert spec.size == 96
