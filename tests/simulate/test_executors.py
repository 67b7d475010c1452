"""Aer and Cirq reference executors, and the ``qaa_hw simulate`` command."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np
import pytest
from _noisy_fixtures import BRISBANE_PATH, brisbane, compiled_adapter, random_inputs

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.errors import ConfigError, QaaHwError, SimulationError
from qaa_hw.simulate.executors import AerExecutor, CirqExecutor
from qaa_hw.simulate.noisy import FastNoisyEngine

#: Aer vs Cirq on ibm_brisbane-like noise. Cirq relaxes idle qubits during every moment and
#: stretches each moment to its longest gate; Aer relaxes only the qubits a gate acts on. For
#: these 3-qubit adapters the difference is up to ~0.05 in <Z> (the noise itself moves <Z> by
#: up to ~0.17); without T1/T2 the two models agree to 1e-10.
AER_CIRQ_TOL = 0.1


@pytest.fixture(scope="module")
def adapter3():
    return compiled_adapter(QAASpec(num_qubits=3, num_layers=2), brisbane(), BRISBANE_PATH)


def _without_relaxation(adapter):
    device = adapter.device
    qubits = tuple(replace(q, t1_s=1e6, t2_s=1e6) for q in device.qubits)
    return replace(adapter, device=replace(device, qubits=qubits))


def test_executors_simulate_only_active_qubits(adapter3):
    executor = AerExecutor(adapter3)
    assert executor.circuit.num_qubits == len(adapter3.active_qubits) < brisbane().num_qubits
    assert executor.device.num_qubits == len(adapter3.active_qubits)


def test_aer_and_cirq_agree_without_relaxation(adapter3):
    adapter = _without_relaxation(adapter3)
    x, theta = random_inputs(adapter.spec, 2, seed=0)
    aer = AerExecutor(adapter).run(x, theta, density_matrices=True)
    cirq = CirqExecutor(adapter).run(x, theta, density_matrices=True)
    assert np.abs(aer.expectations.numpy() - cirq.expectations.numpy()).max() < 1e-8
    assert np.abs(aer.density_matrices.numpy() - cirq.density_matrices.numpy()).max() < 1e-8


def test_aer_and_cirq_agree_within_documented_tolerance(adapter3):
    x, theta = random_inputs(adapter3.spec, 2, seed=1)
    aer = AerExecutor(adapter3).run(x, theta)
    cirq = CirqExecutor(adapter3).run(x, theta)
    diff = np.abs(aer.expectations.numpy() - cirq.expectations.numpy()).max()
    assert 1e-6 < diff < AER_CIRQ_TOL  # different models, same order of magnitude


def test_noiseless_aer_and_cirq_agree_exactly():
    spec = QAASpec(num_qubits=3, num_layers=1, rotations="ry_rz")
    adapter = compiled_adapter(spec, brisbane(), BRISBANE_PATH, noise_scale=0.0)
    x, theta = random_inputs(spec, 2, seed=2)
    aer = AerExecutor(adapter).run(x, theta, density_matrices=True)
    cirq = CirqExecutor(adapter).run(x, theta)
    assert np.abs(aer.probabilities.numpy() - cirq.probabilities.numpy()).max() < 1e-9


def test_parameter_binds_equal_one_run_per_input(adapter3):
    x, theta = random_inputs(adapter3.spec, 3, seed=3)
    executor = AerExecutor(adapter3)
    one_by_one = executor.run_each(x, theta)
    together = executor.run(x, theta)
    assert np.abs(one_by_one.probabilities.numpy() - together.probabilities.numpy()).max() < 1e-12


@pytest.mark.parametrize("kind", ["aer", "cirq"])
def test_shots_converge_to_exact_values(adapter3, kind):
    x, theta = random_inputs(adapter3.spec, 1, seed=4)
    exact = FastNoisyEngine(adapter3).expectations(x, theta).numpy()[0]
    shots = 4000 if kind == "cirq" else 20000
    cls = AerExecutor if kind == "aer" else CirqExecutor
    sampled = cls(adapter3).run(x[0], theta, shots=shots, seed=5)
    exact_ref = cls(adapter3).run(x[0], theta).expectations.numpy()[0]
    sigma = np.sqrt((1 - exact**2) / shots)
    got = sampled.expectations.numpy()[0]
    assert np.all(np.abs(got - exact_ref) <= 5 * sigma)
    if kind == "aer":  # same noise model: the exact value is the fast engine's
        assert np.abs(exact_ref - exact).max() < 1e-9
    assert sampled.shots == shots
    assert float(sampled.probabilities.sum()) == pytest.approx(1.0)


@pytest.mark.parametrize("shots", [0, -3, 2.5, True])
def test_invalid_shots_are_rejected(adapter3, shots):
    with pytest.raises(SimulationError, match="is not valid; accepted: None"):
        AerExecutor(adapter3).run(np.ones(8), np.zeros(adapter3.spec.num_parameters),
                                  shots=shots)


# ----------------------------------------------------------------------------- the CLI
def _run_cli(argv: list[str]) -> int:
    from qaa_hw.cli import simulate_cmd

    parser = argparse.ArgumentParser(prog="qaa_hw")
    simulate_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


@pytest.mark.parametrize("engine", ["fast", "aer"])
def test_simulate_command_prints_and_writes_json(tmp_path, capsys, engine):
    out = tmp_path / "report.json"
    code = _run_cli(["simulate", "--device", "ibm_brisbane", "--qubits", "2", "--layers", "1",
                     "--engine", engine, "--inputs", "3", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "mean absolute error" in printed and "mean output-state fidelity" in printed
    report = json.loads(out.read_text())
    assert report["engine"] == engine and report["inputs"] == 3
    assert len(report["outputs"]) == 2
    assert 0.5 < report["mean_fidelity"] < 1.0
    assert report["mean_abs_error"] > 0


def test_simulate_command_reports_the_idle_noise_the_same_on_fast_and_aer(tmp_path):
    reports = {}
    for engine in ("fast", "aer"):
        out = tmp_path / f"{engine}.json"
        assert _run_cli(["simulate", "--device", "ibm_brisbane", "--qubits", "4", "--layers",
                         "2", "--inputs", "16", "--seed", "0", "--engine", engine,
                         "--json", str(out)]) == 0
        reports[engine] = json.loads(out.read_text())
    fast, aer = reports["fast"], reports["aer"]
    assert fast["idle_relaxation"] and fast["idle_effect"] > 5e-3
    for key in ("idle_effect", "idle_effect_max", "mean_abs_error",
                "mean_abs_error_without_idle"):
        assert abs(fast[key] - aer[key]) < 1e-6
    # idle relaxation adds error: the older model (off) underestimates it
    assert fast["mean_abs_error"] > fast["mean_abs_error_without_idle"]


@pytest.mark.parametrize("idle", ["on", "off"])
def test_simulate_command_mitigation_rows_share_the_unmitigated_physics(tmp_path, idle):
    out = tmp_path / "report.json"
    assert _run_cli(["simulate", "--device", "ibm_brisbane", "--qubits", "3", "--layers", "2",
                     "--inputs", "3", "--idle-noise", idle, "--mitigation", "rem",
                     "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    row = report["mitigation"][0]
    assert row["unmitigated error"] == pytest.approx(report["mean_abs_error"], abs=1e-10)
    assert (report["idle_effect"] is None) == (idle == "off")


def test_simulate_command_noiseless_has_no_error(capsys):
    assert _run_cli(["simulate", "--device", "ibm_brisbane", "--qubits", "2", "--layers", "1",
                     "--noise-scale", "0", "--inputs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "mean output-state fidelity: 1 " in printed


@pytest.mark.parametrize(
    ("argv", "error", "match"),
    [
        (["--engine", "qiskit"], ConfigError, "engine='qiskit' is not valid; accepted: fast"),
        (["--prep-noise", "some"], SimulationError, "prep_noise='some' is not valid"),
    ],
)
def test_simulate_command_rejects_bad_options(argv, error, match):
    base = ["simulate", "--device", "ibm_brisbane", "--qubits", "2", "--layers", "1"]
    with pytest.raises(error, match=match):
        _run_cli(base + argv)
    assert issubclass(error, QaaHwError)
