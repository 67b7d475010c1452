"""Single-qubit rewrites before translation: exact as operators, cheaper in pulses."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import Operator

from qaa_hw.circuits.builder import bind, build_qaa_circuit
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.peephole import rz_frames
from qaa_hw.compile.pipeline import translate
from qaa_hw.devices.catalog import load_device
from qaa_hw.devices.model import restrict
from qaa_hw.devices.qiskit_convert import to_target


@pytest.mark.parametrize(("n", "layers", "rotations"), [(2, 1, "ry"), (3, 2, "ry_rz"),
                                                        (4, 2, "ry")])
def test_rz_frames_is_exact_on_the_logical_circuit(n: int, layers: int, rotations: str) -> None:
    spec = QAASpec(num_qubits=n, num_layers=layers, rotations=rotations)  # type: ignore[arg-type]
    qaa = build_qaa_circuit(spec)
    framed = rz_frames(qaa.circuit)
    ops = framed.count_ops()
    assert ops.get("rx", 0) >= 2 and ops["rz"] > qaa.circuit.count_ops().get("rz", 0)
    alpha_ry = [inst for inst in framed.data if inst.operation.name == "ry"
                and not inst.operation.params[0].parameters.isdisjoint(set(qaa.alpha))]
    assert len(alpha_ry) == 1  # only the root's lone rotation; multiplexors became rz
    rng = np.random.default_rng(n)
    for _ in range(2):
        alpha = rng.uniform(-np.pi, np.pi, len(qaa.alpha))
        theta = rng.uniform(-np.pi, np.pi, spec.num_parameters)
        assert Operator(bind(framed, alpha, theta)).equiv(Operator(bind(qaa.circuit, alpha,
                                                                        theta)))


def test_rz_frames_run_boundaries() -> None:
    a = ParameterVector("alpha", 4)
    qc = QuantumCircuit(3)
    qc.ry(a[0], 0)
    qc.cx(1, 0)  # target 0: stays inside the frame of wire 0
    qc.ry(a[1], 0)
    qc.x(0)  # commutes with RX: inside too
    qc.ry(a[2], 0)
    qc.cx(0, 2)  # control 0: ends the run
    qc.ry(a[3], 0)  # a lone rotation: left alone
    framed = rz_frames(qc)
    names = [inst.operation.name for inst in framed.data]
    assert names.count("ry") == 1 and names.count("rx") == 2
    values = np.array([0.3, -1.2, 2.1, 0.8])
    bound = {p: v for p, v in zip(a, values, strict=True)}
    assert Operator(framed.assign_parameters(bound)).equiv(Operator(qc.assign_parameters(bound)))


def test_rz_frames_saves_pulses_on_a_cx_device() -> None:
    device = load_device("synthetic:line:4")
    target = to_target(restrict(device, (0, 1, 2, 3)))
    spec = QAASpec(num_qubits=4, num_layers=1)
    circuit = build_qaa_circuit(spec, pairs=[(0, 1), (1, 2), (2, 3)]).circuit
    # the logical tree uses non-adjacent pairs: route it first with a linear layout
    from qaa_hw.compile.pipeline import region_coupling, route

    routed = route(circuit, region_coupling(device, (0, 1, 2, 3)), seed=0).circuit
    plain = translate(routed, target).count_ops().get("sx", 0)
    framed = translate(rz_frames(routed), target).count_ops().get("sx", 0)
    assert framed < plain
