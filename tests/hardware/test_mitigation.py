"""Mitigation through hardware engines: REM from measured calibration circuits, folding ZNE and
DDD, with circuits and shots counted as on the simulators."""

from __future__ import annotations

import numpy as np
import pytest

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import ConfigError
from qaa_hw.hardware.google import GoogleEngine, virtual_machine
from qaa_hw.hardware.mitigation import DeviceBackend, check_device_technique
from qaa_hw.mitigation.api import Mitigator
from qaa_hw.mitigation.techniques import ZNE, technique_from_names
from tests.hardware.conftest import problem

SHOTS = 4000


@pytest.fixture(scope="module")
def qvm_backend(weber3: CompiledAdapter) -> DeviceBackend:
    processor = virtual_machine("weber", coherent=False, seed=3).get_processor("weber")
    return DeviceBackend(GoogleEngine(weber3, processor), shots=SHOTS, seed=0)


def test_measured_confusion_matches_calibration(qvm_backend: DeviceBackend) -> None:
    measured = qvm_backend.confusion
    assert qvm_backend.circuits_run == 2 and qvm_backend.shots_run == 2 * SHOTS
    model = qvm_backend.executor.confusion.numpy()  # the calibration's readout numbers
    se = np.sqrt(model * (1 - model) / SHOTS)
    # readout errors plus relaxation during the QVM's measurement set-up: within 5 SE or 0.015
    assert np.all(np.abs(measured - model) <= np.maximum(5 * se, 0.015))


def test_techniques_count_circuits_and_shots(qvm_backend: DeviceBackend) -> None:
    mitigator = Mitigator(qvm_backend.engine.compiled, backend=qvm_backend, seed=0)
    x, theta = problem(mitigator.compiled.spec, 1, seed=8)
    expected = {"rem": 1, "zne": 3, "ddd": 1, "rem+zne": 3}
    for name, circuits in expected.items():
        estimate = mitigator.estimate(x[0], theta, technique_from_names(name))
        assert estimate.executor == "device" and estimate.circuits == circuits
        assert estimate.total_shots == circuits * SHOTS
        assert np.all(np.abs(estimate.unmitigated) <= 1)
    # REM moves the measured values away from the readout-damped ones, towards the ideal
    rem = mitigator.estimate(x[0], theta, technique_from_names("rem"))
    assert rem.mitigated_error < rem.unmitigated_error + 0.02


def test_pulse_stretch_and_pec_are_refused() -> None:
    with pytest.raises(ConfigError, match="pulse_stretch' cannot run on a device"):
        check_device_technique(ZNE(scaling="pulse_stretch"))
    with pytest.raises(ConfigError, match="'pec' is not offered on devices"):
        check_device_technique(technique_from_names("pec"))
