"""Tests of the DeviceModel → Qiskit Target / Aer noise model / Cirq conversions.

References are independent of the code under test: the DeviceModel numbers themselves, Qiskit's
``FakeBrisbane`` target and Aer's ``NoiseModel.from_backend`` on it, Qiskit's ``Operator`` and
``Statevector``, and channel fidelities computed from simulated Choi matrices.
"""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import qiskit.quantum_info as qi
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Gate, Parameter
from qiskit.circuit.library import CXGate, CZGate, ECRGate, SXGate
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import ASAPScheduleAnalysis, PadDelay
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qaa_hw.devices.cirq_convert import ECRGate as CirqECRGate
from qaa_hw.devices.cirq_convert import (
    device_noise_properties,
    ecr_gate,
    to_cirq_circuit,
    to_cirq_noise_model,
)
from qaa_hw.devices.model import (
    DeviceModel,
    InstructionProperties,
    QubitProperties,
    restrict,
    scale_noise,
)
from qaa_hw.devices.qiskit_convert import to_aer_noise_model, to_target
from qaa_hw.errors import CompilationError

# Aer (exact depolarising solve, idle relaxation through ASAP delays) vs Cirq (linear Pauli-error
# subtraction, idle relaxation per moment) on moment-aligned 3-qubit circuits with 4 two-qubit
# layers at λ = 1: observed max |Δp| = 4.8e-5 (ecr, cz, cx; 6 seeds). The gap is second order in
# the error rates: 1.7e-4 at λ = 2, 3.5e-4 at λ = 3.
AER_CIRQ_ATOL = 1e-4

_TWO_QUBIT = {"ecr": ECRGate(), "cx": CXGate(), "cz": CZGate()}


def line_device(
    n: int = 3, two_qubit: str = "ecr", *, t1: float = 200e-6, t2: float = 150e-6
) -> DeviceModel:
    """An IBM-like line of ``n`` qubits with native ``two_qubit`` gates on (q, q+1)."""
    qubits = tuple(
        QubitProperties(
            t1_s=t1 * (1 + 0.1 * q),
            t2_s=t2 * (1 - 0.1 * q),
            prob_meas1_prep0=0.01 + 0.002 * q,
            prob_meas0_prep1=0.03 - 0.002 * q,
            frequency_hz=5e9 + 1e8 * q,
        )
        for q in range(n)
    )
    one = InstructionProperties(error=3e-4, duration_s=60e-9)
    instructions: dict[str, dict[tuple[int, ...], InstructionProperties]] = {
        "rz": {(q,): InstructionProperties(error=0.0, duration_s=0.0) for q in range(n)},
        "sx": {(q,): one for q in range(n)},
        "x": {(q,): one for q in range(n)},
        "id": {(q,): one for q in range(n)},
        two_qubit: {
            (q, q + 1): InstructionProperties(error=8e-3 + 1e-3 * q, duration_s=660e-9)
            for q in range(n - 1)
        },
        "measure": {
            (q,): InstructionProperties(error=qubits[q].readout_error, duration_s=1.3e-6)
            for q in range(n)
        },
    }
    return DeviceModel(
        name=f"line{n}_{two_qubit}", family="synthetic", qubits=qubits, instructions=instructions
    )


@pytest.fixture(scope="module")
def brisbane() -> tuple[object, DeviceModel]:
    """FakeBrisbane and a DeviceModel read straight from its Target (T2 clamped to 2 T1)."""
    from qiskit_ibm_runtime.fake_provider import FakeBrisbane

    backend = FakeBrisbane()
    target = backend.target
    qubits = tuple(
        QubitProperties(
            t1_s=p.t1,
            t2_s=min(p.t2, 2 * p.t1),
            prob_meas1_prep0=target["measure"][(q,)].error,
            prob_meas0_prep1=target["measure"][(q,)].error,
            frequency_hz=p.frequency,
        )
        for q, p in enumerate(target.qubit_properties)
    )
    instructions = {
        name: {
            qargs: InstructionProperties(error=props.error, duration_s=props.duration)
            for qargs, props in target[name].items()
        }
        for name in ("rz", "sx", "x", "id", "ecr", "measure")
    }
    return backend, DeviceModel("fake_brisbane", "ibm", qubits, instructions)


