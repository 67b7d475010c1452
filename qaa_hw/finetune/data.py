"""Instruction / data-to-text data: JSONL loading, tokenisation, deterministic batches.

A data file has one JSON object per line with a ``prompt`` and a ``response`` string (other
fields are kept in ``Example.meta``; blank lines are skipped). The model is trained on
``prompt + response + EOS`` with the loss on the response tokens only, and evaluated by
generating from the prompt.

Shipped tasks: ``e2e_mini`` (template-generated smoke task) and ``wordnet_defs`` (WordNet
3.0 definition generation); see ``data/README.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from qaa_hw.errors import ConfigError

#: Label value ignored by the loss (prompt and padding positions).
IGNORE_INDEX = -100
TASKS: tuple[str, ...] = ("e2e_mini", "wordnet_defs")


@dataclass(frozen=True)
class Example:
    """One (prompt, response) pair.

    Attributes:
        prompt: the model's input.
        response: the reference output (the training target).
        meta: other fields of the source line (e.g. ``id``).
    """

    prompt: str
    response: str
    meta: dict[str, Any] = field(default_factory=dict)


def load_jsonl(
    path: str | Path,
    *,
    prompt_field: str = "prompt",
    response_field: str = "response",
    limit: int | None = None,
) -> list[Example]:
    """Read (prompt, response) examples from a JSONL file.

    Args:
        path: the file.
        prompt_field: key of the prompt.
        response_field: key of the response.
        limit: keep the first ``limit`` examples.

    Raises:
        ConfigError: missing/unreadable file, invalid JSON, a line that is not an object, a
            missing, non-string or empty field (the message names file, line and field), or
            a file without examples.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"data file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read data file {str(p)!r}: {e}") from e
    examples: list[Example] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{p}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{where}: invalid JSON ({e.msg} at column {e.colno})") from e
        if not isinstance(row, dict):
            raise ConfigError(f"{where}: expected a JSON object, got {type(row).__name__}")
        values = []
        for name in (prompt_field, response_field):
            if name not in row:
                keys = ", ".join(sorted(row)) or "none"
                raise ConfigError(f"{where}: missing field {name!r} (fields there: {keys})")
            value = row[name]
            if not isinstance(value, str):
                raise ConfigError(
                    f"{where}: field {name!r} must be a string, got {type(value).__name__}"
                )
            if not value.strip():
                raise ConfigError(f"{where}: field {name!r} is empty")
            values.append(value)
        meta = {k: v for k, v in row.items() if k not in (prompt_field, response_field)}
        examples.append(Example(values[0], values[1], meta))
        if limit is not None and len(examples) >= limit:
            break
    if not examples:
        raise ConfigError(f"data file {str(p)!r} has no examples")
    return examples


def repo_data_dir() -> Path:
    """The repository's ``data/`` folder (next to the package)."""
    return Path(__file__).resolve().parents[2] / "data"


def task_files(task: str) -> tuple[Path, Path]:
    """``(train, test)`` JSONL paths of a shipped task.

    Raises:
        ConfigError: unknown task or files missing.
    """
    if task not in TASKS:
        from qaa_hw.errors import did_you_mean

        raise ConfigError(
            f"task={task!r} is not valid{did_you_mean(task, TASKS)}; accepted: "
            f"{', '.join(TASKS)} (or pass --train/--test files)"
        )
    folder = repo_data_dir() / task
    train, test = folder / "train.jsonl", folder / "test.jsonl"
    for f in (train, test):
        if not f.is_file():
            raise ConfigError(f"shipped task file {str(f)!r} is missing")
    return train, test


@dataclass(frozen=True)
class Encoded:
    """One tokenised example: ``input_ids`` = prompt + response + EOS.

    Attributes:
        input_ids: token ids.
        prompt_length: how many leading ids are the prompt (no loss there).
    """

    input_ids: tuple[int, ...]
    prompt_length: int


def encode_prompt(tokenizer: Any, prompt: str) -> list[int]:
    """Prompt token ids (no special tokens added)."""
    return list(tokenizer(prompt, add_special_tokens=False)["input_ids"])


def encode_examples(tokenizer: Any, examples: Sequence[Example], *, max_length: int
                    ) -> list[Encoded]:
    """Tokenise examples; sequences longer than ``max_length`` lose the response's end.

    Raises:
        ConfigError: ``max_length`` leaves no response token for some example.
    """
    eos = tokenizer.eos_token_id
    out = []
    for i, ex in enumerate(examples):
        prompt = encode_prompt(tokenizer, ex.prompt)
        response = list(tokenizer(ex.response, add_special_tokens=False)["input_ids"])
        ids = (prompt + response + ([eos] if eos is not None else []))[:max_length]
        if len(ids) <= len(prompt):
            raise ConfigError(
                f"max_length={max_length} leaves no response token for example {i} "
                f"(its prompt has {len(prompt)} tokens); raise --max-length"
            )
        out.append(Encoded(tuple(ids), len(prompt)))
    return out


def collate(batch: Sequence[Encoded], pad_id: int) -> dict[str, Tensor]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (prompt/pad = -100)."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        mask[row, :n] = 1
        labels[row, e.prompt_length:n] = ids[row, e.prompt_length:n]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def batch_indices(num_examples: int, batch_size: int, step: int, *, seed: int) -> list[int]:
    """Example indices of training step ``step`` (0-based): a function of its arguments only.

    Each epoch is a fresh seeded permutation; batches never straddle epochs (the last
    partial batch of an epoch is dropped unless the data is smaller than one batch), so a
    resumed run draws exactly the batches an uninterrupted one would.
    """
    if num_examples < 1:
        raise ConfigError("no training examples")
    size = min(batch_size, num_examples)
    per_epoch = max(1, num_examples // size)
    epoch, pos = divmod(step, per_epoch)
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + epoch)
    perm = torch.randperm(num_examples, generator=gen)
    return [int(i) for i in perm[pos * size:(pos + 1) * size]]


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Training steps in one pass over the data (see :func:`batch_indices`)."""
    return max(1, num_examples // max(1, min(batch_size, num_examples)))


def token_count(encoded: Sequence[Encoded]) -> tuple[int, int]:
    """``(total tokens, response tokens)``."""
    total = sum(len(e.input_ids) for e in encoded)
    return total, total - sum(e.prompt_length for e in encoded)


def perplexity(mean_loss: float) -> float:
    """``exp(loss)`` (inf on overflow)."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf
