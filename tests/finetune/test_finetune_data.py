"""JSONL loading errors, the shipped task, tokenisation and deterministic batches."""

from __future__ import annotations

from pathlib import Path

import pytest

from qaa_hw.errors import ConfigError
from qaa_hw.finetune.data import (
    IGNORE_INDEX,
    batch_indices,
    collate,
    encode_examples,
    load_jsonl,
    steps_per_epoch,
    task_files,
)
from qaa_hw.finetune.models import char_tokenizer


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"prompt": "a", "response": "b"}\n{"prompt": "a"\n', r"d\.jsonl:2: invalid JSON"),
        ('["a", "b"]\n', r"d\.jsonl:1: expected a JSON object, got list"),
        ('{"prompt": "a", "answer": "b"}\n', r":1: missing field 'response' \(fields there: "
                                            r"answer, prompt\)"),
        ('\n{"prompt": 3, "response": "b"}\n', r":2: field 'prompt' must be a string, got int"),
        ('{"prompt": "a", "response": "  "}\n', r":1: field 'response' is empty"),
        ("\n\n", "has no examples"),
    ],
)
def test_loader_errors_name_file_line_and_field(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_jsonl(_write(tmp_path, text))


def test_missing_file_and_custom_fields(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_jsonl(tmp_path / "none.jsonl")
    path = _write(tmp_path, '{"q": "x", "a": "y", "id": 7}\n')
    [ex] = load_jsonl(path, prompt_field="q", response_field="a")
    assert (ex.prompt, ex.response, ex.meta) == ("x", "y", {"id": 7})


def test_shipped_task() -> None:
    train_path, test_path = task_files("e2e_mini")
    train, test = load_jsonl(train_path), load_jsonl(test_path)
    assert (len(train), len(test)) == (600, 80)
    assert not {e.prompt for e in train} & {e.prompt for e in test}
    assert all(e.prompt.endswith("Description:") for e in test)
    with pytest.raises(ConfigError, match="did you mean 'e2e_mini'"):
        task_files("e2e_mni")


def test_encoding_masks_the_prompt() -> None:
    tok = char_tokenizer()
    train = load_jsonl(task_files("e2e_mini")[0], limit=3)
    enc = encode_examples(tok, train, max_length=1000)
    batch = collate(enc, tok.pad_token_id)
    first = enc[0]
    assert tok.decode(list(first.input_ids[:first.prompt_length])) == train[0].prompt
    assert first.input_ids[-1] == tok.eos_token_id
    labels = batch["labels"][0]
    assert (labels[:first.prompt_length] == IGNORE_INDEX).all()
    assert labels[first.prompt_length:len(first.input_ids)].tolist() == list(
        first.input_ids[first.prompt_length:])
    with pytest.raises(ConfigError, match="leaves no response token"):
        encode_examples(tok, train, max_length=10)


def test_batches_are_a_function_of_the_step() -> None:
    assert batch_indices(10, 4, 3, seed=1) == batch_indices(10, 4, 3, seed=1)
    assert steps_per_epoch(10, 4) == 2
    epoch0 = batch_indices(10, 4, 0, seed=1) + batch_indices(10, 4, 1, seed=1)
    assert len(set(epoch0)) == 8
    assert batch_indices(10, 4, 2, seed=1) != batch_indices(10, 4, 0, seed=1)
    assert len(batch_indices(3, 8, 0, seed=0)) == 3
