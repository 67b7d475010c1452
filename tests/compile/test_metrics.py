"""Metrics of physical circuits against hand-computed values."""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit

from qaa_hw.compile.metrics import compute_metrics, esp, scheduled_duration
from qaa_hw.devices.model import DeviceModel, InstructionProperties, QubitProperties
from qaa_hw.errors import CompilationError


@pytest.fixture(scope="module")
def tiny() -> DeviceModel:
    qubits = tuple(QubitProperties(100e-6, 80e-6 + 10e-6 * q, 0.01 * (q + 1), 0.03 * (q + 1))
                   for q in range(3))
    instructions = {
        "sx": {(q,): InstructionProperties(1e-3 * (q + 1), 50e-9) for q in range(3)},
        "rz": {(q,): InstructionProperties(0.0, 0.0) for q in range(3)},
        "cx": {(0, 1): InstructionProperties(0.01, 300e-9),
               (1, 2): InstructionProperties(0.02, 400e-9)},
        "measure": {(q,): InstructionProperties(0.05, 1e-6) for q in range(3)},
    }
    return DeviceModel("tiny", "synthetic", qubits, instructions)


def test_esp_and_duration_by_hand(tiny: DeviceModel) -> None:
    qc = QuantumCircuit(3)
    qc.sx(0)
    qc.rz(0.3, 1)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.sx(2)
    expected = (1 - 1e-3) * (1 - 0.01) * (1 - 0.02) * (1 - 3e-3) * (1 - 0.05) ** 2
    assert math.isclose(esp(qc, tiny, [1, 2]), expected, abs_tol=1e-15)
    # ASAP: sx(0) 50ns -> cx(0,1) ends 350ns -> cx(1,2) ends 750 -> sx(2) 800; + readout 1us
    assert math.isclose(scheduled_duration(qc, tiny, [1, 2]), 1.8e-6, rel_tol=1e-12)
    m = compute_metrics(qc, tiny, [1, 2], swaps=1)
    assert (m.depth, m.two_qubit_depth, m.two_qubit_count, m.one_qubit_count) == (4, 2, 2, 3)
    assert m.swaps == 1
    assert math.isclose(m.duration_over_t1, 1.8e-6 / 100e-6)
    assert math.isclose(m.duration_over_t2, 1.8e-6 / 80e-6)


def test_non_native_operation_is_an_error(tiny: DeviceModel) -> None:
    qc = QuantumCircuit(3)
    qc.cx(1, 0)  # wrong direction
    with pytest.raises(CompilationError, match="not native"):
        esp(qc, tiny, [])
