"""The default point function: real compilation, noisy simulation and Mitiq mitigation."""

from __future__ import annotations

import math
import sys

import pytest

from qaa_hw.analysis.evaluate import evaluate_point, mitigator_class
from qaa_hw.analysis.store import RESULT_COLUMNS
from qaa_hw.analysis.sweep_spec import SweepPoint
from qaa_hw.errors import ConfigError
from qaa_hw.mitigation.techniques import technique_from_names


def test_unmitigated_point_columns() -> None:
    out = evaluate_point(SweepPoint(device="ibm_torino", qubits=2, layers=1, inputs=4))
    assert set(out) <= set(RESULT_COLUMNS)
    assert out["parameters"] == 2 and out["two_qubit_count"] >= 1
    assert 0.5 < out["esp"] < 1 and 0.5 < out["output_fidelity"] <= 1
    assert 0 < out["abs_error"] <= out["abs_error_max"] < 1
    assert out["mitigated_abs_error"] == out["abs_error"] and out["overhead"] == 1.0
    assert out["final_layout"].startswith("[") and math.isfinite(out["min_t2_s"])


def test_zne_point_uses_the_mitigation_package() -> None:
    point = SweepPoint(device="ibm_torino", qubits=2, layers=1, inputs=4, mitigation_inputs=1,
                       mitigation="zne+rem")
    out = evaluate_point(point)
    assert out["circuits_per_estimate"] == 3.0 and out["overhead"] == 3.0  # 3 scale factors
    assert out["mitigation_engine"] == "aer"
    assert out["mitigated_abs_error"] < out["unmitigated_abs_error_ref"]


def test_technique_options_and_missing_api(monkeypatch: pytest.MonkeyPatch) -> None:
    zne = technique_from_names("zne", {"zne": {"factory": "linear", "scale_factors": [1, 3]}})
    assert zne.to_dict()["factory"] == "linear"
    assert technique_from_names("zne+rem").name == "zne+rem"
    monkeypatch.setitem(sys.modules, "qaa_hw.mitigation.api", None)
    with pytest.raises(ConfigError, match=r"mitigation 'zne' needs qaa_hw\.mitigation\.api\."
                                          r"Mitigator .*use mitigation: \[none\]"):
        mitigator_class("zne")
