"""Feasibility verdicts, QPU cost arithmetic, per-family shot timing, Pareto fronts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from qaa_hw.analysis.assumptions import (
    Pricing,
    Thresholds,
    TrainingAssumptions,
    model_layers,
)
from qaa_hw.analysis.feasibility import (
    ShotTiming,
    assess_device,
    judge,
    judge_cost,
    qpu_cost,
    shot_timing,
)
from qaa_hw.analysis.pareto import pareto_front
from qaa_hw.analysis.shot_noise import ShotError, ShotNoiseModel
from qaa_hw.analysis.store import average_seeds
from qaa_hw.analysis.sweep_spec import SweepPoint
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import ConfigError


def row(device: DeviceModel, **over: Any) -> dict[str, Any]:
    """A sweep row on qubits 0-1 of the conftest line3 device (measure 1 us)."""
    base = {**SweepPoint(device=device.name, qubits=2, layers=1).to_dict(),
            "status": "ok", "parameters": 2, "esp": 0.9, "duration_s": 3e-6,
            "min_t2_s": 80e-6, "final_layout": "[0,1]", "active_qubits": "[0,1]",
            "mitigated_abs_error": 0.01, "abs_error": 0.02, "output_fidelity": 0.95,
            "circuits_per_estimate": 1.0, "two_qubit_count": 1, "depth": 5,
            "standard_error": 0.0, "shots_per_call": 1000}
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
        ({"mitigated_abs_error": 0.02, "standard_error": 0.04}, "marginal", "error"),
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


TIMING = ShotTiming("ibm", reset_s=2e-6, rep_delay_s=250e-6, source="test")
COST_ROW = {"parameters": 8, "duration_s": 8e-6, "circuits_per_estimate": 3.0, "shots": None,
            "qubits": 3, "embedding": "exact"}


def test_qpu_cost_arithmetic() -> None:
    training = TrainingAssumptions(tokens_per_step=100, layers=1, targets=2, steps_per_epoch=10,
                                   shots=1000)
    cost = qpu_cost(COST_ROW, TIMING, training, Pricing(2.0, "test"))
    shot = 8e-6 + 2e-6 + 250e-6
    assert cost["shot_s"] == pytest.approx(shot)
    assert cost["evaluations"] == 17  # 2P + 1
    assert cost["input_gradient_circuits_per_step"] == 0  # one layer: nothing below it
    assert cost["circuits_per_step"] == 100 * 2 * 17 * 3
    assert cost["circuits_per_token"] == 2 * 3
    epoch_s = 100 * 2 * 17 * 3 * 1000 * shot * 10
    assert cost["qpu_h_per_epoch"] == pytest.approx(epoch_s / 3600)
    assert cost["usd_per_epoch"] == pytest.approx(2.0 * epoch_s)
    assert cost["s_per_token"] == pytest.approx(6 * 1000 * shot)
    assert cost["usd_per_1k_tokens"] == pytest.approx(2.0 * 1000 * 6 * 1000 * shot)
    forward = qpu_cost({**COST_ROW, "shots": 200}, TIMING,
                       TrainingAssumptions(gradient="forward"))
    assert forward["evaluations"] == 1 and forward["shots"] == 200
    assert forward["input_gradient_circuits_per_step"] == 0


def test_model_cost_is_layers_times_one_block_plus_input_gradients() -> None:
    """SmolLM2-135M with q_proj and v_proj in all 30 layers: 30x the one-block cost, plus
    2 A circuits (A = 2^3 - 1 embedding angles) per token for the 29 x 2 upper modules."""
    one = qpu_cost(COST_ROW, TIMING, TrainingAssumptions(layers=1, targets=2))
    model = TrainingAssumptions(layers=model_layers("smollm2-135m"), targets=2)
    assert model.modules == 60 and model.input_gradient_modules == 58
    full = qpu_cost(COST_ROW, TIMING, model)
    inputs = 512 * 58 * 2 * 7 * 3  # tokens x modules x 2A x circuits per call
    assert full["input_gradient_circuits_per_step"] == inputs
    assert full["circuits_per_step"] == 30 * one["circuits_per_step"] + inputs
    per_circuit_s = 1000 * TIMING.shot_seconds(8e-6)
    assert full["qpu_s_per_step"] == pytest.approx(
        30 * one["qpu_s_per_step"] + inputs * per_circuit_s)
    assert full["s_per_token"] == pytest.approx(30 * one["s_per_token"])  # generation
    no_inputs = qpu_cost(COST_ROW, TIMING, TrainingAssumptions(input_gradients=False))
    assert no_inputs["circuits_per_step"] == 30 * one["circuits_per_step"]


def test_cost_verdict() -> None:
    row = {**COST_ROW, **qpu_cost(COST_ROW, TIMING, TrainingAssumptions(
        tokens_per_step=1, layers=1, targets=1, steps_per_epoch=1, shots=10, gradient="forward"))}
    assert judge_cost(row).level == "feasible"
    slow = {**row, "qpu_h_per_epoch": 24.0}
    v = judge_cost(slow)
    assert v.level == "marginal" and v.checks["epoch"] == "marginal"
    assert v.reasons[0].startswith("training: 24 h of QPU time per epoch, USD")


def test_zne_shot_error_is_the_exact_error_times_the_extrapolations_amplification(
        line3_device: DeviceModel) -> None:
    """Richardson at (1, 3, 5): weights (15, -10, 3) / 8, standard deviation amplified by
    sqrt(sum w^2) = 2.28 over one circuit's; the error at 1,000 shots exceeds the exact-value
    (bias-only) error by that; and shots drawn by the simulation core agree."""
    from qaa_hw.mitigation.techniques import REM, ZNE, Combined
    from qaa_hw.simulate import make_engine, noise_spec, simulate

    compiled = compile_adapter(QAASpec(num_qubits=2, num_layers=1), line3_device)
    rng = np.random.default_rng(0)
    x, theta = rng.normal(size=(3, 4)), rng.uniform(-np.pi, np.pi, 2)
    model = ShotNoiseModel(compiled, x, theta)
    plain, zne = model.error(None, 1000), model.error(ZNE(), 1000)
    weights = np.array([15, -10, 3]) / 8
    assert zne.weights == pytest.approx(tuple(weights))
    assert plain.amplification == 1.0 and plain.standard_error == pytest.approx(
        np.mean(np.sqrt(1 - model.values[1.0] ** 2)) / np.sqrt(1000))
    # bounded by the amplification of equal variances (the values at higher noise are
    # closer to 0, so their variance is larger, never smaller)
    assert zne.amplification >= np.sqrt((weights**2).sum()) * 0.99
    assert zne.standard_error > 2.2 * plain.standard_error > 0.05
    bias = 0.01  # an exact-value error that passes the 0.05 threshold alone
    assert bias + zne.standard_error > Thresholds().error_feasible
    assert zne.shots_for_equal_error() == pytest.approx(1000 * zne.amplification**2)
    rem = model.error(Combined(REM(), ZNE()), 1000)
    assert rem.standard_error > zne.standard_error  # REM divides by 1 - p01 - p10 < 1
    # Monte Carlo with the simulation core's sampler
    scaling, base = ZNE().noise_scaling(0), noise_spec(compiled.device, compiled.active_qubits)
    engines = [make_engine("fast", compiled, noise=n, fold=f)
               for n, f in (scaling.engine_setting(base, s) for s in (1.0, 3.0, 5.0))]
    draws = np.array([sum(w * simulate(compiled, x, theta, engine=e, shots=1000,
                                       seed=100 * k + i).expectations.numpy()
                          for i, (w, e) in enumerate(zip(weights, engines, strict=True)))
                      for k in range(150)])
    assert np.mean(draws.std(axis=0)) == pytest.approx(zne.standard_error, rel=0.15)
    with pytest.raises(ConfigError, match="shots=0 is not valid"):
        model.error(None, 0)


def test_shot_timing_per_family() -> None:
    ibm = shot_timing(load_device("ibm_brisbane"))
    assert ibm.rep_delay_s == pytest.approx(250e-6)  # conf_brisbane.json default_rep_delay
    assert 1e-6 < ibm.reset_s < 5e-6 and "conf_brisbane.json" in ibm.source
    ion = shot_timing(load_device("ionq_aria"))
    assert ion.reset_s == pytest.approx(1e-3) and "assumption" in ion.source


def test_training_assumptions_validate() -> None:
    with pytest.raises(ConfigError, match="layers: expected an integer >= 1, got 0"):
        TrainingAssumptions(layers=0)
    assert TrainingAssumptions.from_mapping({"modules": 2}).modules == 2  # older stores
    with pytest.raises(ConfigError, match="usd_per_qpu_s: expected a finite number >= 0"):
        Pricing(-1.0)
    assert model_layers("tiny") == 2
    with pytest.raises(ConfigError, match="model='gpt9' is not valid; accepted: smollm2-135m"):
        model_layers("gpt9")
    with pytest.raises(ConfigError, match="gradient: expected one of"):
        TrainingAssumptions.from_mapping({"gradient": "adjoint"})
    with pytest.raises(ConfigError, match="need 0 < esp_marginal <= esp_feasible"):
        Thresholds(esp_feasible=0.1, esp_marginal=0.5)


def test_pareto_front() -> None:
    rows = [
        {"id": "a", "error_with_shots": 0.01, "parameters": 4, "s_per_token": 1.0},
        {"id": "b", "error_with_shots": 0.02, "parameters": 8, "s_per_token": 1.0},
        {"id": "c", "error_with_shots": 0.02, "parameters": 4, "s_per_token": 1.0},  # < a
        {"id": "d", "error_with_shots": 0.05, "parameters": 8, "s_per_token": 0.1},
        {"id": "e", "error_with_shots": 0.05, "parameters": 8, "s_per_token": 0.2},  # < d
    ]
    assert [r["id"] for r in pareto_front(rows)] == ["a", "b", "d"]
    with pytest.raises(ConfigError, match="no value for objective 'parameters'"):
        pareto_front([{"error_with_shots": 1.0, "s_per_token": 1.0}])


def test_average_seeds() -> None:
    a = {**SweepPoint(device="d", seed=0).to_dict(), "esp": 0.5, "final_layout": "[1]"}
    b = {**SweepPoint(device="d", seed=1).to_dict(), "esp": 0.7, "final_layout": "[2]"}
    (merged,) = average_seeds([b, a])
    assert merged["esp"] == pytest.approx(0.6) and merged["seeds"] == 2
    assert merged["final_layout"] == "[1]"


def _line3_shot_error(device: DeviceModel) -> Any:
    """``(row, shots) -> ShotError`` for rows of the fixture device (not in the catalog):
    the row's configuration compiled on it, error from the simulation core."""
    from qaa_hw.mitigation.techniques import technique_from_names

    def error(r: dict[str, Any], shots: int) -> ShotError:
        compiled = compile_adapter(QAASpec(num_qubits=r["qubits"], num_layers=r["layers"]),
                                   device)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(2, 1 << r["qubits"]))
        theta = rng.uniform(-np.pi, np.pi, compiled.spec.num_parameters)
        technique = None if r["mitigation"] == "none" else technique_from_names(r["mitigation"])
        return ShotNoiseModel(compiled, x, theta).error(technique, shots)

    return error


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
    # 10,000 shots: standard errors ~0.01 (ZNE ~0.02), so the biases decide as intended
    a = assess_device(rows, line3_device, training=TrainingAssumptions(shots=10_000),
                      shot_error=_line3_shot_error(line3_device), advantage=False)
    assert all(r["shots_per_call"] == 10_000 and r["standard_error"] > 0 for r in a.rows)
    assert a.level == "feasible" and a.noise_scale == 1.0 and len(a.rows) == 4
    assert a.recommended is not None and a.largest_feasible is not None
    assert (a.recommended["qubits"], a.recommended["mitigation"]) == (3, "none")
    assert a.largest_feasible["qubits"] == 3
    # ZNE's bias 0.001 no longer wins once its amplified shot noise (~0.022 at 10,000
    # shots) counts: the n=3 L=2 row (0.019, more parameters, a third of the cost) dominates
    zne = next(r for r in a.rows if r["mitigation"] == "zne")
    assert zne["standard_error"] > 2 * a.recommended["standard_error"]
    assert {r["mitigation"] for r in a.front} == {"none"}
    with pytest.raises(ConfigError, match="no successful point for device 'nowhere'"):
        assess_device(rows, DeviceModel(**{**line3_device.__dict__, "name": "nowhere"}))