# ------------------------------------------------------------------ helpers
def aer_choi(
    noise_model: NoiseModel, gate: Gate | QuantumCircuit, qubits: list[int], ancillas: list[int]
) -> qi.Choi:
    """Choi matrix of ``gate`` (or an inlined circuit) on ``qubits`` under ``noise_model``.

    Each ancilla is Bell-paired with its system qubit through ``h``/``cx``, which the device
    noise models leave ideal; the ancillas must carry no noisy gate.
    """
    qc = QuantumCircuit(max(qubits + ancillas) + 1)
    for s, a in zip(qubits, ancillas, strict=True):
        qc.h(a)
        qc.cx(a, s)
    if isinstance(gate, QuantumCircuit):
        qc.compose(gate, qubits, inplace=True)
    else:
        qc.append(gate, qubits)
    qc.save_density_matrix(qubits=[*qubits, *ancillas])  # inputs most significant
    sim = AerSimulator(method="density_matrix", noise_model=noise_model)
    rho = np.asarray(sim.run(qc).result().data()["density_matrix"])
    return qi.Choi(rho * 2 ** len(qubits))


def cirq_choi(device: DeviceModel, op: cirq.Operation) -> qi.Choi:
    """Choi matrix (Cirq big-endian order) of ``op`` under the Cirq noise model of ``device``."""
    noisy = cirq.Circuit(op).with_noise(to_cirq_noise_model(device))
    system = sorted(op.qubits)
    ancillas = cirq.LineQubit.range(100, 100 + len(system))
    bell = cirq.Circuit([cirq.H.on_each(*ancillas), *map(cirq.CNOT, ancillas, system)])
    rho = (
        cirq.DensityMatrixSimulator(dtype=np.complex128)
        .simulate(bell + noisy, qubit_order=[*ancillas, *system])
        .final_density_matrix
    )
    return qi.Choi(rho * 2 ** len(system))


def _apply_readout(probs: np.ndarray, device: DeviceModel) -> np.ndarray:
    """Big-endian probabilities after each qubit's confusion matrix (device numbers)."""
    n = device.num_qubits
    p = probs.reshape([2] * n)
    for i, q in enumerate(device.qubits):
        confusion = np.array(
            [
                [1 - q.prob_meas1_prep0, q.prob_meas1_prep0],
                [q.prob_meas0_prep1, 1 - q.prob_meas0_prep1],
            ]
        )
        p = np.moveaxis(np.tensordot(p, confusion, axes=([i], [0])), -1, i)
    return p.reshape(-1)


def aer_probs(qc: QuantumCircuit, device: DeviceModel) -> np.ndarray:
    """Exact measured probabilities (big-endian, qubit 0 first) from Aer's density matrix."""
    body = qc.remove_final_measurements(inplace=False)
    body.save_probabilities()
    sim = AerSimulator(method="density_matrix", noise_model=to_aer_noise_model(device))
    p = np.asarray(sim.run(body).result().data()["probabilities"])
    n = qc.num_qubits
    p = p.reshape([2] * n).transpose(list(range(n))[::-1]).reshape(-1)
    return _apply_readout(p, device)


def cirq_probs(qc: QuantumCircuit, device: DeviceModel) -> np.ndarray:
    """Exact measured probabilities (qubit 0 first): noise inserted, measurements then removed."""
    noisy = to_cirq_circuit(qc).with_noise(to_cirq_noise_model(device))
    body = cirq.Circuit(cirq.Moment(op for op in m if not cirq.is_measurement(op)) for m in noisy)
    rho = (
        cirq.DensityMatrixSimulator(dtype=np.complex128)
        .simulate(body, qubit_order=cirq.LineQubit.range(qc.num_qubits))
        .final_density_matrix
    )
    return np.real(np.diag(rho))


def ideal_probs(qc: QuantumCircuit) -> np.ndarray:
    """Noiseless probabilities, qubit 0 first."""
    probs = qi.Statevector(qc.remove_final_measurements(inplace=False)).probabilities()
    n = qc.num_qubits
    return probs.reshape([2] * n).transpose(list(range(n))[::-1]).reshape(-1)


