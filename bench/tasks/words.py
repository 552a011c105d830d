"""Questions about short word lists with checked answers, generated from a fixed seed:
which word of a list names an animal (a fruit, a colour, a body part), and the first or
last word of a list. Scored 1 when, of the list's words, the answer names the expected
one and no other (repeating the whole list is not an answer)."""

from __future__ import annotations

import random
import re
from typing import Any

from rolegraph.search import Example

from . import Task
from .text import answer_text, folded

KINDS = {
    "an animal": ["tiger", "rabbit", "horse", "eagle", "dolphin", "sheep", "camel", "mouse"],
    "a fruit": ["apple", "banana", "cherry", "mango", "grape", "lemon", "peach", "orange"],
    "a colour": ["red", "green", "blue", "yellow", "purple", "black", "white", "brown"],
    "a part of the body": ["hand", "nose", "knee", "elbow", "ear", "mouth", "shoulder", "foot"],
}
THINGS = ["lamp", "window", "bridge", "kettle", "candle", "table", "river", "stone", "cloud"]


def question(rng: random.Random) -> tuple[str, str, list[str]]:
    """The question, its answer, and the list's words."""
    form = rng.choice(["kind", "kind", "first", "last"])
    if form == "kind":
        kind = rng.choice(sorted(KINDS))
        answer = rng.choice(KINDS[kind])
        others = rng.sample(THINGS, rng.randint(2, 3))
        words = [answer, *others]
        rng.shuffle(words)
        return f"Which word in this list is {kind}: {', '.join(words)}?", answer, words
    pool = THINGS + [w for group in KINDS.values() for w in group]
    words = rng.sample(pool, rng.randint(3, 5))
    if form == "first":
        return f"What is the first word in this list: {', '.join(words)}?", words[0], words
    return f"What is the last word in this list: {', '.join(words)}?", words[-1], words


def score(result: Any, example: Example) -> float:
    said = set(re.findall(r"\w+", folded(answer_text(result))))
    named = {word for word in example.expected["options"] if word in said}
    return float(named == {example.expected["answer"]})


def task(count: int = 60, seed: int = 19) -> Task:
    rng, spare = random.Random(seed), random.Random(seed + 1)
    examples: list[Example] = []
    seen: set[str] = set()
    for _ in range(count):
        text, answer, words = question(rng)
        while text in seen:  # a repeat takes a fresh draw, in its place
            text, answer, words = question(spare)
        seen.add(text)
        examples.append(Example({"question": text}, {"answer": answer, "options": words}))
    return Task(
        "words",
        tuple(examples),
        score,
        "which word of a list is an animal/fruit/colour/body part; its first or last word",
    )
