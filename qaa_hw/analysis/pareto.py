"""Pareto fronts of configurations (the co-design view).

A row *dominates* another when it is at least as good on every objective and strictly better
on one. :data:`CODESIGN_OBJECTIVES` trades the output error at the assumed shots (bias after
mitigation plus standard error; lower is better)
against the adapter's trainable parameters (higher is better: capacity) and the QPU time per
generated token (lower is better), per device; :func:`qaa_hw.analysis.feasibility.assess_device`
marks the recommended point on that front.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qaa_hw.errors import ConfigError

#: ``(column, "min" | "max")`` of the co-design view.
CODESIGN_OBJECTIVES: tuple[tuple[str, str], ...] = (
    ("error_with_shots", "min"),
    ("parameters", "max"),
    ("s_per_token", "min"),
)
#: Columns that identify a configuration in tables and labels.
CONFIG_COLUMNS: tuple[str, ...] = ("qubits", "layers", "rotations", "entangler", "embedding",
                                   "mitigation")


def _vector(row: Mapping[str, Any], objectives: Sequence[tuple[str, str]]) -> tuple[float, ...]:
    out = []
    for column, sense in objectives:
        if sense not in ("min", "max"):
            raise ConfigError(f"objective {column!r}: sense={sense!r}; accepted: min, max")
        value = row.get(column)
        if value is None:
            raise ConfigError(f"row has no value for objective {column!r}")
        out.append(float(value) if sense == "min" else -float(value))
    return tuple(out)


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when ``a`` is <= ``b`` everywhere and < somewhere (all objectives minimised)."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True))


def pareto_front(rows: Sequence[Mapping[str, Any]],
                 objectives: Sequence[tuple[str, str]] = CODESIGN_OBJECTIVES
                 ) -> list[Mapping[str, Any]]:
    """Rows no other row dominates, sorted by the first objective (best first).

    Rows with identical objective vectors are all kept.

    Args:
        rows: candidate rows.
        objectives: ``(column, "min" | "max")`` pairs.

    Raises:
        ConfigError: a row lacks an objective column or a sense is unknown.
    """
    vectors = [_vector(r, objectives) for r in rows]
    front = [
        (v, i) for i, v in enumerate(vectors)
        if not any(dominates(w, v) for j, w in enumerate(vectors) if j != i)
    ]
    front.sort()
    return [rows[i] for _, i in front]


def config_label(row: Mapping[str, Any]) -> str:
    """``n=4 L=2 ry ring/exact zne`` for tables and plot annotations."""
    return (f"n={row.get('qubits')} L={row.get('layers')} {row.get('rotations', 'ry')} "
            f"{row.get('entangler')}/{row.get('embedding')} {row.get('mitigation')}")
