"""Prompt templates: jinja2 analysis located in the `.agent` file.

A role's `prompt` and `system` are jinja2 templates rendered in the sandbox with the
role's parameters. `analyse_template` reports syntax errors, variables the role does
not declare, and fields its record parameters do not have — each at the line and
column of the `.agent` file where the template text stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from . import codes
from .depth import TemplateTooDeep, refuse_deep_template
from .resolve import did_you_mean
from .source import Source, Span
from .types import AnyType, ListT, OptionalT, RecordT, Type


@dataclass(frozen=True)
class TemplateProblem:
    code: str
    message: str
    span: Span | None
    label: str = ""
    hints: tuple[str, ...] = ()


@cache
def environment() -> SandboxedEnvironment:
    """The environment prompts are rendered in (the runtime uses the same settings)."""
    return SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=4096)
def parsed(text: str) -> nodes.Template:
    """The jinja2 syntax tree of a template, parsed once per text (the analysis only reads
    it). Raises TemplateSyntaxError, which is not cached."""
    refuse_deep_template(text, environment())
    return environment().parse(text)


@lru_cache(maxsize=1024)
def compiled(text: str):  # type: ignore[no-untyped-def]
    """A template ready to render, compiled once per text (the runtime renders with it)."""
    refuse_deep_template(text, environment())
    return environment().from_string(text)


@dataclass(frozen=True)
class _Facts:
    """What the analysis needs from a template, read once per text: the names it loads
    (with their line) and the attribute chains rooted at a name, or its syntax error."""

    error: tuple[str, int] | None = None
    error_code: str = codes.TEMPLATE_SYNTAX
    names: tuple[tuple[str, int], ...] = ()
    chains: tuple[tuple[tuple[str, ...], int], ...] = ()


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
    return _Facts(names=names, chains=tuple(chains))


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
    return problems


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
