"""Small helpers shared by CLI commands: range-checked option types (bounds from
:mod:`qaa_hw.limits`), tables, JSON output."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from qaa_hw.errors import ConfigError
from qaa_hw.files import check_output_file, write_text_atomic
from qaa_hw.limits import MAX_COUNT, check_float, check_int, check_seed

T = TypeVar("T")


def _typed(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Turn the package's ``ConfigError`` into argparse's error (one line, exit 2)."""

    def wrapped(text: str) -> T:
        try:
            return parse(text)
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return wrapped


def _parse_int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not an integer") from None


def _parse_float(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a number") from None


def integer(name: str, low: int = 1, high: int | None = MAX_COUNT) -> Callable[[str], int]:
    """argparse type: an integer in ``low..high`` (:func:`qaa_hw.limits.check_int`)."""
    return _typed(lambda text: check_int(name, _parse_int(name, text), low, high))


def number(name: str, low: float = 0.0, high: float | None = None, *,
           low_open: bool = False) -> Callable[[str], float]:
    """argparse type: a finite float in the range (:func:`qaa_hw.limits.check_float`)."""
    return _typed(lambda text: check_float(name, _parse_float(name, text), low, high,
                                           low_open=low_open))


def seed(name: str = "--seed") -> Callable[[str], int]:
    """argparse type: a seed, ``0..2^32-1``."""
    return _typed(lambda text: check_seed(name, _parse_int(name, text)))


def csv_list(name: str, item: Callable[[str], T] = str) -> Callable[[str], list[T]]:  # type: ignore[assignment]
    """argparse type: a non-empty comma-separated list, each item parsed by ``item``
    (another type of this module, or ``str``)."""

    def parse(text: str) -> list[T]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is empty")
        return [item(t) for t in items]

    return parse


def check_outputs(args: argparse.Namespace) -> None:
    """Check every output file option present in ``args`` (``--json``, ``--qasm``,
    ``--plot``) before the work starts."""
    from qaa_hw.analysis.plots import check_plot_path

    for option in ("json", "qasm"):
        if getattr(args, option, None):
            check_output_file(getattr(args, option), what=f"--{option} file")
    if getattr(args, "plot", None):
        check_plot_path(args.plot)


def format_value(value: Any) -> str:
    """Compact human formatting for table cells."""
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Render dict rows as an aligned plain-text table."""
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())
    cells = [[format_value(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def write_json(path: str | Path, payload: Any) -> Path:
    """Write ``payload`` as indented JSON, atomically, creating parent folders."""
    text = json.dumps(payload, indent=2, default=_json_default) + "\n"
    return write_text_atomic(path, text, what="JSON file")


def _json_default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
