"""Questions about short word lists with checked answers, generated from a fixed seed:
the first or last word, how many words, which word is longest, which number is
largest. Scored 1 when the expected answer occurs in the answer as a word (case
folded)."""

from __future__ import annotations

import random
import re
from typing import Any

from rolegraph.search import Example

from . import Task
from .text import answer_text, folded

WORDS = [
    "river",
    "stone",
    "cloud",
    "apple",
    "tiger",
    "lamp",
    "garden",
    "window",
    "pepper",
    "violin",
    "mountain",
    "sugar",
    "rabbit",
    "candle",
    "forest",
    "bridge",
    "ocean",
    "kettle",
]


def question(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["first", "last", "count", "longest", "largest"])
    if kind == "largest":
        values = rng.sample(range(1, 100), rng.randint(3, 5))
        shown = ", ".join(map(str, values))
        return f"Which is the largest number in this list: {shown}?", str(max(values))
    chosen = rng.sample(WORDS, rng.randint(3, 5))
    if kind == "longest":  # one longest word, so the answer is unique
        while sorted(map(len, chosen))[-1] == sorted(map(len, chosen))[-2]:
            chosen = rng.sample(WORDS, len(chosen))
    shown = ", ".join(chosen)
    if kind == "first":
        return f"What is the first word in this list: {shown}?", chosen[0]
    if kind == "last":
        return f"What is the last word in this list: {shown}?", chosen[-1]
    if kind == "count":
        return f"How many words are in this list: {shown}? Answer with the number.", str(
            len(chosen)
        )
    return f"Which word in this list is the longest: {shown}?", max(chosen, key=len)


def score(result: Any, example: Example) -> float:
    words = re.findall(r"\w+", folded(answer_text(result)))
    return float(folded(str(example.expected)) in words)


def task(count: int = 60, seed: int = 19) -> Task:
    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        text, answer = question(rng)
        examples.append(Example({"question": text}, answer))
    return Task(
        "words", tuple(examples), score, "first/last/longest word, word count, largest number"
    )
