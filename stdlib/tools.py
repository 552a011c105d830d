"""Python tools declared by the standard library and the examples.

tool calculator(expression: str) -> float = "rolegraph.stdlib.tools:calculator"
tool majority_vote(answers: list[Answer]) -> Answer = "rolegraph.stdlib.tools:majority_vote"
"""

from __future__ import annotations

import ast
import math
import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

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


def run_python(code: str, *, timeout: float = TIME_LIMIT, memory: int = MEMORY_LIMIT) -> str:
    """Run a Python program in a subprocess and return what it printed.

    The program runs in a fresh interpreter in isolated mode (`-I`: no user site, no
    PYTHON* variables) in an empty temporary directory, with a wall-time limit and, on
    POSIX systems, limits on its address space and CPU time. It is a guard against
    runaway programs, not a security sandbox: the program runs as the current user.
    The reply is stdout, then stderr, then a note when the program failed or was
    stopped, truncated to `OUTPUT_LIMIT` characters.

    >>> run_python("print(6 * 7)")
    '42\\n'
    """
    import subprocess
    import sys
    import tempfile

    def limit() -> None:  # pragma: no cover - runs in the child process
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = max(1, int(timeout) + 1)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    with tempfile.TemporaryDirectory(prefix="rolegraph-python-") as directory:
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", code],
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                preexec_fn=limit if sys.platform != "win32" else None,
            )
        except subprocess.TimeoutExpired as expired:
            output = _text(expired.stdout) + _text(expired.stderr)
            return _truncate(output + f"\n[stopped: the time limit of {timeout:g} s was reached]")
    output = done.stdout + done.stderr
    if done.returncode != 0:
        if "MemoryError" in done.stderr or done.returncode in (-9, 137):
            output += f"\n[stopped: the memory limit of {memory // 2**20} MiB was reached]"
        else:
            output += f"\n[exit status {done.returncode}]"
    return _truncate(output)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _truncate(text: str) -> str:
    if len(text) <= OUTPUT_LIMIT:
        return text
    return text[: OUTPUT_LIMIT - 40] + f"\n[... {len(text) - OUTPUT_LIMIT + 40} characters cut]"
