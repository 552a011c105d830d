"""The environment prompts are rendered in: jinja2's immutable sandbox, with bounds.

A prompt template comes from a `.agent` file or from an edit an LLM proposed
(`rewrite_prompt`), and it reads other nodes' outputs. So a render may neither change
what it reads nor run away:

- *immutable*: jinja2's `ImmutableSandboxedEnvironment` refuses the methods that change
  lists, dicts and sets (`{{ a.tags.append('x') }}` would change node `a`'s output for
  every later reader), and the pydantic API of records (`model_rebuild`...) is refused
  as well: a template reads fields, nothing else;
- *bounded*: a render makes at most `RenderLimits.steps` loop iterations and calls, and
  produces at most `RenderLimits.chars` characters — counted as the output is generated,
  and as every `{{ }}` value and every loop's text is made, in macros and `{% set %}`
  blocks too — and values that one operation would make too large (`'x' * 10**9`,
  `'x'|center(10**9)`, `'%999999999d' % 1`) are refused before they are made. A deadline
  (`RenderLimits.seconds`) is the backstop for what counting cannot see. Past a bound
  the render stops with `RenderLimitExceeded`.

Counting happens inside the render, in the code jinja2 generates: each `{% for %}`
iterates through `guard_loop`, each call goes through `call`, the arithmetic operators
through `call_binop`, every filter through a guard. Constant folding at compile time is
off, so nothing is computed before the budget exists.

    text = compiled("{% for x in items %}{{ x }}{% endfor %}").render(items=[1, 2])
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel

from rolegraph.compiler.depth import refuse_deep_template


@dataclass(frozen=True)
class RenderLimits:
    """What one render may use. The defaults are far above any prompt a model accepts
    (a million characters is about 250,000 tokens) and far below what hurts a machine."""

    chars: int = 1_000_000
    steps: int = 1_000_000  # loop iterations, calls and filters, together
    seconds: float = 10.0  # wall time: a backstop, not a measure


DEFAULT_LIMITS = RenderLimits()


class RenderLimitExceeded(Exception):
    """A render went past one of its `RenderLimits`; the message says which."""


class _Budget:
    """What the render in progress has used."""

    __slots__ = ("chars", "deadline", "limits", "steps")

    def __init__(self, limits: RenderLimits):
        self.limits = limits
        self.chars = 0
        self.steps = 0
        self.deadline = time.monotonic() + limits.seconds

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.limits.steps:
            raise RenderLimitExceeded(
                f"the template makes more than {self.limits.steps:,} loop iterations and "
                "calls (loops nested over the inputs multiply)"
            )
        if time.monotonic() > self.deadline:
            raise RenderLimitExceeded(
                f"the template renders for more than {self.limits.seconds:g} s"
            )

    def spend(self, chars: int) -> None:
        self.chars += chars
        if self.chars > self.limits.chars:
            raise RenderLimitExceeded(f"the prompt would exceed {self.limits.chars:,} characters")


_BUDGET: ContextVar[_Budget | None] = ContextVar("rolegraph_render_budget", default=None)


def _limits() -> RenderLimits:
    budget = _BUDGET.get()
    return budget.limits if budget is not None else DEFAULT_LIMITS


def _step() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.step()


def _spend(chars: int) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(chars)


def _refuse_if_larger(size: int, what: str) -> None:
    """Refuse to make one value of `size` characters or items, before it is made."""
    if size > _limits().chars:
        raise RenderLimitExceeded(f"{what} would make {size:,} characters or items")


# -- what operations would make ----------------------------------------------------------------

_NUMBER = re.compile(r"\d+")
_HUGE = 10**18  # what a number too long to read stands for


def _format_widths(text: str) -> int:
    """The largest number in a format string (a width or a precision), 0 if none."""
    return max((int(n) if len(n) <= 18 else _HUGE for n in _NUMBER.findall(text)), default=0)


def _ints(values: Iterable[Any]) -> Iterator[int]:
    for value in values:
        if isinstance(value, tuple | list):
            yield from _ints(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            yield value


def _length(value: Any) -> int:
    return len(value) if isinstance(value, Sized) else 0


def _method_makes(name: str, text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound of the size of what `text.name(*args, **kwargs)` makes (0 for
    string methods that cannot amplify)."""
    widest = max(_ints((*args, *kwargs.values())), default=0)
    if name in ("center", "ljust", "rjust", "zfill"):
        return max(len(text), widest)
    if name == "expandtabs":
        return len(text) * max(widest, 8)
    if name == "replace" and len(args) >= 2:
        return _replaced(text, args[0], args[1])
    if name == "join" and args:
        return len(text) * _length(args[0]) + _length(args[0])
    if name in ("format", "format_map"):
        return len(text) + max(_format_widths(text), widest)
    return 0


