"""Bootstrap intervals and paired tests against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from qaa_hw.analysis.bootstrap import method_interval, metric_of, paired_difference
from qaa_hw.finetune.metrics import bleu, bleu_statistics


def _run(values: np.ndarray) -> dict:
    n = len(values)
    return {"loss_sum": list(values * 2), "tokens": [2] * n, "rouge_l": list(values),
            "bertscore": list(values), "bleu_stats": bleu_statistics(["a b c d"] * n,
                                                                     ["a b c d"] * n)}


def test_interval_covers_the_mean_and_shrinks_with_examples() -> None:
    rng = np.random.default_rng(0)
    small = [_run(rng.normal(1.0, 1.0, 50)) for _ in range(3)]
    large = [_run(rng.normal(1.0, 1.0, 2000)) for _ in range(3)]
    s, big = method_interval(small, "rouge_l"), method_interval(large, "rouge_l")
    assert s.low < 1.0 < s.high and big.low < 1.0 < big.high
    assert big.high - big.low < (s.high - s.low) / 3
    assert metric_of(small[0], "loss") == pytest.approx(np.mean(small[0]["rouge_l"]))
    assert metric_of(small[0], "bleu") == pytest.approx(bleu(["a b c d"] * 50, ["a b c d"] * 50))


def test_paired_difference_sees_a_shift_hidden_in_unpaired_noise() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(0.0, 1.0, 400)  # large per-example spread, shared by both methods
    a = [_run(base + 0.05 + rng.normal(0, 0.01, 400))]
    b = [_run(base)]
    d = paired_difference(a, b, "rouge_l")
    assert d.low > 0.03 and d.high < 0.07 and d.p_value < 0.01 and not d.holds_zero
    ia, ib = method_interval(a, "rouge_l"), method_interval(b, "rouge_l")
    assert ia.low < ib.high  # unpaired intervals overlap: only the paired test resolves it
    same = paired_difference(b, b, "rouge_l")
    assert same.value == 0.0 and same.holds_zero
