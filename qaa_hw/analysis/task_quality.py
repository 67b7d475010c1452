"""Task quality against noise: the fine-tuning study's results store, read for the report.

The store is the JSON-lines file ``benchmarks/finetune.py --study`` writes
(``benchmarks/results/finetune_study.jsonl``): one object per finished row. The report uses
the rows that evaluate a trained adapter on a device:

* ``kind``: ``"shots"`` (or any row with a ``device``);
* ``name``: the trained model (e.g. ``"qaa"``, ``"qaa-nat"``); ``seed``;
* ``device``; ``noise_scale`` (default 1.0); ``mitigation`` (``"none"``, ``"rem"``,
  ``"rem+zne"``, ...); ``shots``: an integer or ``"exact"`` / ``null``;
* ``metrics``: ``loss`` (required), ``rouge_l`` and ``bertscore`` (optional).

Other rows (training rows, surrogate measurements) are skipped. :func:`shots_from_study`
reads the quality-vs-shots result: the fewest shots whose test loss is within a tolerance of
the exact-value loss.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qaa_hw.errors import ConfigError

#: Relative test-loss increase over exact values that still counts as "enough shots".
LOSS_TOLERANCE = 0.01

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QualityRow:
    """One evaluation of a fine-tuned adapter under a device's noise.

    Attributes:
        model: the trained model's name in the study.
        device: device name.
        noise_scale: noise scale λ.
        mitigation: mitigation name.
        shots: shots per circuit and token, ``None`` for exact values.
        seed: training seed.
        loss: test loss.
        rouge_l: ROUGE-L, or None when not measured.
        bertscore: BERTScore F1, or None when not measured.
    """

    model: str
    device: str
    noise_scale: float
    mitigation: str
    shots: int | None
    seed: int
    loss: float
    rouge_l: float | None = None
    bertscore: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def _shots(value: Any, where: str) -> int | None:
    if value is None or value == "exact":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: shots={value!r} is not valid; accepted: an integer >= 1, "
                          "'exact' or null")
    return value


def _metric(metrics: dict[str, Any], key: str, where: str) -> float | None:
    value = metrics.get(key)
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: metrics.{key}={value!r} is not a number") from None
    return out if math.isfinite(out) else None


def load_quality_store(path: str | Path) -> list[QualityRow]:
    """Read a fine-tuning results store (see the module docstring); the rows evaluated on a
    device, empty (with a warning) while the study has none.

    Raises:
        ConfigError: the file is missing, a line is not JSON, or a device row lacks a field.
    """
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"fine-tuning store {str(p)!r}: {e.strerror}") from e
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{p.name} line {i}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{where}: not JSON ({e.msg})") from None
        if not isinstance(data, dict) or not data.get("device"):
            continue
        metrics = data.get("metrics")
        if not isinstance(metrics, dict) or _metric(metrics, "loss", where) is None:
            raise ConfigError(f"{where}: a device row needs metrics.loss")
        out.append(QualityRow(
            model=str(data.get("name", "qaa")), device=str(data["device"]),
            noise_scale=float(data.get("noise_scale", 1.0)),
            mitigation=str(data.get("mitigation", "none")),
            shots=_shots(data.get("shots"), where), seed=int(data.get("seed", 0)),
            loss=float(metrics["loss"]), rouge_l=_metric(metrics, "rouge_l", where),
            bertscore=_metric(metrics, "bertscore", where)))
    if not out:  # a study still running: the report says so and shows no section
        logger.warning("fine-tuning store %r has no row evaluated on a device yet: the report "
                       "has no task-quality section", str(p))
    return out


def quality_table(rows: Sequence[QualityRow]) -> list[dict[str, Any]]:
    """Means over seeds per (model, device, noise scale, mitigation, shots), sorted; exact
    values (``shots: None``) last within each group."""
    groups: dict[tuple, list[QualityRow]] = {}
    for r in rows:
        groups.setdefault((r.model, r.device, r.noise_scale, r.mitigation, r.shots), []).append(r)

    def mean(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.mean(known) if known else None

    out = []
    for (model, device, scale, mitigation, shots), rs in groups.items():
        out.append({"model": model, "device": device, "noise_scale": scale,
                    "mitigation": mitigation, "shots": shots, "seeds": len(rs),
                    "loss": mean([r.loss for r in rs]), "rouge_l": mean([r.rouge_l for r in rs]),
                    "bertscore": mean([r.bertscore for r in rs])})
    out.sort(key=lambda r: (r["model"], r["device"], r["noise_scale"], r["mitigation"],
                            math.inf if r["shots"] is None else r["shots"]))
    return out


def shots_from_study(rows: Sequence[QualityRow], *, mitigation: str = "none",
                     tolerance: float = LOSS_TOLERANCE) -> int | None:
    """The fewest shots at which every (model, device) of ``mitigation`` has a mean test loss
    within ``tolerance`` (relative) of its exact-value loss; ``None`` when the store has no
    such comparison (no exact rows, or no shots reach it)."""
    table = [r for r in quality_table(rows) if r["mitigation"] == mitigation]
    needed: list[int] = []
    for key in {(r["model"], r["device"], r["noise_scale"]) for r in table}:
        group = [r for r in table if (r["model"], r["device"], r["noise_scale"]) == key]
        exact = [r["loss"] for r in group if r["shots"] is None]
        if not exact:
            continue
        ok = sorted(r["shots"] for r in group if r["shots"] is not None
                    and r["loss"] <= exact[0] * (1 + tolerance))
        if not ok:
            return None
        needed.append(ok[0])
    return max(needed) if needed else None
