"""Feasibility verdicts, QPU cost arithmetic, per-family shot timing, Pareto fronts."""

from __future__ import annotations

from typing import Any

import pytest

from qaa_hw.analysis.assumptions import Thresholds, TrainingAssumptions
from qaa_hw.analysis.feasibility import ShotTiming, assess_device, judge, qpu_cost, shot_timing
from qaa_hw.analysis.pareto import pareto_front
from qaa_hw.analysis.store import average_seeds
from qaa_hw.analysis.sweep_spec import SweepPoint
from qaa_hw.devices.catalog import load_device
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import ConfigError


def row(device: DeviceModel, **over: Any) -> dict[str, Any]:
    """A sweep row on qubits 0-1 of the conftest line3 device (measure 1 us)."""
    base = {**SweepPoint(device=device.name, qubits=2, layers=1).to_dict(),
            "status": "ok", "parameters": 2, "esp": 0.9, "duration_s": 3e-6,
            "min_t2_s": 80e-6, "final_layout": "[0,1]", "active_qubits": "[0,1]",
            "mitigated_abs_error": 0.01, "abs_error": 0.02, "output_fidelity": 0.95,
            "circuits_per_estimate": 1.0, "two_qubit_count": 1, "depth": 5}
    base.update(over)
    return base


@pytest.mark.parametrize(
    ("over", "level", "check"),
    [
        ({}, "feasible", None),
        ({"esp": 0.3}, "marginal", "esp"),
        ({"esp": 0.05}, "infeasible", "esp"),
        ({"duration_s": 1e-6 + 40e-6}, "marginal", "coherence"),  # 40 us / 80 us = 0.5
        ({"duration_s": 1e-6 + 100e-6}, "infeasible", "coherence"),
        ({"mitigated_abs_error": 0.1}, "marginal", "error"),
        ({"mitigated_abs_error": 0.2}, "infeasible", "error"),
    ],
)
def test_verdict_thresholds(line3_device: DeviceModel, over: dict[str, Any], level: str,
                            check: str | None) -> None:
    v = judge(row(line3_device, **over), line3_device)
    assert v.level == level
    if check:
        assert v.checks[check] == level
        assert sum(lv != "feasible" for lv in v.checks.values()) == 1
    assert len(v.reasons) == 3
    assert v.reasons[0].startswith(f"ESP {v.checks and row(line3_device, **over)['esp']:.3f}")


def test_coherent_time_excludes_readout(line3_device: DeviceModel) -> None:
    v = judge(row(line3_device, duration_s=1e-6 + 8e-6), line3_device)
    assert "coherent time 8 us = 0.100 x min T2" in v.reasons[1]


def test_qpu_cost_arithmetic() -> None:
    timing = ShotTiming("ibm", reset_s=2e-6, rep_delay_s=250e-6, source="test")
    training = TrainingAssumptions(tokens_per_step=100, modules=2, steps_per_epoch=10,
                                   shots=1000)
    r = {"parameters": 8, "duration_s": 8e-6, "circuits_per_estimate": 3.0, "shots": None}
    cost = qpu_cost(r, timing, training)
    shot = 8e-6 + 2e-6 + 250e-6
    assert cost["shot_s"] == pytest.approx(shot)
    assert cost["evaluations"] == 17  # 2P + 1
    assert cost["circuits_per_step"] == 100 * 2 * 17 * 3
    assert cost["circuits_per_token"] == 2 * 3
    assert cost["qpu_h_per_epoch"] == pytest.approx(100 * 2 * 17 * 3 * 1000 * shot * 10 / 3600)
    assert cost["s_per_token"] == pytest.approx(6 * 1000 * shot)
    forward = qpu_cost({**r, "shots": 200}, timing,
                       TrainingAssumptions(gradient="forward"))
    assert forward["evaluations"] == 1 and forward["shots"] == 200


def test_shot_timing_per_family() -> None:
    ibm = shot_timing(load_device("ibm_brisbane"))
    assert ibm.rep_delay_s == pytest.approx(250e-6)  # conf_brisbane.json default_rep_delay
    assert 1e-6 < ibm.reset_s < 5e-6 and "conf_brisbane.json" in ibm.source
    ion = shot_timing(load_device("ionq_aria"))
    assert ion.reset_s == pytest.approx(1e-3) and "assumption" in ion.source


def test_training_assumptions_validate() -> None:
    with pytest.raises(ConfigError, match="modules: expected an integer >= 1, got 0"):
        TrainingAssumptions(modules=0)
    with pytest.raises(ConfigError, match="gradient: expected one of"):
        TrainingAssumptions.from_mapping({"gradient": "adjoint"})
    with pytest.raises(ConfigError, match="need 0 < esp_marginal <= esp_feasible"):
        Thresholds(esp_feasible=0.1, esp_marginal=0.5)


def test_pareto_front() -> None:
    rows = [
        {"id": "a", "mitigated_abs_error": 0.01, "parameters": 4, "s_per_token": 1.0},
        {"id": "b", "mitigated_abs_error": 0.02, "parameters": 8, "s_per_token": 1.0},
        {"id": "c", "mitigated_abs_error": 0.02, "parameters": 4, "s_per_token": 1.0},  # < a
        {"id": "d", "mitigated_abs_error": 0.05, "parameters": 8, "s_per_token": 0.1},
        {"id": "e", "mitigated_abs_error": 0.05, "parameters": 8, "s_per_token": 0.2},  # < d
    ]
    assert [r["id"] for r in pareto_front(rows)] == ["a", "b", "d"]
    with pytest.raises(ConfigError, match="no value for objective 'parameters'"):
        pareto_front([{"mitigated_abs_error": 1.0, "s_per_token": 1.0}])


def test_average_seeds() -> None:
    a = {**SweepPoint(device="d", seed=0).to_dict(), "esp": 0.5, "final_layout": "[1]"}
    b = {**SweepPoint(device="d", seed=1).to_dict(), "esp": 0.7, "final_layout": "[2]"}
    (merged,) = average_seeds([b, a])
    assert merged["esp"] == pytest.approx(0.6) and merged["seeds"] == 2
    assert merged["final_layout"] == "[1]"


def test_assess_device_recommends_the_largest_cheapest(line3_device: DeviceModel) -> None:
    rows = [
        row(line3_device, qubits=2, parameters=2, mitigation="none"),
        row(line3_device, qubits=3, parameters=3, mitigation="none",
            mitigated_abs_error=0.04),
        row(line3_device, qubits=3, parameters=3, mitigation="zne", circuits_per_estimate=3.0,
            mitigated_abs_error=0.001),
        row(line3_device, qubits=3, layers=2, parameters=6, esp=0.3),  # marginal
        row(line3_device, qubits=3, noise_scale=2.0, parameters=3),  # other noise scale
        {**row(line3_device, qubits=1), "status": "failed"},
    ]
    a = assess_device(rows, line3_device)
    assert a.level == "feasible" and a.noise_scale == 1.0 and len(a.rows) == 4
    assert a.recommended is not None and a.largest_feasible is not None
    assert (a.recommended["qubits"], a.recommended["mitigation"]) == (3, "none")
    assert a.largest_feasible["qubits"] == 3
    assert {r["mitigation"] for r in a.front} >= {"none", "zne"}
    with pytest.raises(ConfigError, match="no successful point for device 'nowhere'"):
        assess_device(rows, DeviceModel(**{**line3_device.__dict__, "name": "nowhere"}))
