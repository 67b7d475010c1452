"""Live calibrations: a :class:`~qaa_hw.devices.model.DeviceModel` from a running backend,
dated snapshot files, and the check that a backend still has the calibration compiled for.

* :func:`live_device` converts ``backend.target`` + ``backend.properties()`` with the catalog's
  own converter (:func:`qaa_hw.devices.ibm.device_from_backend`), for a real backend
  (``QiskitRuntimeService().backend(name)``) or a fake one (the path the tests take);
  :func:`live_google_device` does the same for a Google processor
  (``get_current_calibration()``; on the QVM it gives the catalog's device).
* :func:`save_snapshot` writes it as ``<name>_<YYYY-MM-DD>.yaml`` next to the catalog's files
  (``devices/``), where the catalog lists it by that stem, so a compile can be re-run against
  it offline: ``qaa_hw compile --device ibm_torino_2026-12-06``.
* :func:`calibration_differences` compares the compiled device with the backend's current one
  on the adapter's active qubits; :func:`check_calibration` turns differences into an error
  unless forced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qaa_hw.devices.model import DeviceModel
from qaa_hw.hardware.jobs import HardwareError

#: Relative difference below which two calibration numbers are equal.
RTOL = 1e-6
#: Processors whose device specifications carry unusable gate durations (weber lists a 4 ms
#: measurement); Cirq's default gate times are used for them, as cirq_google's
#: ``virtual_engine_factory.load_device_noise_properties`` does.
DEFAULT_TIMES_PROCESSORS = ("rainbow", "weber")


def live_device(backend: Any, *, name: str | None = None) -> DeviceModel:
    """The device model of a backend's current calibration (family ``ibm``).

    Args:
        backend: a ``BackendV2`` (runtime ``IBMBackend`` or a fake backend).
        name: catalog name (default: ``ibm_<x>`` from ``backend.name``).
    """
    from qaa_hw.devices.ibm import IBM_PREFIX, device_from_backend

    label = name or IBM_PREFIX + str(backend.name).removeprefix("fake_").removeprefix(IBM_PREFIX)
    return device_from_backend(backend, name=label, source=f"live calibration of {backend.name}")


def live_google_device(processor: Any, *, name: str | None = None) -> DeviceModel:
    """The device model of a Google processor's current calibration (family ``google``):
    ``processor.get_current_calibration()`` through ``cirq_google``'s
    ``noise_properties_from_calibration`` (gate times from the processor's device
    specification, Cirq's defaults where it has none, as the virtual-engine factory does),
    converted like the catalog's median calibrations
    (:func:`qaa_hw.devices.google.google_device_from_properties`).

    Raises:
        HardwareError: the processor reports no calibration.
    """
    import warnings

    from qaa_hw.devices.google import GOOGLE_PREFIX, google_device_from_properties

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from cirq_google.engine import calibration_to_noise_properties as convert
        from cirq_google.engine.virtual_engine_factory import extract_gate_times_ns_from_device

    pid = str(processor.processor_id)
    try:
        calibration = processor.get_current_calibration()
    except Exception as e:  # the service's errors
        raise HardwareError(f"cannot read the calibration of Google processor {pid!r}: {e}") from e
    if calibration is None:
        raise HardwareError(f"Google processor {pid!r} reports no current calibration")
    device = processor.get_device()
    times = convert.DEFAULT_GATE_NS
    if pid not in DEFAULT_TIMES_PROCESSORS:
        try:
            times = extract_gate_times_ns_from_device(device) or convert.DEFAULT_GATE_NS
        except Exception:  # a specification without gate durations
            times = convert.DEFAULT_GATE_NS
    noise = convert.noise_properties_from_calibration(calibration=calibration,
                                                      gate_times_ns=times)
    return google_device_from_properties(
        name or GOOGLE_PREFIX + pid, noise, device, int(calibration.timestamp),
        origin=f"live calibration of Google processor {pid!r}",
    )


def snapshot_path(device: DeviceModel, folder: str | Path | None = None) -> Path:
    """``<folder>/<name>_<snapshot date>.yaml`` (default folder: the catalog's ``devices/``)."""
    from qaa_hw.devices.catalog import CATALOG_DIR

    date = device.snapshot_date or "undated"
    return Path(folder or CATALOG_DIR) / f"{device.name}_{date}.yaml"


def save_snapshot(device: DeviceModel, folder: str | Path | None = None) -> Path:
    """Write ``device`` as a dated catalog file (see the module docstring); returns its path.

    The device is renamed to the file's stem, so loading the file by catalog name or path gives
    back a device of that name with every number unchanged.
    """
    from dataclasses import replace

    from qaa_hw.devices.yaml_io import dump_yaml_device
    from qaa_hw.errors import ConfigError

    path = snapshot_path(device, folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        dump_yaml_device(replace(device, name=path.stem), path)
    except OSError as e:
        raise ConfigError(f"cannot write snapshot {str(path)!r}: {e.strerror}") from e
    return path


def _differs(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a != b
    return abs(a - b) > RTOL * max(abs(a), abs(b), 1e-12)


def calibration_differences(compiled_for: DeviceModel, current: DeviceModel,
                            qubits: Sequence[int]) -> list[str]:
    """What differs on ``qubits`` between the device compiled for and the current one
    (qubit count, T1/T2/readout, every instruction's error and duration); empty if nothing."""
    if compiled_for.num_qubits != current.num_qubits:
        return [f"{current.num_qubits} qubits, compiled for {compiled_for.num_qubits}"]
    out: list[str] = []
    active = set(qubits)
    for q in sorted(active):
        a, b = compiled_for.qubits[q], current.qubits[q]
        for field in ("t1_s", "t2_s", "prob_meas1_prep0", "prob_meas0_prep1"):
            if _differs(getattr(a, field), getattr(b, field)):
                out.append(f"qubit {q} {field} {getattr(b, field):.4g} "
                           f"(compiled: {getattr(a, field):.4g})")
    for gate in sorted(set(compiled_for.instructions) | set(current.instructions)):
        old = compiled_for.instructions.get(gate, {})
        new = current.instructions.get(gate, {})
        for qargs in sorted(qa for qa in set(old) | set(new) if set(qa) <= active):
            if qargs not in old or qargs not in new:
                out.append(f"{gate}{list(qargs)} {'added' if qargs in new else 'removed'}")
            elif _differs(old[qargs].error, new[qargs].error) or _differs(
                old[qargs].duration_s, new[qargs].duration_s
            ):
                out.append(f"{gate}{list(qargs)} error {new[qargs].error:.4g} "
                           f"(compiled: {old[qargs].error:.4g})")
    return out


def check_calibration(compiled_for: DeviceModel, current: DeviceModel, qubits: Sequence[int],
                      *, backend: str, force: bool = False) -> list[str]:
    """The differences (:func:`calibration_differences`); an error when there are any and not
    ``force``.

    Raises:
        HardwareError: ``backend 'X' calibration (date) differs from the one compiled for
            (date): ...; recompile against it or pass --force``.
    """
    diffs = calibration_differences(compiled_for, current, qubits)
    if diffs and not force:
        more = f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else ""
        raise HardwareError(
            f"backend {backend!r} calibration ({current.snapshot_date or 'undated'}) differs from "
            f"the one compiled for ({compiled_for.name}, {compiled_for.snapshot_date or 'undated'}"
            f", noise scale {compiled_for.noise_scale:g}): {'; '.join(diffs[:3])}{more}; "
            "recompile against it or pass --force"
        )
    return diffs