def _filter_makes(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound of the size of what `value|name(*args, **kwargs)` makes (0 for
    filters that cannot amplify)."""
    widest = max(_ints((*args, *kwargs.values())), default=0)
    size = _length(value)
    if name in ("center", "batch"):
        return max(size, widest)
    if name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        per_line = len(width) if isinstance(width, str) else widest
        lines = value.count("\n") + 1 if isinstance(value, str) else 1
        return size + per_line * lines
    if name == "replace" and len(args) >= 2:
        return _replaced(str(value), args[0], args[1])
    if name == "join":
        separator = args[0] if args else kwargs.get("d", "")
        return _length(separator) * size + size
    if name == "format" and isinstance(value, str):
        return size + max(_format_widths(value), widest)
    return 0


def _replaced(text: str, old: Any, new: Any) -> int:
    old, new = str(old), str(new)
    occurrences = len(text) + 1 if not old else len(text) // len(old)
    return len(text) + occurrences * len(new)


def _binop_makes(operator: str, left: Any, right: Any) -> int:
    """An upper bound of the size of `left operator right` (0 when it cannot amplify)."""
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                return len(sequence) * max(times, 0)
        if isinstance(left, int) and isinstance(right, int):  # digits, about
            return (abs(left).bit_length() + abs(right).bit_length()) // 3
    if operator == "+" and isinstance(left, str | list | tuple):
        return _length(left) + _length(right)
    if operator == "%" and isinstance(left, str):
        return len(left) + max(_format_widths(left), max(_ints([right]), default=0))
    if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
        return abs(left).bit_length() * max(right, 0) // 3
    return 0


# -- the environment ---------------------------------------------------------------------------


class _GuardedCodeGenerator(CodeGenerator):
    """jinja2's code generator, with every `{% for %}` iterating through the environment's
    `guard_loop`, which counts each iteration and the loop body's own text."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        guard = nodes.EnvironmentAttribute("guard_loop", lineno=node.lineno)
        size = nodes.Const(_literal_size(node.body), lineno=node.lineno)
        node.iter = nodes.Call(guard, [node.iter, size], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # `a ~ b`: joined by the environment, which refuses a result past the limit
        self.write("environment.bounded_concat((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


def _literal_size(body: list[nodes.Node]) -> int:
    """The characters of template text a loop body emits per iteration, at most (nested
    loops and macros count their own)."""
    total = 0
    stack: list[nodes.Node] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.TemplateData):
            total += len(node.data)
        elif not isinstance(node, nodes.For | nodes.Macro | nodes.CallBlock):
            stack.extend(node.iter_child_nodes())
    return total


# The attributes pydantic gives every record: a template reads a record's fields only.
_MODEL_API = frozenset(dir(BaseModel))


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with each render's steps, output and time bounded."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "+", "%", "**"})

    def __init__(self) -> None:
        super().__init__(
            autoescape=False, keep_trailing_newline=True, optimized=False, finalize=_emitted
        )
        self.globals["range"] = _bounded_range
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, BaseModel) and attr in _MODEL_API:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _step()
        # a string's method (`"x".center(...)`, or the sandbox's wrapper of `.format`)
        subject = getattr(getattr(obj, "__wrapped__", obj), "__self__", None)
        if isinstance(subject, str):
            name = getattr(obj, "__name__", "")
            if name == "join" and args:
                args = (_listed(args[0]), *args[1:])
            _refuse_if_larger(_method_makes(name, subject, args, kwargs), f"`.{name}()`")
        return super().call(context, obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _refuse_if_larger(_binop_makes(operator, left, right), f"`{operator}`")
        return super().call_binop(context, operator, left, right)

    def guard_loop(self, iterable: Any, text_per_step: int) -> Iterator[Any]:
        for item in iterable:
            _step()
            _spend(text_per_step)
            yield item

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        texts = [str(p) for p in parts]
        _refuse_if_larger(sum(map(len, texts)), "`~`")
        return "".join(texts)


def _emitted(value: Any) -> Any:
    """Every `{{ value }}` the template outputs, wherever (counted; jinja prints it)."""
    _spend(len(value) if isinstance(value, str) else len(str(value)))
    return value


def _listed(items: Any) -> Any:
    """`items` as a list when it is a generator or another iterable of unknown size (each
    item a step), so that what a join of it makes can be told before it is made."""
    if isinstance(items, Sized) or not isinstance(items, Iterable):
        return items
    listed = []
    for item in items:
        _step()
        listed.append(item)
    return listed


def _bounded_range(*args: int) -> range:
    found = range(*args)
    _refuse_if_larger(len(found), "`range`")
    return found


def _guarded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    # filters marked with jinja's pass_context / pass_environment get that first
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)  # (keeps `jinja_pass_arg`, so jinja still passes it)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _step()
        if len(args) > skip:
            if name == "join":
                args = (*args[:skip], _listed(args[skip]), *args[skip + 1 :])
            made = _filter_makes(name, args[skip], args[skip + 1 :], kwargs)
            _refuse_if_larger(made, f"`|{name}`")
        return function(*args, **kwargs)

    return guarded


@cache
def environment() -> BoundedSandbox:
    """The environment prompts are parsed and rendered in."""
    return BoundedSandbox()


class BoundedTemplate:
    """A compiled template whose every render is bounded by `RenderLimits`."""

    def __init__(self, text: str):
        refuse_deep_template(text, environment())  # (jinja2 compiles by recursion)
        self.template = environment().from_string(text)

    def render(self, limits: RenderLimits = DEFAULT_LIMITS, /, **args: Any) -> str:
        budget = _Budget(limits)
        token = _BUDGET.set(budget)
        try:
            parts: list[str] = []
            output = 0
            for chunk in self.template.generate(args):  # (a dict: any parameter name)
                output += len(chunk)
                if output > limits.chars:
                    raise RenderLimitExceeded(
                        f"the prompt would exceed {limits.chars:,} characters"
                    )
                parts.append(chunk)
            return "".join(parts)
        except RecursionError:
            raise RenderLimitExceeded("the template recurses too deeply") from None
        finally:
            _BUDGET.reset(token)


@lru_cache(maxsize=1024)
def compiled(text: str) -> BoundedTemplate:
    """A template ready to render, compiled once per text."""
    return BoundedTemplate(text)
