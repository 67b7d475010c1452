"""Non-learned baselines: text rules that any fine-tuned adapter has to beat.

* ``retrieval``: copy the response of the nearest training example, nearest by the
  Jaccard similarity of the prompts' word sets (words that occur in more than half of the
  training prompts, i.e. the instruction template, are ignored). On ``wordnet_defs`` this
  copies the gloss of the most similar training word/synonyms/example.
* ``template``: the 20-line filler of ``data/e2e_mini``'s sentence templates (first opener,
  or the "not family-friendly" one), no learning. On that task it matches the fine-tuned
  adapters, which is why ``e2e_mini`` is only a smoke task (``docs/finetune.md``).

``RULES`` maps each name to ``(train, test) -> predictions``; the fine-tuning loop scores
them like a model's greedy generations (no loss: a rule gives no token probabilities).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from qaa_hw.errors import ConfigError
from qaa_hw.finetune.data import Example

Rule = Callable[[Sequence[Example], Sequence[Example]], list[str]]
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def retrieval(train: Sequence[Example], test: Sequence[Example]) -> list[str]:
    """The response of the training example whose prompt words overlap most (Jaccard)."""
    sets = [_words(e.prompt) for e in train]
    df = Counter(w for s in sets for w in s)
    common = {w for w, n in df.items() if n > len(train) / 2}
    sets = [s - common for s in sets]
    out = []
    for ex in test:
        q = _words(ex.prompt) - common
        best, best_score = 0, -1.0
        for i, s in enumerate(sets):
            union = len(q | s)
            score = len(q & s) / union if union else 0.0
            if score > best_score:
                best, best_score = i, score
        out.append(train[best].response.strip())
    return out


_ATTR = re.compile(r"([A-Za-z ]+)\[([^\]]*)\]")


def template(train: Sequence[Example], test: Sequence[Example]) -> list[str]:
    """e2e_mini's templates filled from the prompt's attributes (``train`` unused)."""
    del train
    out = []
    for ex in test:
        a = {k.strip(): v for k, v in _ATTR.findall(ex.prompt)}
        if "name" not in a:
            raise ConfigError("the template rule needs e2e_mini prompts (name[...] missing)")
        fam = a.get("familyFriendly")
        if fam == "no":
            first = a["food"]
            text = (f"{a['name']} is {_article(first)} {a['food']} {a['eatType']} in the "
                    f"{a['area']} that is not family-friendly")
        else:
            family = "family-friendly " if fam == "yes" else ""
            first = family or a["food"]
            text = (f"{a['name']} is {_article(first)} {family}{a['food']} {a['eatType']} in "
                    f"the {a['area']}")
        if "near" in a:
            text += f" near {a['near']}"
        extras = []
        if "priceRange" in a:
            p = a["priceRange"]
            extras.append(f"{p} prices" if p in ("cheap", "moderate", "high") else f"prices {p}")
        if "customer rating" in a:
            extras.append(f"a customer rating of {a['customer rating']}")
        if extras:
            text += " with " + " and ".join(extras)
        out.append(text + ".")
    return out


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


RULES: dict[str, Rule] = {"retrieval": retrieval, "template": template}
