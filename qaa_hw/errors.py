"""Exception hierarchy: every user-facing failure is a ``QaaHwError``.

The CLI turns these into a one-line message and a non-zero exit code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class QaaHwError(Exception):
    """Base class of every error qaa_hw raises on purpose."""


class DeviceError(QaaHwError):
    """Unknown device, malformed device file, or inconsistent device data."""


class CompilationError(QaaHwError):
    """The adapter circuit cannot be mapped onto the requested device."""


class SimulationError(QaaHwError):
    """Invalid simulation request (shapes, engines, shots)."""


class ConfigError(QaaHwError):
    """Invalid user configuration: options, specs, sweep files."""


def did_you_mean(value: str, choices: Iterable[str], *, n: int = 3) -> str:
    """Return ``"; did you mean 'a', 'b'?"`` for the closest choices, or ``""``."""
    close = difflib.get_close_matches(value, list(choices), n=n, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + ", ".join(f"'{c}'" for c in close) + "?"
