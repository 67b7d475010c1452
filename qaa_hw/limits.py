"""Bounds on the numbers a user passes, checked before anything is allocated.

Every integer and float that reaches qaa_hw from the command line, a YAML file or a public
Python entry point is checked against the bounds declared here, with a message naming the
value and what is accepted (``seed=-1 is not valid; accepted: an integer 0..4294967295``).
The CLI's argparse types (:mod:`qaa_hw.cli._common`), the sweep spec, the device loaders
and the API entry points all read these constants; ``docs/reliability.md`` lists them.
"""

from __future__ import annotations

import math
from typing import Any

from qaa_hw.errors import ConfigError, QaaHwError

#: Seeds: what NumPy's legacy RandomState and Qiskit's transpiler accept.
SEED_MAX = 2**32 - 1
#: Qubits of a device (synthetic or from a file), and of an all-to-all device (whose
#: coupling table grows as n^2).
MAX_DEVICE_QUBITS = 1024
MAX_ALL_TO_ALL_QUBITS = 128
#: Largest device file read (bytes): a full description of MAX_DEVICE_QUBITS qubits with
#: every instruction per qubit tuple stays far below it.
MAX_DEVICE_FILE_BYTES = 32 * 2**20
#: Default cap on the points of one sweep (override: ``run_sweep(max_points=...)``,
#: ``qaa_hw sweep --max-points``).
MAX_SWEEP_POINTS = 100_000
#: Shots per circuit (counts stay far from int64 overflow).
MAX_SHOTS = 10**9
#: Random inputs times amplitudes per input held at once by a noisy evaluation
#: (2^27 float64 amplitudes: 1 GiB).
MAX_INPUT_AMPLITUDES = 2**27
#: ZNE: the largest noise scale factor (a circuit folded this many times over), the
#: highest extrapolation order, and PEC's circuits sampled per input.
MAX_SCALE_FACTOR = 101.0
MAX_ZNE_ORDER = 16
MAX_PEC_SAMPLES = 10**6
#: Worker processes (each holds its own copy of the SDKs, about 500 MB).
MAX_WORKERS = 256
#: Generic cap on counts (steps, examples, tokens, samples, ...).
MAX_COUNT = 10**7


def check_int(name: str, value: Any, low: int, high: int | None = None, *,
              error: type[QaaHwError] = ConfigError) -> int:
    """``value`` as an ``int`` in ``low..high``; else ``error`` naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
        high is not None and value > high
    ):
        span = f"{low}..{high}" if high is not None else f">= {low}"
        raise error(f"{name}={value!r} is not valid; accepted: an integer {span}")
    return int(value)


def check_float(name: str, value: Any, low: float, high: float | None = None, *,
                low_open: bool = False, error: type[QaaHwError] = ConfigError) -> float:
    """``value`` as a finite ``float`` with ``low <= value <= high`` (``low < value`` when
    ``low_open``); else ``error`` naming ``name`` and the range."""
    ok = (not isinstance(value, bool) and isinstance(value, int | float)
          and math.isfinite(value) and (value > low if low_open else value >= low)
          and (high is None or value <= high))
    if not ok:
        lower = f"> {low:g}" if low_open else f">= {low:g}"
        span = f"{lower} and <= {high:g}" if high is not None else lower
        raise error(f"{name}={value!r} is not valid; accepted: a finite number {span}")
    return float(value)


def check_seed(name: str, value: Any, *, error: type[QaaHwError] = ConfigError) -> int:
    """A seed: an integer ``0..SEED_MAX``."""
    return check_int(name, value, 0, SEED_MAX, error=error)


def check_sweep_size(name: str, size: int, max_points: int | None) -> None:
    """Refuse a sweep of more than ``max_points`` points (``None``: no cap), before its
    points are built."""
    if max_points is not None and size > max_points:
        raise ConfigError(
            f"sweep {name!r} has {size:,} points, more than the limit of {max_points:,}; "
            f"run fewer points, or raise the limit (qaa_hw sweep --max-points {size})"
        )


def check_input_amplitudes(name: str, inputs: int, qubits: int) -> None:
    """Refuse ``inputs`` random inputs of ``2^qubits`` amplitudes beyond
    :data:`MAX_INPUT_AMPLITUDES`."""
    limit = MAX_INPUT_AMPLITUDES >> qubits
    if inputs > limit:
        raise ConfigError(
            f"{name}={inputs} is not valid for n={qubits} qubits; accepted: at most {limit} "
            f"inputs (2^{qubits} amplitudes each, {MAX_INPUT_AMPLITUDES:,} in all)"
        )
