"""What a search optimises: a dataset of examples, a scoring function, and a cost.

    objective = Objective(load_examples("qa.jsonl"), score=scorer("contains"))

A dataset is a JSONL file, one example per line: `{"inputs": {...}, "expected": ...}`.
A score is a function of a run's result (plain data: records as dicts) and its example,
from 0 (wrong) to 1 (right). The cost of a candidate is what its runs used: tokens (the
default: every model reports them, the mock included), dollars, or model calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from rolegraph.compiler.depth import loads_json
from rolegraph.compiler.pyimport import import_callable, where_looked

Score = Callable[[Any, "Example"], float]
CostMeasure = Literal["tokens", "dollars", "calls"]


class ObjectiveError(ValueError):
    """A dataset or a scorer that cannot be used, said with where and why."""


@dataclass(frozen=True)
class Example:
    inputs: dict[str, Any]
    expected: Any = None

    @cached_property
    def key(self) -> str:
        """What a run of this example is cached under: a digest of its inputs (the
        expected answer does not change the run)."""
        text = json.dumps(self.inputs, sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Objective:
    examples: Sequence[Example]
    score: Score
    agent: str | None = None  # which agent of a candidate runs (default: its last)
    seeds: tuple[int, ...] = (0,)  # each example runs once per seed
    cost: CostMeasure = "tokens"
    name: str = field(default="objective", compare=False)

    def __post_init__(self) -> None:
        if not self.examples:
            raise ObjectiveError("an objective needs at least one example")
        if not self.seeds:
            raise ObjectiveError("an objective needs at least one seed")
        if self.cost not in ("tokens", "dollars", "calls"):
            raise ObjectiveError(f"cost is `tokens`, `dollars` or `calls`, not {self.cost!r}")


def load_examples(path: str | Path) -> list[Example]:
    """Examples from a JSONL file; a line that is not an example is an error naming it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")  # (JSONL lines end at newlines)
    except OSError as error:
        raise ObjectiveError(f"{path}: cannot read the dataset: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ObjectiveError(f"{path}: the dataset is not UTF-8 text") from None
    examples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = loads_json(line)
        except json.JSONDecodeError as error:
            raise ObjectiveError(f"{path}:{number}: not JSON: {error.msg}") from None
        if not isinstance(data, dict) or not isinstance(data.get("inputs"), dict):
            raise ObjectiveError(
                f'{path}:{number}: an example is an object with "inputs" (an object) '
                'and, optionally, "expected"'
            )
        unknown = set(data) - {"inputs", "expected"}
        if unknown:
            raise ObjectiveError(f"{path}:{number}: unknown field `{sorted(unknown)[0]}`")
        examples.append(Example(data["inputs"], data.get("expected")))
    if not examples:
        raise ObjectiveError(f"{path}: the dataset has no examples")
    return examples


# -- scorers --------------------------------------------------------------------------------


def exact(result: Any, example: Example) -> float:
    """1 when the result equals the expected value (records compare as dicts)."""
    return float(_normal(result) == _normal(example.expected))


def contains(result: Any, example: Example) -> float:
    """1 when the expected text occurs in the result's text (any case): the result's
    `text` or `answer` field for a record, else the whole result."""
    return float(str(example.expected).casefold() in _text(result).casefold())


def field_equals(name: str) -> Score:
    """1 when the result's field `name` equals the expected value."""

    def score(result: Any, example: Example) -> float:
        value = result.get(name) if isinstance(result, dict) else None
        return float(_normal(value) == _normal(example.expected))

    score.__name__ = f"field:{name}"
    return score


SCORERS: dict[str, Score] = {"exact": exact, "contains": contains}


def scorer(spec: str, folder: str = "") -> Score:
    """A scorer by name: `exact`, `contains`, `field:NAME`, or `module:function` (a
    function `(result, example) -> float` importable from Python, or from a `.py` file
    in `folder` — the searched `.agent` file's — or in the working directory)."""
    if spec in SCORERS:
        return SCORERS[spec]
    if spec.startswith("field:") and spec[6:]:
        return field_equals(spec[6:])
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ObjectiveError(
            f"unknown scorer {spec!r}: use exact, contains, field:NAME or module:function"
        )
    try:
        value: Any = import_callable(spec, folder)
    except Exception as error:  # import errors of user code come in every kind
        raise ObjectiveError(
            f"scorer {spec!r} cannot be imported: {type(error).__name__}: {error} "
            f"({where_looked(spec, folder)})"
        ) from None
    if not callable(value):
        raise ObjectiveError(f"scorer {spec!r} is not a function")
    return value  # type: ignore[no-any-return]


def _normal(value: Any) -> Any:
    """Plain data compared loosely: strings stripped and case-folded, ints as floats."""
    if isinstance(value, str):
        return value.strip().casefold()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def _text(result: Any) -> str:
    if isinstance(result, dict):
        for name in ("text", "answer"):
            if isinstance(result.get(name), str):
                return str(result[name])
        return json.dumps(result, sort_keys=True, default=str)
    return str(result)
