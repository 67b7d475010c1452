"""The gate table: matrices, derivative rules and flags against Qiskit; the spec vocabulary;
compilation of every rotation set against the logical circuit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit.quantum_info import Operator, Statevector

from qaa_hw.circuits.builder import build_qaa_circuit
from qaa_hw.circuits.gates import (
    GATES,
    NATIVE_GATES,
    ROTATION_SETS,
    applied_layers,
    native_gate,
    rotation_gates,
    runs_complex,
)
from qaa_hw.circuits.spec import ROTATIONS, QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.errors import ConfigError
from qaa_hw.simulate.statevector import simulate_qaa
from tests.compile.helpers import restrict_circuit

ROTATION_GATES = [name for name, gate in GATES.items() if gate.generator is not None]
ANGLES = np.array([-2.7, -0.4, 0.0, 0.9, 3.5])


@pytest.mark.parametrize("name", ROTATION_GATES)
def test_rotation_matrix_and_flags_match_qiskit(name: str) -> None:
    gate = GATES[name]
    assert gate.num_qubits == 1
    batch = gate.matrix(ANGLES)
    assert batch.shape == (len(ANGLES), 2, 2)
    for t, m in zip(ANGLES, batch, strict=True):
        ref = Operator(gate.qiskit(float(t))).data
        np.testing.assert_allclose(m, ref, atol=1e-14)
        assert gate.qiskit(float(t)).name == name
    assert gate.real == bool(np.allclose(batch.imag, 0.0))
    assert gate.diagonal == bool(np.allclose(batch[:, 0, 1], 0) and np.allclose(batch[:, 1, 0], 0))
    torch_batch = gate.torch_matrix(torch.tensor(ANGLES, dtype=torch.float64))
    assert torch_batch.is_complex() != gate.real
    np.testing.assert_allclose(torch_batch.numpy(), batch, atol=1e-14)


@pytest.mark.parametrize("name", ROTATION_GATES)
def test_derivative_rule_is_the_generator(name: str) -> None:
    """d/dt exp(-i t G / 2) = -i/2 G U = K U / 2, against central differences."""
    gate = GATES[name]
    assert gate.generator is not None
    pauli = Operator.from_label(gate.generator).data
    np.testing.assert_allclose(gate.step, -1j * pauli, atol=0)
    h = 1e-6
    for t in ANGLES:
        numeric = (gate.matrix(t + h) - gate.matrix(t - h)) / (2 * h)
        np.testing.assert_allclose(numeric, 0.5 * gate.step @ gate.matrix(t), atol=1e-9)
    assert not gate.step.flags.writeable


def test_fixed_gate_and_kernel_ids() -> None:
    cx = GATES["cx"]
    assert cx.num_qubits == 2 and cx.generator is None and cx.real
    np.testing.assert_allclose(cx.matrix(), Operator(cx.qiskit()).data, atol=0)
    with pytest.raises(ConfigError, match="'cx' has no angle"):
        _ = cx.step
    ids = [g.kernel_id for g in GATES.values() if g.kernel_id is not None]
    assert len(set(ids)) == len(ids) and all(i >= 0 for i in ids)
    ansatz = {g for name in ROTATION_SETS for g in ROTATION_SETS[name]} | {"cx"}
    assert all(GATES[name].kernel_id is not None for name in ansatz)


@pytest.mark.parametrize("name", NATIVE_GATES[1] + NATIVE_GATES[2])
def test_native_gates_match_qiskit_and_cirq(name: str) -> None:
    import cirq

    gate = GATES[name]
    params = (0.37,) if gate.generator else ()
    qiskit_matrix = Operator(gate.qiskit(*params)).data
    np.testing.assert_allclose(gate.matrix(*params), qiskit_matrix, atol=1e-12)
    # Cirq orders qubit 0 first: reverse the bit order of a two-qubit matrix.
    order = [0, 2, 1, 3] if gate.num_qubits == 2 else [0, 1]
    cirq_matrix = cirq.unitary(gate.cirq(*params))[np.ix_(order, order)]
    phase = np.vdot(cirq_matrix.ravel(), qiskit_matrix.ravel())
    np.testing.assert_allclose(cirq_matrix * phase / abs(phase), qiskit_matrix, atol=1e-12)


@pytest.mark.parametrize("name", [n for n in NATIVE_GATES[1] + NATIVE_GATES[2] if n != "rz"])
def test_native_inverse_pulses_invert_the_gate(name: str) -> None:
    gate = GATES[name]
    product = np.eye(1 << gate.num_qubits, dtype=complex)
    for pulse, angle in gate.inverse:
        pulse_gate = GATES[pulse]
        matrix = pulse_gate.matrix(angle) if pulse_gate.generator else pulse_gate.matrix()
        if pulse_gate.num_qubits < gate.num_qubits:  # an rz on the gate's first qubit
            matrix = np.kron(np.eye(2), matrix)
        product = matrix @ product
    total = product @ Operator(gate.qiskit()).data
    phase = total[0, 0] / abs(total[0, 0])
    np.testing.assert_allclose(total / phase, np.eye(len(total)), atol=1e-12)
    assert all(GATES[pulse].native for pulse, _ in gate.inverse)


def test_rz_is_virtual_and_non_native_names_are_refused() -> None:
    assert GATES["rz"].virtual and not GATES["rz"].inverse
    assert not any(GATES[n].virtual for n in NATIVE_GATES[1] + NATIVE_GATES[2] if n != "rz")
    with pytest.raises(ConfigError, match=r"gate 'ry' is not a native instruction; accepted: rz,"):
        native_gate("ry")


def test_spec_vocabulary_comes_from_the_table() -> None:
    assert ROTATIONS == tuple(ROTATION_SETS) == ("ry", "ry_rz", "rx_rz")
    for name, gates in ROTATION_SETS.items():
        spec = QAASpec(num_qubits=3, num_layers=2, rotations=name)
        assert spec.rotations_per_qubit == len(gates)
        assert spec.parameter_shape == (2, 3, len(gates))
        assert tuple(g.name for g in rotation_gates(name)) == gates
    accepted = r"rotations='rz_ry' is not valid; accepted: ry, ry_rz, rx_rz$"
    with pytest.raises(ConfigError, match=accepted):
        QAASpec(rotations="rz_ry")
    with pytest.raises(ConfigError, match="rotations='x' is not valid"):
        rotation_gates("x")


@pytest.mark.parametrize(
    ("rotations", "layers", "applied", "complex_path"),
    [
        ("ry", 1, (1,), False),
        ("ry", 3, (3,), False),
        ("ry_rz", 1, (1, 0), False),  # the only RZ changes no readout: the real path
        ("ry_rz", 3, (3, 2), True),
        ("rx_rz", 1, (1, 0), True),  # RX alone makes a real state complex
        ("rx_rz", 2, (2, 1), True),
    ],
)
def test_applied_layers_and_complex_path(
    rotations: str, layers: int, applied: tuple[int, ...], complex_path: bool
) -> None:
    assert applied_layers(rotations, layers) == applied
    assert runs_complex(rotations, layers) is complex_path


def _logical_outputs(spec: QAASpec, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Readout of the bound logical circuit (embedding + ansatz), with Qiskit only."""
    probs = Statevector(build_qaa_circuit(spec).bind(x, theta)).probabilities()
    return _readout(spec, probs)


