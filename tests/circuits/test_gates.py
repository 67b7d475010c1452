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
    ROTATION_SETS,
    applied_layers,
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
    ids = [g.kernel_id for g in GATES.values()]
    assert len(set(ids)) == len(ids) and all(isinstance(i, int) and i >= 0 for i in ids)


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
