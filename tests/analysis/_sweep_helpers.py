"""Point functions for the runner tests (importable by spawned workers: top-level module)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from qaa_hw.analysis.sweep_spec import SweepPoint

#: Folder for crash markers; the tests set it through the environment (inherited by workers).
MARKER_ENV = "QAA_HW_TEST_MARKERS"


def cheap_point(point: SweepPoint) -> dict[str, Any]:
    """Deterministic fake metrics, no quantum code."""
    time.sleep(0.01)
    return {"parameters": point.qubits * point.layers, "esp": 1.0 / (1 + point.qubits),
            "value": point.noise_scale * point.qubits + point.seed}


def failing_point(point: SweepPoint) -> dict[str, Any]:
    """Raises for qubits == 3, else cheap."""
    if point.qubits == 3:
        raise ValueError(f"synthetic failure for n={point.qubits}")
    return cheap_point(point)


def crash_once_point(point: SweepPoint) -> dict[str, Any]:
    """Kills its worker process (os._exit) the first time it sees qubits == 2, layers == 2."""
    if point.qubits == 2 and point.layers == 2:
        marker = Path(os.environ[MARKER_ENV]) / f"crashed_{point.key}"
        if not marker.exists():
            marker.write_text("x")
            os._exit(3)
    return cheap_point(point)


def always_crash_point(point: SweepPoint) -> dict[str, Any]:
    """Kills its worker every time for qubits == 2 and layers == 1."""
    if point.qubits == 2 and point.layers == 1:
        os._exit(4)
    return cheap_point(point)


def slow_point(point: SweepPoint) -> dict[str, Any]:
    """Cheap but slow (for interruption tests)."""
    time.sleep(0.3)
    return cheap_point(point)
