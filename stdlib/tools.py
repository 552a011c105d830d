"""Python tools declared by the standard library and the examples.

tool calculator(expression: str) -> float = "rolegraph.stdlib.tools:calculator"
tool majority_vote(answers: list[Answer]) -> Answer = "rolegraph.stdlib.tools:majority_vote"
"""

from __future__ import annotations

import ast
import math
import operator
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .sandbox import PROCESS_LIMIT, Outcome, run_confined

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "log": math.log,
    "exp": math.exp,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
MAX_EXPONENT = 1000
MAX_LENGTH = 500


class CalculatorError(ValueError):
    """The expression is not arithmetic the calculator accepts."""


def calculator(expression: str) -> float:
    """Evaluate an arithmetic expression safely: numbers, + - * / // % **, parentheses,
    and a few functions (sqrt, abs, round, min, max, log, exp). No names, no attributes,
    no calls of anything else: the expression is walked, never passed to `eval`.

    >>> calculator("2 * (3 + 4) ** 2")
    98.0
    """
    if len(expression) > MAX_LENGTH:
        raise CalculatorError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise CalculatorError(f"not an arithmetic expression: {error.msg}") from None
    return float(_evaluate(tree.body))


def _evaluate(node: ast.AST) -> float:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CalculatorError("exponent too large")
        try:
            return _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_evaluate(a) for a in node.args))
    raise CalculatorError(f"unsupported expression: {ast.unparse(node)}")


def majority_vote(answers: list) -> dict:
    """The answer most samples agree on (by normalised text); among those, the most
    confident. Accepts answers as mappings or objects with `text` (and `confidence`)."""
    if not answers:
        raise ValueError("majority_vote needs at least one answer")
    items = [_as_dict(a) for a in answers]
    counts = Counter(_normalise(i.get("text", "")) for i in items)
    winner, _ = max(counts.items(), key=lambda kv: (kv[1], -_first_index(items, kv[0])))
    agreeing = [i for i in items if _normalise(i.get("text", "")) == winner]
    return max(agreeing, key=lambda i: float(i.get("confidence", 0.0) or 0.0))


def _as_dict(answer: Any) -> dict:
    if isinstance(answer, Mapping):
        return dict(answer)
    if hasattr(answer, "model_dump"):
        return answer.model_dump()
    return {
        "text": getattr(answer, "text", str(answer)),
        "confidence": getattr(answer, "confidence", 0.0),
    }


def _normalise(text: str) -> str:
    return " ".join(str(text).lower().split()).rstrip(".")


def _first_index(items: Sequence[dict], normalised: str) -> int:
    return next(i for i, item in enumerate(items) if _normalise(item.get("text", "")) == normalised)


TIME_LIMIT = 5.0  # seconds of wall time for `run_python`
MEMORY_LIMIT = 512 * 1024 * 1024  # bytes of address space (POSIX only)
OUTPUT_LIMIT = 4000  # characters of output returned
CODE_LIMIT = 128 * 1024  # bytes of program text


async def run_python(code: str, *, timeout: float = TIME_LIMIT, memory: int = MEMORY_LIMIT) -> str:
    """Run a Python program in a confined subprocess and return what it printed.

    The program runs in a fresh interpreter in isolated mode (`-I`) in an empty temporary
    folder, with no inherited environment, limits on time, memory, CPU, file size and
    processes, and, where the kernel allows, no network and no files outside the Python
    installation (see `rolegraph.stdlib.sandbox` and docs/stdlib.md for what holds
    where). Every process it starts is ended before the call returns. The reply is
    stdout, then stderr, then a note when the program failed, was stopped, or printed
    more than was kept; at most `OUTPUT_LIMIT` characters. It never raises: a program
    that cannot run gets a message saying why.

    >>> await run_python("print(6 * 7)")
    '42\\n'
    """
    refusal = _refusal(code)
    if refusal:
        return refusal
    try:
        outcome = await run_confined(code, timeout, memory)
    except Exception as error:  # (no traceback for the model: a message it can read)
        return f"[the program could not be run: {type(error).__name__}: {error}]"
    return _report(outcome, timeout, memory)


def _refusal(code: str) -> str:
    """Why a program is not run at all, or ""."""
    if "\0" in code:
        return "[not run: the program contains a NUL byte]"
    size = len(code.encode("utf-8", "replace"))
    if size > CODE_LIMIT:
        return f"[not run: the program is {size:,} bytes; the limit is {CODE_LIMIT:,} bytes]"
    return ""


def _report(outcome: Outcome, timeout: float, memory: int) -> str:
    """The reply: the output, cut to fit, then what happened, so a note is never cut."""
    notes = []
    if outcome.dropped:
        notes.append(f"[{outcome.dropped} more bytes of output were dropped]")
    stderr = _text(outcome.stderr)
    if outcome.end == "time":
        notes.append(f"[stopped: the time limit of {timeout:g} s was reached]")
    elif outcome.end == "processes":
        notes.append(f"[stopped: it ran more than {PROCESS_LIMIT} processes at once]")
    elif outcome.end == "not started":
        notes.append(f"[the program could not be started: {outcome.error}]")
    elif outcome.end in ("lost", "cancelled"):
        notes.append("[stopped: the program's supervisor ended early]")
    elif outcome.code:
        if "MemoryError" in stderr or outcome.code in (-9, 137):
            notes.append(f"[stopped: the memory limit of {memory // 2**20} MiB was reached]")
        else:
            notes.append(f"[exit status {outcome.code}]")
    text = _text(outcome.stdout) + stderr
    tail = "".join("\n" + note for note in notes)
    return _truncate(text, OUTPUT_LIMIT - len(tail)) + tail


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    kept = max(0, limit - 40)
    return text[:kept] + f"\n[... {len(text) - kept} characters cut]"


async def run_tests(code: str, tests: str) -> dict:
    """Run a program, then its tests (plain `assert` statements), in `run_python`'s
    confined process: `{"passed": bool, "output": str}`. A test passes when every line
    ran: a marker, unknown to the program, is printed after the last assert."""
    marker = f"all tests passed {secrets.token_hex(8)}"
    output = await run_python(f"{code}\n\n{tests}\n\nprint({marker!r})\n")
    passed = marker in output
    return {"passed": passed, "output": output.replace(marker, "").strip()}