def aligned_circuit(two_qubit: str, n: int = 3, layers: int = 4, seed: int = 0) -> QuantumCircuit:
    """Layers whose operations start together: rz·sx·rz on all, then a 2q gate + sx elsewhere."""
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n)
    for layer in range(layers):
        for q in range(n):
            qc.rz(rng.uniform(0, 2 * np.pi), q)
            qc.sx(q)
            qc.rz(rng.uniform(0, 2 * np.pi), q)
        qc.barrier()
        a = layer % (n - 1)
        qc.append(_TWO_QUBIT[two_qubit], [a, a + 1])
        for q in range(n):
            if q not in (a, a + 1):
                qc.sx(q)
        qc.barrier()
    qc.measure_all()
    return qc


def random_basis_circuit(n: int, depth: int, seed: int) -> QuantumCircuit:
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n, global_phase=rng.uniform(0, 2 * np.pi))
    for _ in range(depth):
        kind = rng.choice(["rz", "sx", "x", "id", "cx", "ecr", "cz", "barrier", "delay"])
        if kind in _TWO_QUBIT:
            a, b = (int(q) for q in rng.choice(n, size=2, replace=False))
            qc.append(_TWO_QUBIT[str(kind)], [a, b])
        elif kind == "rz":
            qc.rz(rng.uniform(-4, 4), int(rng.integers(n)))
        elif kind == "barrier":
            qc.barrier()
        elif kind == "delay":
            qc.delay(100, int(rng.integers(n)), unit="ns")
        else:
            getattr(qc, str(kind))(int(rng.integers(n)))
    return qc


# ------------------------------------------------------------------ to_target
@pytest.mark.parametrize("two_qubit", ["ecr", "cx", "cz"])
def test_target_carries_device_numbers(two_qubit: str) -> None:
    device = line_device(3, two_qubit)
    target = to_target(device)
    assert target.num_qubits == 3
    for name, per_qargs in device.instructions.items():
        assert set(target[name]) == set(per_qargs)
        for qargs, props in per_qargs.items():
            assert target[name][qargs].error == props.error
            assert target[name][qargs].duration == props.duration_s
    for q, qubit in enumerate(device.qubits):
        tq = target.qubit_properties[q]
        assert (tq.t1, tq.t2, tq.frequency) == (qubit.t1_s, qubit.t2_s, qubit.frequency_hz)
    assert isinstance(target.operation_from_name("rz").params[0], Parameter)
    assert "delay" in target.operation_names


@pytest.mark.parametrize("two_qubit", ["ecr", "cx", "cz"])
def test_target_transpiles_and_schedules(two_qubit: str) -> None:
    device = line_device(3, two_qubit)
    target = to_target(device)
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 2)
    qc.cx(2, 1)
    qc.measure_all()
    pm = generate_preset_pass_manager(
        optimization_level=3, target=target, scheduling_method="alap", seed_transpiler=7
    )
    out = pm.run(qc)
    assert set(out.count_ops()) <= {*device.basis_gates, "measure", "barrier", "delay"}
    for inst in out.data:
        if inst.operation.name == two_qubit:
            qargs = tuple(out.find_bit(q).index for q in inst.qubits)
            assert qargs in device.instructions[two_qubit]  # native direction
    assert "delay" in out.count_ops()
    assert out.estimate_duration(target) > 1.3e-6  # at least one measurement
    assert set(transpile(qc, target=target, seed_transpiler=1).count_ops()) <= {
        *device.basis_gates,
        "measure",
        "barrier",
    }


def test_target_for_noiseless_device_schedules() -> None:
    target = to_target(scale_noise(line_device(), 0))
    assert math.isinf(target.qubit_properties[0].t1)
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    pm = generate_preset_pass_manager(optimization_level=3, target=target, scheduling_method="asap")
    assert pm.run(qc).num_qubits == 3


