"""Live calibration -> DeviceModel -> dated snapshot file -> offline compile, on fake backends."""

from __future__ import annotations

from dataclasses import replace

import pytest
from qiskit_ibm_runtime.fake_provider import FakeTorino

from qaa_hw.compile.api import compile_adapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.devices.model import scale_noise
from qaa_hw.hardware.calibration import (
    calibration_differences,
    check_calibration,
    live_device,
    save_snapshot,
)
from qaa_hw.hardware.jobs import HardwareError
from tests.hardware.conftest import SPEC


@pytest.fixture(scope="module")
def torino_live():
    return live_device(FakeTorino())


def test_live_device_equals_catalog_snapshot(torino_live) -> None:
    catalog = load_device("ibm_torino")
    assert torino_live.name == "ibm_torino"
    assert torino_live.snapshot_date == catalog.snapshot_date
    assert torino_live.qubits == catalog.qubits
    assert {k: dict(v) for k, v in torino_live.instructions.items()} == {
        k: dict(v) for k, v in catalog.instructions.items()
    }


def test_snapshot_round_trip_and_offline_compile(torino_live, tmp_path) -> None:
    path = save_snapshot(torino_live, tmp_path)
    assert path.name == f"ibm_torino_{torino_live.snapshot_date}.yaml"
    loaded = load_device(str(path))
    assert loaded.name == path.stem
    assert loaded.family == "ibm" and loaded.snapshot_date == torino_live.snapshot_date
    assert loaded.qubits == torino_live.qubits
    assert {k: dict(v) for k, v in loaded.instructions.items()} == {
        k: dict(v) for k, v in torino_live.instructions.items()
    }
    live = compile_adapter(SPEC, torino_live, seed=0)
    offline = compile_adapter(SPEC, loaded, seed=0)
    assert offline.metrics == live.metrics
    assert offline.final_layout == live.final_layout
    assert calibration_differences(offline.device, torino_live, offline.active_qubits) == []


def test_calibration_mismatch_is_one_line_unless_forced(torino_live) -> None:
    compiled = compile_adapter(SPEC, scale_noise(torino_live, 1.5), seed=0)
    with pytest.raises(HardwareError, match=r"differs from the one compiled for .*noise scale "
                                            r"1.5.*recompile against it or pass --force") as e:
        check_calibration(compiled.device, torino_live, compiled.active_qubits,
                          backend="local:ibm_torino")
    assert "\n" not in str(e.value)
    diffs = check_calibration(compiled.device, torino_live, compiled.active_qubits,
                              backend="local:ibm_torino", force=True)
    assert diffs and any("cz" in d for d in diffs)
    # a change on a qubit the adapter does not use is not a mismatch
    idle = next(q for q in range(torino_live.num_qubits) if q not in compiled.active_qubits)
    qubits = list(torino_live.qubits)
    qubits[idle] = replace(qubits[idle], t1_s=qubits[idle].t1_s * 2)
    other = replace(torino_live, qubits=tuple(qubits))
    same = compile_adapter(SPEC, torino_live, seed=0)
    assert calibration_differences(same.device, other, same.active_qubits) == []


def test_live_google_calibration_equals_catalog() -> None:
    """The QVM's current calibration (the median one) through cirq_google's
    noise_properties_from_calibration gives the catalog's google_weber."""
    from qaa_hw.hardware.calibration import live_google_device
    from qaa_hw.hardware.google import virtual_machine

    live = live_google_device(virtual_machine("weber").get_processor("weber"))
    catalog = load_device("google_weber")
    assert live.name == "google_weber" and live.snapshot_date == catalog.snapshot_date
    assert live.qubits == catalog.qubits
    assert calibration_differences(catalog, live, range(catalog.num_qubits)) == []
