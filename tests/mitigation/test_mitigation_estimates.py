"""Estimates: Mitiq as the reference for ZNE, REM on readout-only noise, DDD, PEC, Cirq."""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import cirq
import numpy as np
import pytest
from _mitigation_fixtures import assert_close, brisbane, compiled_on, problem, readout_only
from mitiq.ddd import rules
from mitiq.zne import execute_with_zne
from mitiq.zne.inference import LinearFactory, RichardsonFactory
from mitiq.zne.scaling import fold_gates_at_random, fold_global

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.devices.model import DeviceModel, InstructionProperties, scale_noise
from qaa_hw.mitigation import DDD, PEC, REM, ZNE, Combined, Mitigator, mitigate
from qaa_hw.mitigation.backends import AerBackend
from qaa_hw.mitigation.estimators import ddd_circuits
from qaa_hw.mitigation.lowering import NotBefore, schedule


@pytest.mark.parametrize(
    ("technique", "factory", "fold"),
    [
        (ZNE(), RichardsonFactory([1.0, 3.0, 5.0]), partial(fold_gates_at_random, seed=3)),
        (ZNE(factory="linear", scale_factors=(1, 2, 3), scaling="fold_global"),
         LinearFactory([1.0, 2.0, 3.0]), fold_global),
    ],
    ids=["richardson-random", "linear-global"],
)
def test_zne_equals_mitiq_execute_with_zne(brisbane3, technique, factory, fold) -> None:  # type: ignore[no-untyped-def]
    mitigator = Mitigator(brisbane3, seed=3)
    x, theta = problem(brisbane3, 1)
    est = mitigator.estimate(x[0], theta, technique)
    assert est.circuits == 3 and est.total_shots is None
    circuit = mitigator.circuit(x[0], theta)
    reference = [
        execute_with_zne(circuit, mitigator.executor(i), factory=factory, scale_noise=fold)
        for i in range(3)
    ]
    assert_close(est.mitigated, reference, 1e-12)
    assert est.mitigated_error < 0.5 * est.unmitigated_error


def test_zne_with_shots_equals_mitiq_on_the_same_seed(brisbane3) -> None:  # type: ignore[no-untyped-def]
    x, theta = problem(brisbane3, 1)
    est = Mitigator(brisbane3, shots=2000, seed=7).estimate(x[0], theta, ZNE())
    assert est.circuits == 3 and est.total_shots == 6000
    fresh = Mitigator(brisbane3, shots=2000, seed=7)
    reference = execute_with_zne(
        fresh.circuit(x[0], theta), fresh.executor(0),
        factory=RichardsonFactory([1.0, 3.0, 5.0]),
        scale_noise=partial(fold_gates_at_random, seed=7),
    )
    assert abs(est.mitigated[0] - reference) < 1e-12
    # shots are drawn, not exact: another seed gives another value
    other = Mitigator(brisbane3, shots=2000, seed=8).estimate(x[0], theta, ZNE())
    assert abs(other.mitigated[0] - est.mitigated[0]) > 1e-6


def test_rem_recovers_the_ideal_distribution_of_readout_only_noise(line3_device) -> None:  # type: ignore[no-untyped-def]
    device = readout_only(line3_device)
    compiled = compile_adapter(QAASpec(num_qubits=2, num_layers=1, readout="probs"), device, seed=0)
    x, theta = problem(compiled, 2)
    shots = 40_000
    mitigator = Mitigator(compiled, shots=shots, seed=11)
    for xi in x:
        est = mitigator.estimate(xi, theta, REM())
        sigma = np.sqrt(np.maximum(est.ideal * (1 - est.ideal), 1e-4) / shots)
        # the inverse confusion matrix amplifies shot noise by about 1 / (1 - p01 - p10)
        assert np.all(np.abs(est.mitigated - est.ideal) < 5 * 1.3 * sigma + 1e-9)
        assert np.max(np.abs(est.unmitigated - est.ideal) / sigma) > 8
        assert est.circuits == 1 and est.total_shots == shots
    exact = mitigate(compiled, x[0], theta, technique=REM())
    assert_close(exact.mitigated, exact.ideal, 1e-10)
    uniform = mitigate(compiled, x[0], theta, technique=REM(method="uniform"))
    assert uniform.mitigated_error < uniform.unmitigated_error


def test_rem_with_zne_beats_either_alone(brisbane3) -> None:  # type: ignore[no-untyped-def]
    mitigator = Mitigator(brisbane3)
    x, theta = problem(brisbane3, 2)
    for xi in x:
        zne = mitigator.estimate(xi, theta, ZNE())
        rem = mitigator.estimate(xi, theta, REM())
        both = mitigator.estimate(xi, theta, Combined(REM(), ZNE()))
        assert both.circuits == 3
        assert both.mitigated_error < min(zne.mitigated_error, rem.mitigated_error)