def test_target_matches_fake_brisbane(brisbane: tuple[object, DeviceModel]) -> None:
    backend, device = brisbane
    reference = backend.target  # type: ignore[attr-defined]
    chosen = [13, 12, 11, 10, 9]
    target = to_target(restrict(device, chosen))
    for name in ("rz", "sx", "x", "id", "ecr", "measure"):
        for qargs, props in target[name].items():
            ref = reference[name][tuple(chosen[q] for q in qargs)]
            assert props.error == pytest.approx(ref.error, rel=1e-12, abs=1e-15)
            assert props.duration == pytest.approx(ref.duration, rel=1e-12, abs=1e-15)
    assert len(target["ecr"]) == sum(1 for a, b in reference["ecr"] if a in chosen and b in chosen)
    for q, phys in enumerate(chosen):
        ours, ref = target.qubit_properties[q], reference.qubit_properties[phys]
        assert (ours.t1, ours.frequency) == (ref.t1, ref.frequency)
        assert ours.t2 == min(ref.t2, 2 * ref.t1)


# ------------------------------------------------------------------ Aer noise model
def test_aer_single_gate_fidelity_equals_device_error() -> None:
    device = line_device(3, "ecr")
    nm = to_aer_noise_model(restrict(device, [1]))
    choi = aer_choi(nm, SXGate(), [0], ancillas=[1])
    assert 1 - qi.average_gate_fidelity(choi, target=qi.Operator(SXGate())) == pytest.approx(
        3e-4, abs=1e-9
    )
    nm2 = to_aer_noise_model(restrict(device, [1, 2]))
    choi2 = aer_choi(nm2, ECRGate(), [0, 1], ancillas=[2, 3])
    assert 1 - qi.average_gate_fidelity(choi2, target=qi.Operator(ECRGate())) == pytest.approx(
        9e-3, abs=1e-9
    )


def test_aer_n_gates_compose_the_single_gate_channel() -> None:
    nm = to_aer_noise_model(restrict(line_device(), [0]))
    one = aer_choi(nm, SXGate(), [0], ancillas=[1])
    sx5 = QuantumCircuit(1)
    for _ in range(5):
        sx5.sx(0)
    five = aer_choi(nm, sx5, [0], ancillas=[1])
    np.testing.assert_allclose(five.data, one.power(5).data, atol=1e-12)
    # Infidelity grows about linearly (the unitary part is exact: SX^5 = SX).
    infidelity = 1 - qi.average_gate_fidelity(five, target=qi.Operator(SXGate()))
    assert infidelity == pytest.approx(5 * 3e-4, rel=0.02)


def test_aer_relaxation_beyond_error_adds_no_depolarising() -> None:
    # 60 ns at T1 = 20 µs already costs ~1e-3 > the 3e-4 calibration: Aer keeps relaxation only.
    device = line_device(1, "ecr", t1=20e-6, t2=15e-6)
    choi = aer_choi(to_aer_noise_model(device), SXGate(), [0], ancillas=[1])
    infidelity = 1 - qi.average_gate_fidelity(choi, target=qi.Operator(SXGate()))
    assert infidelity > 3e-4


def test_aer_readout_errors_are_the_device_pairs() -> None:
    device = line_device(3)
    nm = to_aer_noise_model(device)
    readout = {
        tuple(e["gate_qubits"][0]): np.asarray(e["probabilities"])
        for e in nm.to_dict()["errors"]
        if e["type"] == "roerror"
    }
    assert set(readout) == {(0,), (1,), (2,)}
    for q, props in enumerate(device.qubits):
        expected = [
            [1 - props.prob_meas1_prep0, props.prob_meas1_prep0],
            [props.prob_meas0_prep1, 1 - props.prob_meas0_prep1],
        ]
        np.testing.assert_allclose(readout[(q,)], expected, atol=0)
    # End to end through Aer's sampler: ideal y prepares |1> on qubit 0, qubit 1 stays |0>.
    qc = QuantumCircuit(2, 2)
    qc.y(0)
    qc.measure([0, 1], [0, 1])
    shots = 100_000
    counts = AerSimulator(noise_model=nm, seed_simulator=11).run(qc, shots=shots).result()
    memory = counts.get_counts()
    p0_given_1 = sum(v for k, v in memory.items() if k[-1] == "0") / shots
    p1_given_0 = sum(v for k, v in memory.items() if k[-2] == "1") / shots
    for estimate, exact in ((p0_given_1, 0.03), (p1_given_0, 0.012)):
        assert abs(estimate - exact) < 5 * math.sqrt(exact * (1 - exact) / shots)


