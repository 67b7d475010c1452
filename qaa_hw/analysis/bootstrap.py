"""Bootstrap intervals and paired tests for fine-tuning results (several seeds, per example).

A run's evaluation keeps per-example values (``qaa_hw.finetune.evaluate.EvalResult.per_example``):
``loss_sum``/``tokens`` for every scored example and ``rouge_l``, ``bertscore``,
``bleu_stats`` for every generated one. A metric of a resample of examples is the corpus
metric of that resample (token-weighted loss, corpus BLEU from summed sacrebleu statistics,
mean ROUGE-L / BERTScore). A method's value is the mean over its seeds.

* :func:`method_interval`: mean and 95 % percentile interval, resampling seeds and examples
  (the same example indices for every seed);
* :func:`paired_difference`: ``A - B`` on the same resampled examples and seeds, its 95 %
  interval and a two-sided bootstrap p-value; "no difference" when the interval holds 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: Metrics computed from per-example values; ``lower_is_better`` for the loss only.
METRICS: tuple[str, ...] = ("loss", "bleu", "rouge_l", "bertscore")

PerExample = Mapping[str, Sequence[Any]]


def metric_of(per: PerExample, metric: str, idx: np.ndarray | None = None) -> float:
    """The corpus ``metric`` of the examples ``idx`` (default all) of one evaluation."""
    if metric == "loss":
        s, t = np.asarray(per["loss_sum"], float), np.asarray(per["tokens"], float)
        if s.size == 0:
            return float("nan")
        if idx is not None:
            s, t = s[idx], t[idx]
        return float(s.sum() / t.sum())
    if metric == "bleu":
        from qaa_hw.finetune.metrics import bleu_from_statistics

        stats = np.asarray(per["bleu_stats"], float)
        if idx is not None:
            stats = stats[idx]
        return bleu_from_statistics([stats.sum(0).tolist()])
    values = np.asarray(per[metric], float)
    return float(values[idx].mean() if idx is not None else values.mean())


def _size(per: PerExample, metric: str) -> int:
    return len(per["loss_sum"] if metric == "loss" else per["rouge_l"])


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95 % bootstrap interval (and a p-value for differences)."""

    value: float
    low: float
    high: float
    p_value: float = float("nan")

    @property
    def holds_zero(self) -> bool:
        """The interval contains 0 (no difference at 95 %)."""
        return self.low <= 0.0 <= self.high

    def to_dict(self) -> dict[str, float]:
        """Plain data."""
        return asdict(self)


def _seed_mean(runs: Sequence[PerExample], metric: str, seeds: np.ndarray,
               idx: np.ndarray | None) -> float:
    return float(np.mean([metric_of(runs[s], metric, idx) for s in seeds]))


def method_interval(runs: Sequence[PerExample], metric: str, *, reps: int = 1000,
                    seed: int = 0) -> Interval:
    """Mean over seeds of ``metric`` and its 95 % interval (seeds and examples resampled)."""
    rng = np.random.default_rng(seed)
    n, k = _size(runs[0], metric), len(runs)
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan)
    point = _seed_mean(runs, metric, np.arange(k), None)
    draws = [_seed_mean(runs, metric, rng.integers(0, k, k), rng.integers(0, n, n))
             for _ in range(reps)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return Interval(point, float(low), float(high))


def paired_difference(a: Sequence[PerExample], b: Sequence[PerExample], metric: str, *,
                      reps: int = 1000, seed: int = 0) -> Interval:
    """``metric(A) - metric(B)`` on the same test examples (and seed indices where both have
    them), its 95 % interval and a two-sided bootstrap p-value."""
    rng = np.random.default_rng(seed)
    n = _size(a[0], metric)
    if n != _size(b[0], metric):
        raise ValueError(f"{metric}: {n} examples against {_size(b[0], metric)}")
    ka, kb = len(a), len(b)
    point = (_seed_mean(a, metric, np.arange(ka), None)
             - _seed_mean(b, metric, np.arange(kb), None))
    draws = []
    for _ in range(reps):
        idx = rng.integers(0, n, n)
        sa = rng.integers(0, ka, ka)
        sb = sa if ka == kb else rng.integers(0, kb, kb)
        draws.append(_seed_mean(a, metric, sa, idx) - _seed_mean(b, metric, sb, idx))
    arr = np.asarray(draws)
    low, high = np.percentile(arr, [2.5, 97.5])
    p = min(1.0, 2 * min(float((arr <= 0).mean()), float((arr >= 0).mean())))
    return Interval(point, float(low), float(high), p)
