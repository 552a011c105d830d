"""Arithmetic with a known answer: sums of two digits, and word problems of one or two
steps of +, - or x on small numbers, generated from a fixed seed. Scored 1 when the
last number in the answer is the right one (a model that shows its working ends with the result)."""

from __future__ import annotations

import random
from typing import Any

from rolegraph.search import Example

from . import Task
from .text import answer_text, numbers

ITEMS = ["apples", "marbles", "books", "coins", "stickers", "pencils", "cards", "shells"]
NAMES = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivo", "Jun"]


def problem(rng: random.Random) -> tuple[str, int]:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    a, b = rng.randint(2, 30), rng.randint(2, 20)
    kind = rng.choice(["sum", "sum", "sum", "add", "sub", "mul"])
    if kind == "sum":  # the plain sum of two small numbers
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        return f"What is {a} + {b}?", a + b
    if kind == "add":
        return (
            f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?",
            a + b,
        )
    if kind == "sub":
        a = a + b
        return f"{name} has {a} {item} and gives away {b}. How many {item} are left?", a - b
    if kind == "mul":
        a, b = rng.randint(2, 9), rng.randint(2, 9)
        return f"{name} has {a} bags with {b} {item} in each bag. How many {item} in all?", a * b
    c = rng.randint(1, a + b - 1)
    return (
        f"{name} has {a} {item}, finds {b} more, then loses {c}. How many {item} now?",
        a + b - c,
    )


def score(result: Any, example: Example) -> float:
    found = numbers(answer_text(result))
    return float(bool(found) and found[-1] == float(example.expected))


def task(count: int = 60, seed: int = 19) -> Task:
    rng, spare = random.Random(seed), random.Random(seed + 1)
    examples: list[Example] = []
    seen: set[str] = set()
    for _ in range(count):
        question, answer = problem(rng)
        while question in seen:  # a repeat takes a fresh draw, in its place
            question, answer = problem(spare)
        seen.add(question)
        examples.append(Example({"question": question + " Answer with the number."}, answer))
    return Task(
        "arithmetic",
        tuple(examples),
        score,
        "sums of two digits, one- and two-step word problems (+, -, x); the last number",
    )