def test_aer_noiseless_device_is_ideal() -> None:
    device = scale_noise(line_device(3, "ecr"), 0)
    nm = to_aer_noise_model(device)
    assert nm.is_ideal()
    qc = aligned_circuit("ecr", seed=3)
    np.testing.assert_allclose(aer_probs(qc, device), ideal_probs(qc), atol=1e-12)


def test_aer_model_matches_from_backend_on_fake_brisbane(
    brisbane: tuple[object, DeviceModel],
) -> None:
    backend, device = brisbane
    reference = NoiseModel.from_backend(backend)
    ours = to_aer_noise_model(restrict(device, [4, 5]))
    # Physical (4, 5) of Brisbane is (0, 1) of the restricted device.
    for gate, local, physical in ((ECRGate(), [0, 1], [4, 5]), (SXGate(), [1], [5])):
        np.testing.assert_allclose(
            aer_choi(ours, gate, local, ancillas=[2, 3][: len(local)]).data,
            aer_choi(reference, gate, physical, ancillas=[120, 121][: len(local)]).data,
            atol=1e-12,
        )


# ------------------------------------------------------------------ Cirq circuits
def test_ecr_gate_matches_qiskit() -> None:
    assert ecr_gate() == CirqECRGate()
    swap = np.eye(4)[[0, 2, 1, 3]]  # Qiskit little-endian -> Cirq big-endian
    np.testing.assert_allclose(
        cirq.unitary(ecr_gate()), swap @ ECRGate().to_matrix() @ swap, atol=1e-12
    )
    cirq.testing.assert_decompose_is_consistent_with_unitary(ecr_gate())
    np.testing.assert_allclose(
        cirq.unitary(ecr_gate() ** -1), cirq.unitary(ecr_gate()).conj().T, atol=1e-12
    )


@pytest.mark.parametrize("seed", range(8))
def test_to_cirq_circuit_unitary_equals_qiskit_operator(seed: int) -> None:
    qc = random_basis_circuit(n=3, depth=40, seed=seed)
    circuit = to_cirq_circuit(qc)
    cirq_u = circuit.unitary(qubit_order=cirq.LineQubit.range(3))
    qiskit_u = qi.Operator(qc).reverse_qargs().data
    # Exact, once Qiskit's global phase (dropped in Cirq) is restored.
    np.testing.assert_allclose(cirq_u * np.exp(1j * qc.global_phase), qiskit_u, atol=1e-10)


def test_to_cirq_circuit_measurements_barriers_and_delays() -> None:
    qc = QuantumCircuit(3, 3)
    qc.sx(0)
    qc.delay(2, 1, unit="us")
    qc.barrier()
    qc.x(2)
    qc.measure(2, 0)
    qc.measure(0, 2)
    circuit = to_cirq_circuit(qc)
    q0, _, q2 = cirq.LineQubit.range(3)
    # sx | barrier (all qubits) | x, measure q0 | measure q2 after its x; the delay is dropped.
    assert circuit == cirq.Circuit(
        cirq.Moment((cirq.X**0.5).on(q0)),
        cirq.Moment(cirq.X(q2), cirq.measure(q0, key="c2")),
        cirq.Moment(cirq.measure(q2, key="c0")),
    )
    assert not any(isinstance(op.gate, cirq.WaitGate) for op in circuit.all_operations())
    kept = to_cirq_circuit(qc, keep_delays=True)
    waits = [op.gate for op in kept.all_operations() if isinstance(op.gate, cirq.WaitGate)]
    assert waits == [cirq.WaitGate(cirq.Duration(micros=2))]
    qc_dt = QuantumCircuit(1)
    qc_dt.delay(90, 0, unit="dt")
    wait = next(iter(to_cirq_circuit(qc_dt, keep_delays=True, dt=2e-9).all_operations()))
    assert isinstance(wait.gate, cirq.WaitGate)
    assert wait.gate.duration.total_nanos() == pytest.approx(180)
    with pytest.raises(CompilationError, match="needs the sample time"):
        to_cirq_circuit(qc_dt, keep_delays=True)


