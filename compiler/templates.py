"""Prompt templates: jinja2 analysis located in the `.agent` file.

A role's `prompt` and `system` are jinja2 templates rendered with the role's parameters
in a bounded, immutable sandbox (sandbox.py). `analyse_template` reports syntax errors,
variables the role does not declare, fields its record parameters do not have, and
loops nested over inputs, whose output grows with the product of their sizes — each at
the line and column of the `.agent` file where the template text stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import TemplateSyntaxError, nodes

from . import codes
from .depth import TemplateTooDeep, refuse_deep_template
from .resolve import did_you_mean
from .sandbox import DEFAULT_LIMITS, environment
from .source import Source, Span
from .types import AnyType, ListT, OptionalT, RecordT, Type


@dataclass(frozen=True)
class TemplateProblem:
    code: str
    message: str
    span: Span | None
    label: str = ""
    hints: tuple[str, ...] = ()


@lru_cache(maxsize=4096)
def parsed(text: str) -> nodes.Template:
    """The jinja2 syntax tree of a template, parsed once per text (the analysis only reads
    it). Raises TemplateSyntaxError, which is not cached."""
    refuse_deep_template(text, environment())
    return environment().parse(text)


@dataclass(frozen=True)
class _Facts:
    """What the analysis needs from a template, read once per text: the names it loads
    (with their line) and the attribute chains rooted at a name, or its syntax error."""

    error: tuple[str, int] | None = None
    error_code: str = codes.TEMPLATE_SYNTAX
    names: tuple[tuple[str, int], ...] = ()
    chains: tuple[tuple[tuple[str, ...], int], ...] = ()
    growth: tuple[tuple[str, int], ...] = ()  # why a loop multiplies the output, its line


@lru_cache(maxsize=4096)
def _facts(text: str) -> _Facts:
    try:
        tree = parsed(text)
    except TemplateSyntaxError as error:
        too_deep = isinstance(error, TemplateTooDeep)
        return _Facts(
            error=(error.message or "invalid template", error.lineno or 1),
            error_code=codes.NESTING_TOO_DEEP if too_deep else codes.TEMPLATE_SYNTAX,
        )
    defined = _defined_names(tree)
    globals_ = environment().globals
    names = tuple(
        (name.name, name.lineno)
        for name in tree.find_all(nodes.Name)
        if name.ctx == "load"
        and name.name not in defined
        and name.name not in globals_
        and name.name != "loop"
    )
    chains = []
    for getattr_node in tree.find_all(nodes.Getattr):
        chain = _attribute_chain(getattr_node)
        if chain is not None:
            chains.append((tuple(chain), getattr_node.lineno))
    return _Facts(names=names, chains=tuple(chains), growth=tuple(_multiplying_loops(tree)))


def analyse_template(
    text: str, params: dict[str, Type], literal: Span | None, source: Source | None
) -> list[TemplateProblem]:
    facts = _facts(text)
    locate = _Locator(literal, source)
    if facts.error is not None:
        message, lineno = facts.error
        return [
            TemplateProblem(
                facts.error_code,
                f"prompt template: {message}",
                locate.line(lineno),
                "in this template",
            )
        ]
    problems: list[TemplateProblem] = []
    reported: set[str] = set()
    for name, lineno in facts.names:
        if name in params or name in reported:
            continue
        reported.add(name)
        problems.append(
            TemplateProblem(
                codes.UNDECLARED_TEMPLATE_VARIABLE,
                f"`{name}` is not a parameter of this role",
                locate.word(lineno, name),
                "undeclared",
                hints=did_you_mean(name, params)
                or (f"the role's parameters are: {', '.join(params) or '(none)'}",),
            )
        )
    for chain, lineno in facts.chains:
        if chain[0] not in params:
            continue
        problem = _check_fields(list(chain), params[chain[0]], locate, lineno)
        if problem is not None and problem.message not in {p.message for p in problems}:
            problems.append(problem)
    for why, lineno in facts.growth:
        problems.append(
            TemplateProblem(
                codes.MULTIPLYING_LOOPS,
                f"the prompt can grow multiplicatively: {why}",
                locate.line(lineno),
                "nested loop",
                hints=(
                    "loop over one collection, or bound the inner loop with a constant "
                    "slice (`{% for b in items[:5] %}`); a render stops past "
                    f"{DEFAULT_LIMITS.steps:,} steps or {DEFAULT_LIMITS.chars:,} characters",
                ),
            )
        )
    return problems


# -- loops whose output multiplies -------------------------------------------------------------


@dataclass(frozen=True)
class _Loop:
    variables: frozenset[str]  # what the loop binds
    size: int | None  # its number of iterations when the template fixes it, else None
    over: str  # what it iterates, for messages


def _multiplying_loops(tree: nodes.Template) -> list[tuple[str, int]]:
    """Loops nested in a loop that neither depends on the other (a loop over `doc.lines`
    inside `for doc in docs` walks the input once; one over `items` inside `for a in
    items` walks it once per item), when both iterate over inputs; or nested constant
    loops whose iterations multiply past what a render allows. A conservative check:
    loops that macros and recursive loops make are not followed."""
    found: list[tuple[str, int]] = []

    def visit(node: nodes.Node, enclosing: tuple[_Loop, ...]) -> None:
        if not isinstance(node, nodes.For):
            for child in node.iter_child_nodes():
                visit(child, enclosing)
            return
        loop = _Loop(_bound_names(node.target), _constant_size(node.iter), _text(node.iter))
        reads = _read_names(node.iter)
        independent = [e for e in enclosing if not (e.variables & reads)]
        outer = next((e for e in independent if e.size is None), None)
        product = loop.size or 1
        for enclosing_loop in enclosing:
            product *= enclosing_loop.size or 1
        if loop.size is None and outer is not None:
            found.append(
                (f"`{loop.over}` is iterated once per item of `{outer.over}`", node.lineno)
            )
        elif product > DEFAULT_LIMITS.steps:
            found.append((f"nested loops make {product:,} iterations", node.lineno))
        for child in node.body:
            visit(child, (*enclosing, loop))
        for child in (node.iter, *node.else_, *([node.test] if node.test else [])):
            visit(child, enclosing)

    visit(tree, ())
    return found


def _bound_names(target: nodes.Node) -> frozenset[str]:
    names = {target.name} if isinstance(target, nodes.Name) else set()
    return frozenset(names | {n.name for n in target.find_all(nodes.Name)})


def _read_names(expr: nodes.Node) -> frozenset[str]:
    names = {expr.name} if isinstance(expr, nodes.Name) else set()
    return frozenset(names | {n.name for n in expr.find_all(nodes.Name)})


def _constant_size(expr: nodes.Node) -> int | None:
    """How many items `expr` has when the template fixes it: `range(3)`, `[a, b]`, a
    constant slice `xs[:5]` (at most 5); None when it depends on the inputs."""
    if isinstance(expr, nodes.List | nodes.Tuple):
        return len(expr.items)
    if isinstance(expr, nodes.Call):
        return _range_size(expr)
    if isinstance(expr, nodes.Getitem) and isinstance(expr.arg, nodes.Slice):
        start, stop = expr.arg.start, expr.arg.stop
        first = start.value if isinstance(start, nodes.Const) else 0 if start is None else None
        if isinstance(stop, nodes.Const) and type(stop.value) is int and type(first) is int:
            return max(stop.value - first, 0) if stop.value >= 0 and first >= 0 else None
    return None


def _range_size(call: nodes.Call) -> int | None:
    """The length of `range(...)` with constant arguments."""
    if not (isinstance(call.node, nodes.Name) and call.node.name == "range") or call.kwargs:
        return None
    values = [a.value for a in call.args if isinstance(a, nodes.Const)]
    if call.dyn_args or len(values) != len(call.args) or any(type(v) is not int for v in values):
        return None
    try:
        return len(range(*values))
    except (TypeError, ValueError):
        return None


def _text(expr: nodes.Node) -> str:
    """A short source-like name for what a loop iterates (`items`, `doc.lines`, `range(n)`)."""
    if isinstance(expr, nodes.Name):
        return expr.name
    if isinstance(expr, nodes.Getattr):
        return f"{_text(expr.node)}.{expr.attr}"
    if isinstance(expr, nodes.Const):
        return repr(expr.value)
    if isinstance(expr, nodes.Call) and isinstance(expr.node, nodes.Name):
        return f"{expr.node.name}({', '.join(_text(a) for a in expr.args)})"
    if isinstance(expr, nodes.Filter):
        return f"{_text(expr.node) if expr.node is not None else ''}|{expr.name}"
    return "an expression"


def _defined_names(tree: nodes.Template) -> set[str]:
    names: set[str] = set()
    for node in tree.find_all((nodes.Assign, nodes.For, nodes.Macro, nodes.With)):
        for target in node.find_all(nodes.Name):
            if target.ctx in ("store", "param"):
                names.add(target.name)
    return names


def _attribute_chain(node: nodes.Getattr) -> list[str] | None:
    """`draft.text.x` → ["draft", "text", "x"], for chains rooted at a plain name."""
    parts: list[str] = []
    current: nodes.Node = node
    while isinstance(current, nodes.Getattr):
        parts.append(current.attr)
        current = current.node
    if not isinstance(current, nodes.Name):
        return None
    return [current.name, *reversed(parts)]


def _check_fields(
    chain: list[str], root: Type, locate: _Locator, lineno: int
) -> TemplateProblem | None:
    current = root
    for index, attr in enumerate(chain[1:], start=1):
        if isinstance(current, OptionalT):
            current = current.inner
        if isinstance(current, AnyType):
            return None
        if isinstance(current, RecordT):
            if attr not in current.fields:
                path = ".".join(chain[:index])
                return TemplateProblem(
                    codes.UNKNOWN_FIELD,
                    f"`{path}` ({current}) has no field `{attr}`",
                    locate.word(lineno, attr),
                    "unknown field",
                    hints=did_you_mean(attr, current.fields)
                    or (f"its fields are: {', '.join(current.fields)}",),
                )
            current = current.fields[attr]
            continue
        if isinstance(current, ListT):
            return None  # list methods and jinja filters: not ours to judge
        return None
    return None


class _Locator:
    """Maps template line numbers (and words on them) to spans in the `.agent` file."""

    def __init__(self, literal: Span | None, source: Source | None):
        self.literal = literal
        self.source = source
        self.block = bool(literal and source and source.text.startswith('"""', literal.start))

    def line(self, template_line: int) -> Span | None:
        if self.literal is None or self.source is None:
            return self.literal
        line = self._source_line(template_line)
        text = self.source.line_text(line)
        start = self.source.offset(line, len(text) - len(text.lstrip()) + 1)
        return self.source.span(start, self.source.offset(line, len(text) + 1))

    def word(self, template_line: int, word: str) -> Span | None:
        if self.literal is None or self.source is None:
            return self.literal
        line = self._source_line(template_line)
        text = self.source.line_text(line)
        first = self.literal.column - 1 if line == self.literal.line else 0
        match = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])").search(
            text, first
        )
        if match is None:
            return self.literal
        start = self.source.offset(line, match.start() + 1)
        return self.source.span(start, start + len(word))

    def _source_line(self, template_line: int) -> int:
        assert self.literal is not None
        if not self.block:
            return self.literal.line
        # The newline after the opening quotes is dropped: template line 1 is the next.
        return min(self.literal.line + template_line, self.literal.end_line)