@pytest.mark.parametrize("executor", ["aer", "cirq"])
@pytest.mark.parametrize("rule", ["xx", "xyxy"])
def test_ddd_pads_only_idle_time_with_identities(line3_device, executor, rule) -> None:  # type: ignore[no-untyped-def]
    # on a noiseless device the padded circuit computes exactly the same outputs
    noiseless = compiled_on(scale_noise(brisbane(), 0.0), qubits=4, layers=2)
    x, theta = problem(noiseless, 2)
    for xi in x:
        exact = Mitigator(noiseless, executor=executor).estimate(xi, theta, DDD(rule=rule))
        assert_close(exact.mitigated, exact.ideal, 1e-6)
    compiled = compiled_on(line3_device, qubits=3)
    x, theta = problem(compiled, 1)
    mitigator = Mitigator(compiled, executor=executor)
    circuit = mitigator.circuit(x[0], theta)
    grid = mitigator.backend.idle_grid(circuit)
    padded = ddd_circuits(circuit, mitigator.backend.idle_grid, rule=getattr(rules, rule))[0]
    added = len(list(padded.all_operations())) - len(list(circuit.all_operations()))
    assert grid.busy.any() and not grid.busy.all()
    # XYXY needs a window of 4 layers; this small circuit's moments have none
    assert added > 0 or (rule, executor) == ("xyxy", "cirq")
    if executor == "aer":
        noise = mitigator.backend.noise
        before, after = schedule(circuit, noise), schedule(padded, noise)
        assert max(s.end_s for s in after) == pytest.approx(max(s.end_s for s in before))
        ops = list(padded.all_operations())
        for s in after:  # every pulse starts at its tick
            tags = [t for t in ops[s.source].tags if isinstance(t, NotBefore)]
            if tags:
                assert s.start_s == pytest.approx(tags[0].time_s)
    est = mitigator.estimate(x[0], theta, DDD(rule=rule))
    assert est.circuits == 1
    assert abs(est.mitigated_error - est.unmitigated_error) < 0.05


def _depolarizing_only(device: DeviceModel, two_qubit_error: float) -> DeviceModel:
    """``device`` with infinite T1/T2, perfect readout and scaled gate errors."""
    qubits = tuple(
        dataclasses.replace(q, t1_s=math.inf, t2_s=math.inf, prob_meas1_prep0=0.0,
                            prob_meas0_prep1=0.0)
        for q in device.qubits
    )
    instructions = {
        name: {
            qa: InstructionProperties(two_qubit_error if len(qa) == 2 else 10 * p.error,
                                      p.duration_s)
            for qa, p in per.items()
        }
        for name, per in device.instructions.items()
    }
    return dataclasses.replace(device, qubits=qubits, instructions=instructions)


def test_pec_cancels_depolarizing_noise(line3_device) -> None:  # type: ignore[no-untyped-def]
    compiled = compiled_on(_depolarizing_only(line3_device, 0.04), qubits=2)
    x, theta = problem(compiled, 2)
    mitigator = Mitigator(compiled, seed=5)
    estimates = [mitigator.estimate(xi, theta, PEC(num_samples=400)) for xi in x]
    for est in estimates:
        assert est.circuits == 400
        assert est.details["norm"] > 1.0
        stderr = np.asarray(est.details["standard_error"])
        assert np.all(np.abs(est.mitigated - est.ideal) < 4 * stderr + 1e-9)
    mitigated = np.mean([e.mitigated_error for e in estimates])
    unmitigated = np.mean([e.unmitigated_error for e in estimates])
    assert mitigated < 0.5 * unmitigated


def test_cirq_backend_runs_zne_and_agrees_with_aer(line3_device) -> None:  # type: ignore[no-untyped-def]
    compiled = compiled_on(line3_device, qubits=2)
    x, theta = problem(compiled, 1)
    cirq_est = mitigate(compiled, x[0], theta, technique=Combined(REM(), ZNE()), executor="cirq")
    aer_est = mitigate(compiled, x[0], theta, technique=Combined(REM(), ZNE()), executor="aer")
    assert cirq_est.executor == "cirq" and cirq_est.circuits == 3
    # the two noise models differ slightly (see qaa_hw.devices.cirq_convert)
    assert_close(cirq_est.unmitigated, aer_est.unmitigated, 5e-3)
    assert cirq_est.mitigated_error < 0.5 * cirq_est.unmitigated_error
    # Mitiq executor on the Cirq backend: plain float results
    on_cirq = Mitigator(compiled, executor="cirq")
    value = on_cirq.executor(1)(cirq.Circuit())  # |00>: only readout error
    assert value == pytest.approx(1.0 - 2 * on_cirq.backend.confusion[1, 0, 1], abs=1e-9)


def test_aer_backend_counts_every_circuit(brisbane3) -> None:  # type: ignore[no-untyped-def]
    backend = AerBackend(brisbane3, shots=100, seed=1)
    x, theta = problem(brisbane3, 1)
    circuit = backend.bound_circuit(x[0], theta)
    first, second = backend.run([circuit, circuit])
    assert backend.circuits_run == 2 and backend.shots_run == 200
    assert not np.array_equal(first, second)  # two runs, two independent draws
    assert first.sum() == pytest.approx(1.0)