def test_to_cirq_circuit_rejects_non_basis_and_unbound() -> None:
    qc = QuantumCircuit(2)
    qc.h(1)
    with pytest.raises(CompilationError, match=r"instruction 'h' on qubits \[1\]"):
        to_cirq_circuit(qc)
    qp = QuantumCircuit(1)
    qp.rz(Parameter("a"), 0)
    with pytest.raises(CompilationError, match="unbound parameters: a"):
        to_cirq_circuit(qp)


# ------------------------------------------------------------------ Cirq noise model
def test_cirq_noise_properties_follow_the_device() -> None:
    device = line_device(3, "cz")
    props = device_noise_properties(device)
    q = cirq.LineQubit.range(3)
    assert props.gate_times_ns[cirq.CZPowGate] == pytest.approx(660)
    assert props.gate_times_ns[cirq.XPowGate] == pytest.approx(60)
    assert props.gate_times_ns[cirq.ZPowGate] == 0
    for i, qubit in enumerate(device.qubits):
        assert props.t1_ns[q[i]] == pytest.approx(qubit.t1_s * 1e9)
        rate = 1 / qubit.t2_s - 1 / (2 * qubit.t1_s)
        assert props.tphi_ns[q[i]] == pytest.approx(1e9 / rate)
        assert props.readout_errors[q[i]] == [qubit.prob_meas1_prep0, qubit.prob_meas0_prep1]
    errors = props.gate_pauli_errors
    assert errors[cirq.OpIdentifier(cirq.XPowGate, q[0])] == pytest.approx(3e-4 * 3 / 2)
    # CZ is symmetric: both directions carry the native pair's error, p = r * 5/4.
    assert errors[cirq.OpIdentifier(cirq.CZPowGate, q[1], q[2])] == pytest.approx(9e-3 * 5 / 4)
    assert errors[cirq.OpIdentifier(cirq.CZPowGate, q[2], q[1])] == pytest.approx(9e-3 * 5 / 4)
    assert not any(op_id.gate_type is cirq.ZPowGate for op_id in errors)


def test_cirq_gate_fidelity_matches_device_error_to_second_order() -> None:
    device = line_device(2, "ecr")
    q0, q1 = cirq.LineQubit.range(2)
    sx = cirq_choi(restrict(device, [0]), (cirq.X**0.5).on(q0))
    assert 1 - qi.average_gate_fidelity(
        sx, target=qi.Operator(cirq.unitary(cirq.X**0.5))
    ) == pytest.approx(3e-4, abs=1e-6)
    ecr = cirq_choi(device, ecr_gate().on(q0, q1))
    infidelity = 1 - qi.average_gate_fidelity(ecr, target=qi.Operator(cirq.unitary(ecr_gate())))
    # Cirq subtracts decoherence linearly: second-order gap ~ p_depol * p_relax (2.8e-5 here).
    assert infidelity == pytest.approx(8e-3, abs=5e-5)


def test_cirq_readout_is_exact() -> None:
    device = line_device(2)
    q0, q1 = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.Y(q0), cirq.measure(q0, q1, key="m"))  # Y: ideal, no duration
    noisy = circuit.with_noise(to_cirq_noise_model(device))
    body = cirq.Circuit(cirq.Moment(o for o in m if not cirq.is_measurement(o)) for m in noisy)
    probs = np.real(
        np.diag(
            cirq.DensityMatrixSimulator(dtype=np.complex128)
            .simulate(body, qubit_order=[q0, q1])
            .final_density_matrix
        )
    )
    p01, p10 = device.qubits[0].prob_meas0_prep1, device.qubits[1].prob_meas1_prep0
    np.testing.assert_allclose(
        probs, [p01 * (1 - p10), p01 * p10, (1 - p01) * (1 - p10), (1 - p01) * p10], atol=1e-12
    )


