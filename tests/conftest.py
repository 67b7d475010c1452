"""Tiny shared fixtures (no SDK imports, no file I/O)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from qaa_hw.devices.model import DeviceModel, InstructionProperties, Qargs, QubitProperties


@pytest.fixture
def line3_device() -> DeviceModel:
    """A hand-written 3-qubit line 0-1-2 with cx both ways and distinct numbers per qubit."""
    qubits = tuple(
        QubitProperties(
            t1_s=100e-6 * (q + 1),
            t2_s=80e-6 * (q + 1),
            prob_meas1_prep0=0.01 * (q + 1),
            prob_meas0_prep1=0.02 * (q + 1),
            frequency_hz=5e9 + 1e8 * q,
        )
        for q in range(3)
    )
    one_q: dict[Qargs, InstructionProperties] = {
        (q,): InstructionProperties(1e-4 * (q + 1), 35e-9) for q in range(3)
    }
    cx: dict[Qargs, InstructionProperties] = {
        (a, b): InstructionProperties(0.01 + 0.001 * (a + b), 300e-9)
        for a, b in ((0, 1), (1, 0), (1, 2), (2, 1))
    }
    measure: dict[Qargs, InstructionProperties] = {
        (q,): InstructionProperties(qubits[q].readout_error, 1e-6) for q in range(3)
    }
    return DeviceModel(
        name="line3",
        family="test",
        qubits=qubits,
        instructions={
            "rz": {(q,): InstructionProperties(0.0, 0.0) for q in range(3)},
            "sx": one_q,
            "x": dict(one_q),
            "measure": measure,
            "cx": cx,
        },
        source="conftest",
        qubit_labels=("a", "b", "c"),
        coordinates=((0.0, 0.0), (1.0, 0.0), (2.0, 0.0)),
    )


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One torch thread for the test, restored afterwards.

    The tiny models' small matmuls only wait for a second core on a shared 2-core host;
    the adapter and fine-tuning suites use this for every test (their conftest files).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
