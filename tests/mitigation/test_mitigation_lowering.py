"""Lowering folded / padded Cirq circuits to timed native Qiskit circuits, and noise scaling."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
from _mitigation_fixtures import brisbane, compiled_on, problem, without_readout
from mitiq.zne.scaling import fold_gates_at_random, fold_global
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator

from qaa_hw.devices.cirq_convert import ECRGate
from qaa_hw.errors import SimulationError
from qaa_hw.mitigation import Mitigator
from qaa_hw.mitigation.backends import AerBackend
from qaa_hw.mitigation.lowering import NotBefore, lower_operation, schedule

a, b = cirq.LineQubit.range(2)


def _qiskit(instructions: list[tuple[str, tuple[int, ...], float]]) -> QuantumCircuit:
    qc = QuantumCircuit(2)
    for name, qubits, angle in instructions:
        if name == "rz":
            qc.rz(angle, *qubits)
        else:
            getattr(qc, name)(*qubits)
    return qc


@pytest.mark.parametrize(
    "op",
    [
        cirq.X(a) ** 0.5,
        cirq.X(a) ** -0.5,
        cirq.X(a),
        cirq.X(a) ** -1,
        cirq.Y(b),
        cirq.Z(b),
        cirq.rz(0.37).on(a),
        cirq.rz(-1.2).on(b),
        cirq.PhasedXPowGate(phase_exponent=0.5).on(a),
        cirq.PhasedXPowGate(phase_exponent=0.25, exponent=0.5).on(b),
        ECRGate().on(a, b),
        ECRGate().on(b, a),
        cirq.inverse(ECRGate().on(a, b)),
        cirq.CZ(a, b) ** -1,
        cirq.CNOT(b, a) ** -1,
    ],
    ids=str,
)
def test_lowered_operation_has_the_same_unitary(op: cirq.Operation) -> None:
    lowered = lower_operation(op)
    assert {name for name, _, _ in lowered} <= {"rz", "sx", "x", "ecr", "cz", "cx"}
    expected = cirq.unitary(cirq.Circuit(cirq.I(a), cirq.I(b), op))
    actual = Operator(_qiskit(lowered).reverse_bits()).data  # Cirq orders qubit 0 first
    assert cirq.allclose_up_to_global_phase(actual, expected, atol=1e-9)


def test_inverse_sx_is_one_native_sx_pulse() -> None:
    assert [n for n, _, _ in lower_operation(cirq.X(a) ** -0.5)] == ["rz", "sx", "rz"]
    assert lower_operation(cirq.X(a), has_x=False) == [("sx", (0,), 0.0), ("sx", (0,), 0.0)]
    assert lower_operation(cirq.I(a)) == []


def test_unsupported_operations_are_rejected() -> None:
    with pytest.raises(SimulationError, match=r"cannot be lowered to the device basis"):
        lower_operation(cirq.H(a))
    with pytest.raises(SimulationError, match=r"multiples of pi/2"):
        lower_operation(cirq.X(a) ** 0.3)


def test_folded_circuit_runs_natively_with_its_idle_time(brisbane3) -> None:  # type: ignore[no-untyped-def]
    backend = AerBackend(brisbane3)
    x, theta = problem(brisbane3, 1)
    circuit = backend.bound_circuit(x[0], theta)
    folded = fold_gates_at_random(circuit, 3.0, seed=1)
    plain = backend.timed(circuit, delays=True)
    timed = backend.timed(folded, delays=True)
    assert set(timed.count_ops()) <= {"rz", "sx", "x", "ecr", "delay"}
    # every pulse and ECR is run three times: nothing was cancelled
    for name in ("sx", "ecr"):
        assert timed.count_ops()[name] == 3 * plain.count_ops()[name]
    # the same circuit with the noise model's delay pass or with our relaxation channels
    runs = []
    for qc in (timed, backend.timed(folded)):
        qc.save_probabilities(qubits=list(backend.final_local), label="p")
        result = backend.executor.simulator.run(qc, shots=1).result()
        runs.append(np.asarray(result.data(0)["p"]))
    with_delays, with_channels = runs
    assert np.abs(with_delays - with_channels).max() < 1e-12


def test_not_before_tag_delays_an_operation() -> None:
    device = brisbane()
    from qaa_hw.simulate.noise import noise_spec

    circuit = cirq.Circuit(cirq.X(a) ** 0.5, (cirq.X(a) ** 0.5).with_tags(NotBefore(1e-6)))
    starts = [s.start_s for s in schedule(circuit, noise_spec(device, (0, 1)))]
    assert starts[0] == 0.0 and math.isclose(starts[1], 1e-6)


@pytest.mark.parametrize("fold", [fold_global, fold_gates_at_random])
def test_unmitigated_error_scales_with_the_folding(fold) -> None:  # type: ignore[no-untyped-def]
    """Readout does not scale with folding, so it is removed; gates and relaxation do."""
    compiled = compiled_on(without_readout(brisbane()))
    mitigator = Mitigator(compiled)
    evaluate = mitigator.evaluator()
    x, theta = problem(compiled, 3)
    errors = []
    for xi in x:
        circuit = mitigator.circuit(xi, theta)
        values = evaluate([circuit, fold(circuit, 3.0)])
        errors.append(np.abs(values - mitigator.ideal(xi, theta)).mean(axis=1))
    e1, e3 = np.mean(errors, axis=0)
    assert e1 > 1e-3
    assert 2.0 < e3 / e1 < 4.0, (e1, e3)
