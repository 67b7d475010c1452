"""Regenerate data/e2e_mini/{train,test}.jsonl deterministically (no inputs, no downloads).

A small data-to-text task in the style of the E2E NLG challenge: a restaurant's attributes
(a meaning representation, "MR") go in, one or two sentences describing it come out. Every
name, attribute value and sentence template below was written for this file; nothing is
taken from the E2E corpus. Run from the repository root:

    python data/e2e_mini/generate.py

The output is byte-identical on every run (seeded ``random.Random``, sorted keys).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 20240611
TRAIN, TEST = 600, 80
HERE = Path(__file__).resolve().parent

NAMES = [
    "The Golden Fern", "Blue Lantern", "The Copper Kettle", "Willow Table", "The Red Finch",
    "Harbour Lights", "The Olive Door", "Maple House", "The Quiet Owl", "Saffron Court",
    "The Silver Spoon", "Juniper Hall", "The Painted Pony", "Cedar Grill", "The Lemon Tree",
    "Northern Star", "The Brass Bell", "Fig and Thistle", "The Green Heron", "Stone Bridge",
    "The Amber Room", "Little Orchard", "The Velvet Fox", "Riverbank Kitchen",
]
EAT_TYPES = ["restaurant", "coffee shop", "pub"]
FOODS = ["Italian", "French", "Chinese", "Indian", "Japanese", "English", "fast food"]
PRICES = ["cheap", "moderate", "high", "less than £20", "£20-25", "more than £30"]
RATINGS = ["low", "average", "high", "1 out of 5", "3 out of 5", "5 out of 5"]
AREAS = ["riverside", "city centre"]

OPENERS = [
    "{name} is {a} {family}{food} {eat} in the {area}",
    "Located in the {area}, {name} is {a} {family}{food} {eat}",
    "{name} is {a} {food} {eat} in the {area} that is {family_word}",
]


def price_phrase(price: str) -> str:
    if price in ("cheap", "moderate", "high"):
        return f"{price} prices"
    return f"prices {price}"


def make_example(rng: random.Random) -> dict[str, str]:
    name = rng.choice(NAMES)
    attrs: dict[str, str] = {
        "name": name,
        "eatType": rng.choice(EAT_TYPES),
        "food": rng.choice(FOODS),
        "area": rng.choice(AREAS),
    }
    if rng.random() < 0.8:
        attrs["priceRange"] = rng.choice(PRICES)
    if rng.random() < 0.7:
        attrs["customer rating"] = rng.choice(RATINGS)
    if rng.random() < 0.7:
        attrs["familyFriendly"] = rng.choice(["yes", "no"])
    if rng.random() < 0.5:
        attrs["near"] = rng.choice([n for n in NAMES if n != name])
    mr = ", ".join(f"{k}[{v}]" for k, v in attrs.items())
    prompt = f"Describe the restaurant in one sentence.\nAttributes: {mr}\nDescription:"

    fam = attrs.get("familyFriendly")
    family = "family-friendly " if fam == "yes" else ""
    family_word = "family-friendly" if fam == "yes" else "not family-friendly"
    template = rng.choice(OPENERS if fam else OPENERS[:2])
    if fam == "no" and template != OPENERS[2]:
        template = OPENERS[2]
    first = family if template != OPENERS[2] and family else attrs["food"]
    article = "an" if first[0].lower() in "aeiou" else "a"
    text = template.format(name=attrs["name"], a=article, family=family, family_word=family_word,
                           food=attrs["food"], eat=attrs["eatType"], area=attrs["area"])
    if "near" in attrs:
        text += f" near {attrs['near']}"
    extras = []
    if "priceRange" in attrs:
        extras.append(price_phrase(attrs["priceRange"]))
    if "customer rating" in attrs:
        extras.append(f"a customer rating of {attrs['customer rating']}")
    if extras:
        text += " with " + " and ".join(extras)
    return {"prompt": prompt, "response": " " + text + "."}


def main() -> None:
    rng = random.Random(SEED)
    seen: set[str] = set()
    rows: list[dict[str, str]] = []
    while len(rows) < TRAIN + TEST:
        ex = make_example(rng)
        if ex["prompt"] in seen:
            continue
        seen.add(ex["prompt"])
        rows.append(ex)
    for split, part in (("train", rows[:TRAIN]), ("test", rows[TRAIN:])):
        with open(HERE / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for i, ex in enumerate(part):
                f.write(json.dumps({"id": f"{split}-{i:04d}", **ex}, ensure_ascii=False,
                                   sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
