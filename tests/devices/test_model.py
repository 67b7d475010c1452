"""DeviceModel invariants, scale_noise and restrict (on a hand-written device)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from qaa_hw.devices.model import (
    DeviceModel,
    InstructionProperties,
    Qargs,
    QubitProperties,
    restrict,
    scale_noise,
)
from qaa_hw.errors import DeviceError


def test_scale_zero_is_noiseless(line3_device: DeviceModel) -> None:
    quiet = scale_noise(line3_device, 0)
    assert quiet.noise_scale == 0
    assert all(math.isinf(q.t1_s) and math.isinf(q.t2_s) for q in quiet.qubits)
    assert all(q.readout_error == 0 for q in quiet.qubits)
    assert all(p.error == 0 for per in quiet.instructions.values() for p in per.values())


def test_scale_two_doubles_errors_and_halves_coherence(line3_device: DeviceModel) -> None:
    loud = scale_noise(line3_device, 2.0)
    for before, after in zip(line3_device.qubits, loud.qubits, strict=True):
        assert after.t1_s == pytest.approx(before.t1_s / 2)
        assert after.t2_s == pytest.approx(before.t2_s / 2)
        assert after.prob_meas0_prep1 == pytest.approx(2 * before.prob_meas0_prep1)
    for name, per in line3_device.instructions.items():
        for qargs, props in per.items():
            assert loud.instructions[name][qargs].error == pytest.approx(2 * props.error)
            assert loud.instructions[name][qargs].duration_s == props.duration_s
    assert scale_noise(loud, 1.5).noise_scale == pytest.approx(3.0)


def test_scale_clips_and_validates(line3_device: DeviceModel) -> None:
    assert scale_noise(line3_device, 1.0) is line3_device
    assert max(p.error for p in scale_noise(line3_device, 1e6).instructions["cx"].values()) == 1
    with pytest.raises(DeviceError, match="noise scale -1"):
        scale_noise(line3_device, -1)


def test_restrict_renumbers_in_given_order(line3_device: DeviceModel) -> None:
    sub = restrict(line3_device, [2, 1])
    assert sub.num_qubits == 2
    assert sub.name == "line3[2,1]"
    assert sub.qubits == (line3_device.qubits[2], line3_device.qubits[1])
    assert sub.directed_edges() == [(0, 1), (1, 0)]
    assert sub.instructions["cx"][(0, 1)] == line3_device.instructions["cx"][(2, 1)]
    assert sub.instructions["sx"][(0,)] == line3_device.instructions["sx"][(2,)]
    assert sub.qubit_labels == ("c", "b")
    assert sub.coordinates == ((2.0, 0.0), (1.0, 0.0))


def test_restrict_drops_edges_leaving_the_subset(line3_device: DeviceModel) -> None:
    sub = restrict(line3_device, (0, 2))
    assert sub.directed_edges() == []
    assert sub.coupling_graph().number_of_edges() == 0


@pytest.mark.parametrize(
    ("qubits", "message"),
    [([0, 0], "duplicates"), ([0, 3], "physical qubit 3 is not on device 'line3'")],
)
def test_restrict_rejects_bad_subsets(
    line3_device: DeviceModel, qubits: list[int], message: str
) -> None:
    with pytest.raises(DeviceError, match=message):
        restrict(line3_device, qubits)


def test_layout_fields_are_checked_and_exported(line3_device: DeviceModel) -> None:
    data = line3_device.to_dict()
    assert data["qubit_labels"] == ["a", "b", "c"]
    assert data["coordinates"] == [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]
    assert "qubit_labels" not in replace(line3_device, qubit_labels=None).to_dict()
    with pytest.raises(DeviceError, match="2 qubit_labels for 3 qubits"):
        replace(line3_device, qubit_labels=("a", "b"))
    with pytest.raises(DeviceError, match="1 coordinates for 3 qubits"):
        replace(line3_device, coordinates=((0.0, 0.0),))


def test_model_rejects_two_entanglers_and_unknown_gates(line3_device: DeviceModel) -> None:
    cz: dict[Qargs, InstructionProperties] = {(0, 1): InstructionProperties(0.01, 1e-7)}
    with pytest.raises(DeviceError, match="several two-qubit gates"):
        replace(line3_device, instructions={**line3_device.instructions, "cz": cz})
    with pytest.raises(DeviceError, match="unknown instruction 'rzz'"):
        replace(line3_device, instructions={"rzz": cz})
    with pytest.raises(DeviceError, match="exceeds 2\\*t1_s"):
        QubitProperties(t1_s=1e-6, t2_s=3e-6, prob_meas1_prep0=0, prob_meas0_prep1=0)
