"""Technique records: validation messages, settings, and the entry points' argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from _mitigation_fixtures import compiled_on, problem

from qaa_hw.devices.model import scale_noise
from qaa_hw.errors import ConfigError, SimulationError
from qaa_hw.mitigation import DDD, PEC, REM, ZNE, Combined, Mitigator, mitigate


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale_factors": (1,)}, r"ZNE needs at least 2 scale factors, got \(1\.0,\)"),
        ({"scale_factors": (0.5, 1, 3)}, r"must be finite, >= 1 .* got \(0\.5, 1\.0, 3\.0\)"),
        ({"scale_factors": (1, 3, 3)}, r"must be distinct"),
        ({"scale_factors": ("a", 3)}, r"ZNE scale factors \('a', 3\) are not numbers"),
        (
            {"factory": "richardsen"},
            r"ZNE factory='richardsen' is not valid; accepted: richardson, linear, "
            r"polynomial, exponential",
        ),
        ({"scaling": "local"}, r"ZNE scaling='local' is not valid; accepted: fold_random, "
                               r"fold_global, fold_all, pulse_stretch"),
        ({"scaling": "fold_all", "scale_factors": (1, 2)}, r"odd integers .* got \(1\.0, 2\.0\)"),
        ({"factory": "polynomial", "order": 3}, r"ZNE order=3 needs at least 4 scale factors"),
        ({"factory": "polynomial", "order": 0}, r"ZNE order=0 is not valid; accepted: an integer"),
        (
            {"factory": "exponential", "scale_factors": (1, 3)},
            r"fitted asymptote needs at least 3 scale factors",
        ),
    ],
)
def test_zne_rejects_invalid_settings(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ZNE(**kwargs)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: REM(method="full"), r"REM method='full' is not valid; accepted: tensored, unif"),
        (lambda: DDD(rule="xz"), r"DDD rule='xz' is not valid; accepted: xx, yy, xyxy"),
        (lambda: DDD(spacing=-2), r"DDD spacing=-2 is not valid; accepted: an integer -1\.\."),
        (lambda: PEC(num_samples=0), r"PEC num_samples=0 is not valid; accepted: an integer 1\.\."),
        (lambda: PEC(representation="pauli"), r"PEC representation='pauli' is not valid"),
        (lambda: Combined(ZNE()), r"Combined needs at least 2 techniques, got \['zne'\]"),
        (lambda: Combined(REM(), REM()), r"at most once, got \['rem', 'rem'\]"),
        (lambda: Combined(ZNE(), PEC()), r"cannot use both ZNE and PEC"),
        (lambda: Combined(REM(), "zne"), r"Combined takes ZNE, REM, DDD or PEC records"),
    ],
)
def test_other_techniques_reject_invalid_settings(build, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=match):
        build()


def test_settings_are_plain_data_in_application_order() -> None:
    zne = ZNE(factory="polynomial", order=1, scale_factors=(1, 2, 3), scaling="fold_global")
    assert zne.scale_factors == (1.0, 2.0, 3.0)
    assert zne.to_dict() == {
        "technique": "zne", "factory": "polynomial", "scale_factors": [1.0, 2.0, 3.0],
        "scaling": "fold_global", "order": 1,
    }
    combo = Combined(ZNE(), DDD(rule="xyxy"), REM())
    assert combo.name == "zne+ddd+rem"
    assert [p["technique"] for p in combo.to_dict()["parts"]] == ["zne", "ddd", "rem"]
    assert Combined(REM(), ZNE()).name == "zne+rem"
    assert PEC(num_samples=7).to_dict() == {
        "technique": "pec", "num_samples": 7, "representation": "global",
    }


def test_entry_points_check_executor_shots_and_technique(line3_device) -> None:  # type: ignore[no-untyped-def]
    compiled = compiled_on(line3_device, qubits=2)
    x, theta = problem(compiled, 1)
    with pytest.raises(SimulationError, match=r"shots=-5 is not valid; accepted: None"):
        mitigate(compiled, x[0], theta, technique=ZNE(), shots=-5)
    with pytest.raises(ConfigError, match=r"executor='qasm' is not valid; accepted: aer, cirq"):
        Mitigator(compiled, executor="qasm")
    with pytest.raises(ConfigError, match=r"technique='zne' is not valid; accepted: ZNE"):
        mitigate(compiled, x[0], theta, technique="zne")  # type: ignore[arg-type]


def test_pec_needs_gate_errors(line3_device) -> None:  # type: ignore[no-untyped-def]
    compiled = compiled_on(scale_noise(line3_device, 0.0), qubits=2)
    x, theta = problem(compiled, 1)
    with pytest.raises(ConfigError, match=r"PEC needs gate errors .*noise scale 0"):
        mitigate(compiled, x[0], theta, technique=PEC(num_samples=4))


def test_estimate_record(line3_device) -> None:  # type: ignore[no-untyped-def]
    compiled = compiled_on(line3_device, qubits=2)
    x, theta = problem(compiled, 1)
    est = mitigate(compiled, x[0], theta, technique=Combined(REM(), ZNE(factory="linear")),
                   shots=500, seed=2)
    assert est.circuits == 3 and est.total_shots == 1500 and est.shots == 500
    data = est.to_dict()
    assert data["technique"]["technique"] == "zne+rem"
    assert data["executor"] == "aer"
    assert len(data["mitigated"]) == len(data["ideal"]) == 2
    assert data["details"]["scale_factors"] == [1.0, 3.0, 5.0]
    assert np.isclose(data["mitigated_error"], np.abs(est.mitigated - est.ideal).mean())
    with pytest.raises(AttributeError):
        est.circuits = 4  # type: ignore[misc]