def _readout(spec: QAASpec, probs: np.ndarray) -> np.ndarray:
    if spec.readout == "probs":
        return probs
    bits = (np.arange(spec.dim)[:, None] >> np.arange(spec.num_qubits)) & 1
    return probs @ (1 - 2 * bits)


@pytest.mark.parametrize(
    ("device", "rotations", "readout"),
    [
        ("synthetic:heavy_hex:27?gate=ecr", "rx_rz", "z"),
        ("synthetic:grid:3x3?gate=cz", "rx_rz", "probs"),
        ("synthetic:heavy_hex:27", "ry_rz", "probs"),
    ],
)
def test_compiled_adapter_gives_the_logical_outputs(
    device: str, rotations: str, readout: str
) -> None:
    """Device-basis circuit from |0...0>, logical qubit q read on final_layout[q]."""
    spec = QAASpec(num_qubits=3, num_layers=2, rotations=rotations, readout=readout)  # type: ignore[arg-type]
    compiled = compile_adapter(spec, load_device(device), seed=1)
    # Trainable angles reach the device only through rz (the noisy engines rely on it).
    for inst in compiled.circuit.data:
        if inst.operation.is_parameterized():
            assert inst.operation.name == "rz"
    active = list(compiled.active_qubits)
    logical_wires = [active.index(q) for q in compiled.final_layout]
    rng = np.random.default_rng(4)
    for _ in range(3):
        x = rng.normal(size=spec.dim)
        theta = rng.uniform(-np.pi, np.pi, spec.num_parameters)
        physical = Statevector(restrict_circuit(compiled.bind(x, theta), active))
        out = _readout(spec, physical.probabilities(logical_wires))
        np.testing.assert_allclose(out, _logical_outputs(spec, x, theta), atol=1e-8)
        engine = simulate_qaa(
            spec,
            torch.tensor(x[None], dtype=torch.float64),
            torch.tensor(theta.reshape(spec.parameter_shape)),
        )
        np.testing.assert_allclose(out, engine[0].numpy(), atol=1e-8)