@pytest.mark.parametrize("two_qubit", ["ecr", "cz", "cx"])
@pytest.mark.parametrize("seed", [0, 1])
def test_cirq_agrees_with_aer_on_aligned_circuits(two_qubit: str, seed: int) -> None:
    device = line_device(3, two_qubit)
    qc = aligned_circuit(two_qubit, seed=seed)
    target = to_target(device)
    scheduled = PassManager([ASAPScheduleAnalysis(target=target), PadDelay(target=target)]).run(qc)
    p_aer = aer_probs(scheduled, device)  # idle relaxation through the padding delays
    p_cirq = cirq_probs(scheduled, device)  # delays dropped: idle relaxation per moment
    np.testing.assert_allclose(p_cirq, p_aer, atol=AER_CIRQ_ATOL)
    np.testing.assert_allclose(p_cirq, cirq_probs(qc, device), atol=1e-12)
    # Documented first-order gap: unscheduled, Aer has no idle noise and Cirq does.
    assert np.abs(aer_probs(qc, device) - p_cirq).max() > 5 * AER_CIRQ_ATOL


def test_aer_cirq_gap_is_second_order() -> None:
    gaps = []
    for lam in (1.0, 2.0):
        device = scale_noise(line_device(3, "ecr"), lam)
        qc = aligned_circuit("ecr", seed=0)
        target = to_target(device)
        scheduled = PassManager([ASAPScheduleAnalysis(target=target), PadDelay(target=target)]).run(
            qc
        )
        gaps.append(np.abs(cirq_probs(qc, device) - aer_probs(scheduled, device)).max())
    assert 2.5 < gaps[1] / gaps[0] < 5.0  # ~λ², not ~λ


def test_aer_model_cache_tells_calibrations_apart() -> None:
    device = line_device(1)
    tweaked = DeviceModel(
        name=device.name,
        family=device.family,
        qubits=device.qubits,
        instructions={
            **device.instructions,
            "sx": {(0,): InstructionProperties(error=1e-3, duration_s=60e-9)},
        },
    )
    assert hash(tweaked) == hash(device)  # instructions are not hashed
    assert to_aer_noise_model(line_device(1)) is to_aer_noise_model(device)
    for dev, error in ((device, 3e-4), (tweaked, 1e-3)):
        choi = aer_choi(to_aer_noise_model(dev), SXGate(), [0], ancillas=[1])
        infidelity = 1 - qi.average_gate_fidelity(choi, target=qi.Operator(SXGate()))
        assert infidelity == pytest.approx(error, abs=1e-9)


@pytest.mark.parametrize("two_qubit", ["ecr", "cz"])
def test_noiseless_device_is_ideal_in_aer_and_cirq(two_qubit: str) -> None:
    device = scale_noise(line_device(3, two_qubit), 0)
    qc = aligned_circuit(two_qubit, seed=5)
    circuit = to_cirq_circuit(qc)
    noisy = circuit.with_noise(to_cirq_noise_model(device))
    assert len(list(noisy.all_operations())) == len(list(circuit.all_operations()))
    ideal = ideal_probs(qc)
    np.testing.assert_allclose(cirq_probs(qc, device), ideal, atol=1e-7)
    np.testing.assert_allclose(aer_probs(qc, device), ideal, atol=1e-7)


@pytest.mark.parametrize("two_qubit", ["ecr", "cz"])
def test_cirq_gate_noise_without_decoherence_matches_aer(two_qubit: str) -> None:
    """Infinite T1/T2 with non-zero gate errors: both models are pure depolarising + readout."""
    base = line_device(3, two_qubit)
    device = DeviceModel(
        name="no-decay",
        family="synthetic",
        qubits=tuple(
            QubitProperties(
                t1_s=math.inf,
                t2_s=math.inf,
                prob_meas1_prep0=q.prob_meas1_prep0,
                prob_meas0_prep1=q.prob_meas0_prep1,
            )
            for q in base.qubits
        ),
        instructions=base.instructions,
    )
    qc = aligned_circuit(two_qubit)
    np.testing.assert_allclose(cirq_probs(qc, device), aer_probs(qc, device), atol=1e-9)
    assert np.abs(aer_probs(qc, device) - ideal_probs(qc)).max() > 1e-3
