"""The evaluator checks that every example fits the agent's parameters once a signature
(`Evaluator._check_inputs`, remembered in `_inputs_fit`): held to the cold check (a new
evaluator, which remembers nothing) on agents of seeded random signatures, some fitting
the examples and some not, asked in a seeded random order, each several times."""

from __future__ import annotations

import random

import pytest

import rolegraph
from rolegraph.search import Evaluator, Example, Objective
from rolegraph.search.fingerprints import fingerprint_of
from rolegraph.search.objective import ObjectiveError

EXAMPLES = [
    Example({"task": "a"}, "x"),
    Example({"task": "b", "style": "short"}, "y"),
    Example({"task": "c"}, "z"),
]
EXTRAS = ["extra", "n"]  # (the examples give neither: with a default, fine)


def _program(params: list[tuple[str, bool]]) -> str:
    """An agent taking `params` (name, with a default) and passing `task` on, if it takes it."""
    written = ", ".join(
        f'{name}: str = ""' if default else f"{name}: str" for name, default in params
    )
    arg = "task" if any(name == "task" for name, _ in params) else '"none"'
    return (
        'model m = "openai/gpt-4o-mini"\n'
        'role Writer(task: str) -> str { model m\n prompt "{{ task }}" }\n'
        f"agent Solve({written}) -> str {{\n  w = Writer({arg})\n  return w\n}}\n"
    )


def _outcome(evaluator: Evaluator, module: rolegraph.ast.Module) -> str | None:
    ir = evaluator._ir(module, fingerprint_of(module))
    try:
        evaluator._check_inputs(ir)
    except ObjectiveError as error:
        return str(error)
    return None


def _score(result: object, example: Example) -> float:
    return 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_remembered_check_of_the_inputs_is_the_cold_one(seed):
    rng = random.Random(seed)
    modules = []
    for _ in range(12):
        names = ["task"] * (rng.random() < 0.9) + ["style"] * (rng.random() < 0.8)
        names += rng.sample(EXTRAS, rng.randint(0, len(EXTRAS)))
        params = [(name, rng.random() < 0.7) for name in rng.sample(names, len(names))]
        modules.append(rolegraph.parse(_program(params), "inputs.agent"))
    objective = Objective(EXAMPLES, _score)
    remembering = Evaluator(objective)
    fits = refused = 0
    for module in rng.choices(modules, k=60):
        expected = _outcome(Evaluator(objective), module)
        assert _outcome(remembering, module) == expected
        fits += expected is None
        refused += expected is not None
    assert fits > 5 and refused > 5, (fits, refused)  # (both outcomes, each asked again)
