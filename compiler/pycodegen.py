"""The Python backend: a checked program as a readable, typed Python module.

    rolegraph compile examples/self_refine.agent -o self_refine.py

The module declares the program in the form of the Python front end (pyfront.py):
pydantic models and enums for the types, one decorated async stub per role (awaiting
it makes the call), the agents wired through `rolegraph.node/edge/returns/ensure`, and
`PROGRAM = rolegraph.program(...)` in declaration order. Read back, it is the same AST
as the source, so it checks, builds and runs the same (tests/test_compile.py).

Every string from the source is written with `repr` or, for multi-line prompts that
can be, as a triple-quoted literal of exactly the same text; the file name in the
docstring is escaped the same way. Any name compiles: one that is a Python keyword, a
builtin, or a name the module uses itself gets a trailing underscore in Python and keeps
its rolegraph name in the declaration; a dunder, a record field that pydantic would take
for its own (`_x`, `model_x`, `json`) and an enum member that `enum` would (`_value_`,
`mro`, `name`) get a prefix instead, since no suffix makes them ordinary. Declarations
imported with `from M import a` are copied in (the module is self-contained); namespace
imports are refused (E0702).
"""

from __future__ import annotations

import builtins
import enum
import keyword
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from . import ast, codes
from .diagnostics import DiagnosticError, diagnostic
from .printer import to_source
from .resolve import Program
from .types import PRIMITIVES

# Names the generated module itself uses, which a declaration must not shadow.
RESERVED = frozenset(
    {"enum", "pydantic", "rg", "annotations", "PROGRAM", "COMPILED_WITH", "langgraph"}
    | {"str", "int", "float", "bool", "list", "dict", "None"}
    | set(keyword.kwlist)
    | set(keyword.softkwlist)
    | set(dir(builtins))
)
LINE = 88  # the line length the layout aims at (ruff's default)
PYDANTIC_RESERVED = frozenset(dir(__import__("pydantic").BaseModel))
# what a class has from its metaclass (`mro`): pydantic would take it for a field's default
TYPE_ATTRIBUTES = frozenset(dir(type))
# Names an enum class body cannot give a member: `enum`'s own (`name`, `value`, `mro`,
# `_value_`...); any name with a leading underscore is prefixed too (see `_member`).
ENUM_RESERVED = frozenset(dir(enum.Enum)) | {"mro"}


def compile_to_python(
    program: Program, source_name: str, version: str, *, langgraph: bool = False
) -> str:
    """The Python module of a checked program (`Program` from the resolver); with
    `langgraph`, it also has a `langgraph()` function giving an agent as a LangGraph graph."""
    decls = flatten(program)
    names = _python_names(decls)
    context = {
        "source_name": docstring_text(source_name),
        "version": version,
        "decls": [_render_decl(decl, names) for decl in decls],
        "members": [names[decl.name] for decl in decls],  # type: ignore[attr-defined]
        "records": [names[d.name] for d in decls if isinstance(d, ast.TypeDecl)],
        "agents": [names[d.name] for d in decls if isinstance(d, ast.AgentDecl)],
        "uses_enum": any(isinstance(d, ast.EnumDecl) for d in decls),
        "uses_pydantic": any(isinstance(d, ast.TypeDecl) for d in decls),
        "langgraph": langgraph and any(isinstance(d, ast.AgentDecl) for d in decls),
    }
    return _template().render(**context)


@cache
def _template() -> Any:
    env = Environment(
        loader=PackageLoader("rolegraph.compiler", "."),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["py"] = py
    return env.get_template("python_module.jinja")


# -- the declarations, imports copied in ------------------------------------------------------


def flatten(program: Program) -> list[Any]:
    """The main module's declarations, each `from M import a` replaced by the declarations
    it brings (and those they need), in their module's order."""
    main = program.main
    result: list[Any] = []
    seen: set[str] = set()
    for decl in main.module.decls:
        if isinstance(decl, ast.TestDecl):
            continue  # tests stay in the .agent file: `rolegraph test` runs them
        if isinstance(decl, ast.Import):
            if not decl.names:
                raise DiagnosticError(
                    [
                        diagnostic(
                            codes.CANNOT_COMPILE,
                            f"`import {decl.module}` is a namespace import; write "
                            f"`from {decl.module} import ...`",
                            file=main.filename,
                            span=decl.span,
                        )
                    ]
                )
            for name in decl.names:
                symbol = main.imported.get(name)
                if symbol is None:
                    continue
                for needed in _closure(symbol.module.module, name):
                    if needed.name not in seen:
                        seen.add(needed.name)
                        result.append(needed)
        elif getattr(decl, "name", None) not in seen:
            seen.add(decl.name)  # type: ignore[union-attr]
            result.append(decl)
    return result


def _closure(module: ast.Module, name: str) -> list[Any]:
    from .edits.base import names_used

    wanted = {name}
    queue = [name]
    while queue:
        decl = module.decl(queue.pop())
        if decl is None:
            continue
        for used in names_used(decl):
            if used not in wanted and module.decl(used) is not None:
                wanted.add(used)
                queue.append(used)
    return [d for d in module.decls if getattr(d, "name", None) in wanted]


# -- names ----------------------------------------------------------------------------------


def _python_names(decls: list[Any]) -> dict[str, str]:
    """The module-level Python name of each declaration: its own name where it can be."""
    taken: set[str] = set()
    names = {}
    for decl in decls:
        # a dunder would take a meaning in the module (`__getattr__`, `__all__`...)
        python = _unique(f"rg{decl.name}" if _is_dunder(decl.name) else decl.name, taken)
        taken.add(python)
        names[decl.name] = python
    return names


def _unique(python: str, taken: set[str], reserved: frozenset[str] = RESERVED) -> str:
    """`python`, with underscores appended while it is reserved or taken."""
    while python in reserved or python in taken or keyword.iskeyword(python):
        python += "_"
    return python


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _identifier(name: str, avoid: frozenset[str] | set[str] = frozenset()) -> str:
    """A parameter's Python name: its own, unless Python forbids it (`class`, `__debug__`)."""
    python = name
    while keyword.iskeyword(python) or python == "__debug__" or python in avoid:
        python += "_"
    return python


def docstring_text(text: str) -> str:
    """`text` as it can stand inside a triple-quoted docstring and read as itself: a
    backslash or a quote escaped, anything unprintable (a NUL, a lone surrogate from
    an undecodable file name) written as its escape."""
    out = []
    for char in text:
        if char in '\\"':
            out.append("\\" + char)
        elif not char.isprintable():
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    return "".join(out)


# -- rendering helpers ----------------------------------------------------------------------


def py(value: Any) -> str:
    """A Python literal for a constant (str, int, float, bool, None, lists, dicts), exact
    for every string: quotes, backslashes and unprintable characters are escaped."""
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, list):
        return f"[{', '.join(py(v) for v in value)}]"
    if isinstance(value, dict):
        return f"{{{', '.join(f'{py(k)}: {py(v)}' for k, v in value.items())}}}"
    return repr(value)  # numbers (repr round-trips floats), booleans, None


def py_default(value: Any) -> str:
    """A parameter default: lists as tuples (a mutable default is a Python trap; the
    front end reads a tuple as a list)."""
    if isinstance(value, list):
        return f"({', '.join(py(v) for v in value)}{',' if len(value) == 1 else ''})"
    return py(value)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def py_str(text: str) -> str:
    """A Python string literal of exactly `text`: double-quoted, unless the text has
    double quotes and no single ones (the quotes ruff's formatter picks)."""
    quote = "'" if '"' in text and "'" not in text else '"'
    out = []
    for char in text:
        if char == '"' and quote == "'":
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif not char.isprintable():
            out.append(repr(char)[1:-1])  # \x00, \u2028...
        else:
            out.append(char)
    return quote + "".join(out) + quote


def py_text(text: str) -> str:
    """A prompt: a triple-quoted literal when that writes the same text readably."""
    plain = (
        "\n" in text
        and '"""' not in text
        and "\\" not in text
        and not text.endswith('"')
        and all(c.isprintable() or c == "\n" for c in text)
    )
    return f'"""{text}"""' if plain else py_str(text)


def py_type(expr: Any, names: dict[str, str]) -> str:
    if isinstance(expr, ast.NamedType):
        if expr.name in PRIMITIVES:  # (a declaration named `str` is not the type `str`)
            return expr.name
        return names.get(expr.name, expr.name)
    if isinstance(expr, ast.ListType):
        return f"list[{py_type(expr.item, names)}]"
    if isinstance(expr, ast.DictType):
        return f"dict[{py_type(expr.key, names)}, {py_type(expr.value, names)}]"
    if isinstance(expr, ast.OptionalType):
        return f"{py_type(expr.inner, names)} | None"
    raise AssertionError(f"unexpected type expression {expr!r}")  # pragma: no cover


def _kwargs(items: list[tuple[str, str]]) -> list[str]:
    """`name=value` where the name can be a Python keyword argument, else `**{...}`."""
    plain = [f"{k}={v}" for k, v in items if _identifier(k) == k]
    odd = [f"{py(k)}: {v}" for k, v in items if _identifier(k) != k]
    return plain + ([f"**{{{', '.join(odd)}}}"] if odd else [])


@dataclass
class Rendered:
    kind: str
    name: str  # the Python name
    lines: list[str] = field(default_factory=list)


def _render_decl(decl: Any, names: dict[str, str]) -> Rendered:
    python = names[decl.name]
    if isinstance(decl, ast.ModelDecl):
        params = {p.name: ast.constant_value(p.value) for p in decl.params}
        args = [py(decl.name), py(decl.provider)] + ([py(params)] if params else [])
        return Rendered("model", python, call(f"{python} = rg.model(", args, ")"))
    if isinstance(decl, ast.McpDecl):
        params = {p.name: ast.constant_value(p.value) for p in decl.params}
        args = [py(decl.name), py(decl.address)] + ([py(params)] if params else [])
        return Rendered("model", python, call(f"{python} = rg.mcp(", args, ")"))
    if isinstance(decl, ast.TypeDecl):
        return Rendered("record", python, _record(decl, python, names))
    if isinstance(decl, ast.EnumDecl):
        return Rendered("enum", python, _enum(decl, python))
    if isinstance(decl, ast.RoleDecl):
        return Rendered("role", python, _role(decl, python, names))
    if isinstance(decl, ast.ToolDecl):
        server = [f"server={names[decl.server]}"] if decl.server is not None else []
        options = [py(decl.target), *server, *_renamed(decl.name, python)]
        lines = [f"@rg.tool({', '.join(options)})", *_stub("def", decl, python, names)]
        return Rendered("tool", python, lines)
    if isinstance(decl, ast.HumanDecl):
        return Rendered("human", python, _human(decl, python, names))
    if isinstance(decl, ast.AgentDecl):
        return Rendered("agent", python, _agent(decl, python, names))
    raise AssertionError(f"unexpected declaration {decl!r}")  # pragma: no cover


def call(head: str, args: list[str], tail: str, indent: int = 0) -> list[str]:
    """`head args tail` laid out as ruff formats a call: on one line if it fits, else
    the arguments on one indented line, else one argument per line."""
    pad = " " * indent
    one = f"{pad}{head}{', '.join(args)}{tail}"
    if len(one) <= LINE or not args:
        return [one]
    inner = f"{pad}    {', '.join(args)}"
    if len(inner) <= LINE and "*" not in args:
        return [f"{pad}{head}", inner, f"{pad}{tail}"]
    return [f"{pad}{head}", *(f"{pad}    {a}," for a in args), f"{pad}{tail}"]


def _split_arguments(text: str) -> list[str]:
    """A call's arguments, split at the commas outside brackets and strings."""
    parts, depth, quote, start, escaped = [], 0, "", 0, False
    for index, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _renamed(name: str, python: str) -> list[str]:
    return [f"name={py(name)}"] if name != python else []


def _field_attribute(name: str, taken: set[str], avoid: frozenset[str]) -> str:
    """The attribute of a record field: its name, unless pydantic would take it for its
    own (`_x` is private, `model_x` its namespace, `json` a method: prefixed, since no
    suffix makes those ordinary), or it would shadow a type the annotations name."""
    if name.startswith(("_", "model_")) or name in PYDANTIC_RESERVED or name in TYPE_ATTRIBUTES:
        name = f"field_{name}"
    return _unique(name, taken, avoid)


def _record(decl: ast.TypeDecl, python: str, names: dict[str, str]) -> list[str]:
    lines = []
    if decl.name != python:
        lines.append(f"@rg.named({py(decl.name)})")
    lines.append(f"class {python}(pydantic.BaseModel):")
    body: list[str] = []
    aliased = False
    taken: set[str] = set()
    avoid = RESERVED | PYDANTIC_RESERVED | frozenset(names.values())
    for item in decl.fields:
        attribute = _field_attribute(item.name, taken, avoid)
        taken.add(attribute)
        options = []
        if item.default is not None:
            options.append(f"default={py(ast.constant_value(item.default))}")
        if attribute != item.name:
            options.append(f"alias={py(item.name)}")
            aliased = True
        notes = item.annotations
        if len(notes) == 1 and notes[0].name == "desc" and _is_string_arg(notes[0]):
            options.append(f"description={py(notes[0].args[0].value)}")  # type: ignore[union-attr]
        elif notes:
            raw = [[n.name, *(ast.constant_value(a) for a in n.args)] for n in notes]
            options.append(f"json_schema_extra={{'rolegraph': {py(raw)}}}")
        annotation = py_type(item.type, names)
        if item.default is not None and options == [
            f"default={py(ast.constant_value(item.default))}"
        ]:
            body.append(f"{attribute}: {annotation} = {py(ast.constant_value(item.default))}")
        elif options:
            body += call(f"{attribute}: {annotation} = pydantic.Field(", options, ")", indent=4)
        else:
            body.append(f"{attribute}: {annotation}")
    if aliased:
        body.insert(0, "model_config = pydantic.ConfigDict(populate_by_name=True)")
    return lines + [line if line.startswith("    ") else f"    {line}" for line in body or ["pass"]]


def _is_string_arg(annotation: ast.Annotation) -> bool:
    return len(annotation.args) == 1 and isinstance(annotation.args[0], ast.StringLit)


def _enum(decl: ast.EnumDecl, python: str) -> list[str]:
    lines = [f"@rg.named({py(decl.name)})"] if decl.name != python else []
    lines.append(f"class {python}(enum.Enum):")
    taken: set[str] = set()
    notes = {}
    for member in decl.members:
        attribute = _member(member.name, taken)
        taken.add(attribute)
        lines.append(f"    {attribute} = {py(member.name)}")
        if member.annotations:
            notes[member.name] = [
                [n.name, *(ast.constant_value(a) for a in n.args)] for n in member.annotations
            ]
    if notes:
        lines.append(f"    __rolegraph_annotations__ = {py(notes)}")
    return lines


def _member(name: str, taken: set[str]) -> str:
    """The attribute of an enum member (its value is its name, whatever the attribute):
    a name `enum` keeps for itself, or would not make a member, is prefixed."""
    if name.startswith("_") or name in ENUM_RESERVED:
        name = f"member_{name}"
    return _unique(name, taken, frozenset())


def _role(decl: ast.RoleDecl, python: str, names: dict[str, str]) -> list[str]:
    options = []  # a role may name no model: the run's `--model` gives it one
    if decl.model is not None:
        options.append(f"model={names.get(decl.model.name, py(decl.model.name))}")
    if decl.system is not None:
        options.append(f"system={py_text(decl.system.text)}")
    if decl.prompt is not None:
        options.append(f"prompt={py_text(decl.prompt.text)}")
    if decl.model is not None and decl.model.params:
        params = {p.name: ast.constant_value(p.value) for p in decl.model.params}
        options.append(f"model_params={py(params)}")
    if decl.tools is not None:
        tools = ", ".join(names.get(t, py(t)) for t in decl.tools.tools)
        options.append(f"tools=[{tools}]")
        if decl.tools.max_steps is not None:
            options.append(f"max_steps={py(decl.tools.max_steps)}")
    options += _renamed(decl.name, python)
    options += _param_names(decl.params)
    return [
        "@rg.role(",
        *[f"    {o}," for o in options],
        ")",
        *_stub("async def", decl, python, names),
    ]


def _human(decl: ast.HumanDecl, python: str, names: dict[str, str]) -> list[str]:
    options = []
    if decl.prompt is not None:
        options.append(f"prompt={py_text(decl.prompt.text)}")
    if decl.deadline is not None:
        options.append(f"deadline={py(decl.deadline.duration)}")
    options += _renamed(decl.name, python)
    options += _param_names(decl.params)
    return [
        "@rg.human(",
        *[f"    {o}," for o in options],
        ")",
        *_stub("async def", decl, python, names),
    ]


def _param_names(params: tuple[ast.Param, ...]) -> list[str]:
    renamed = {_identifier(p.name): p.name for p in params if _identifier(p.name) != p.name}
    return [f"names={py(renamed)}"] if renamed else []


def _stub(kind: str, decl: Any, python: str, names: dict[str, str]) -> list[str]:
    params = []
    if any(a.default is not None and b.default is None for a, b in pairwise(decl.params)):
        params.append("*")  # a parameter without a default follows one with: keywords only
    for param in decl.params:
        text = f"{_identifier(param.name)}: {py_type(param.type, names)}"
        if param.default is not None:
            text += f" = {py_default(ast.constant_value(param.default))}"
        params.append(text)
    return call(f"{kind} {python}(", params, f") -> {py_type(decl.returns, names)}: ...")


def _agent(decl: ast.AgentDecl, python: str, names: dict[str, str]) -> list[str]:
    options = []
    for statement in decl.body:
        chain = _statement(statement, names)
        text = "".join(chain)
        if len(text) > LINE - 5 and len(chain) == 1 and chain[0].endswith(")"):
            head, _, rest = chain[0].partition("(")
            lines = call(f"{head}(", _split_arguments(rest[:-1]), ")", indent=4)
            text = "\n".join([lines[0].strip(), *lines[1:]])  # as ruff lays a long call out
        elif len(text) > LINE - 5:
            text = "\n    ".join(chain)  # one call of the chain per line
        options.append(text)
    if decl.ct_params:
        options.append(f"ct_params={py([to_source(c) for c in decl.ct_params])}")
    options += _renamed(decl.name, python)
    options += _param_names(decl.params)
    return [
        "@rg.agent(",
        *[f"    {o}," for o in options],
        ")",
        *_stub("async def", decl, python, names),
    ]


def _expr(node: Any) -> str:
    return py(to_source(node))


def _statement(statement: Any, names: dict[str, str]) -> list[str]:
    """A statement of an agent's body as the calls of its builder chain."""
    if isinstance(statement, ast.NodeDecl):
        callee = names.get(statement.role, py(statement.role))
        positional = [_expr(a.value) for a in statement.args if a.name is None]
        named = [(a.name, _expr(a.value)) for a in statement.args if a.name is not None]
        chain = [
            f"rg.node({', '.join([py(statement.name), callee, *positional, *_kwargs(named)])})"
        ]
        if statement.ct_args:
            ct_positional = [_expr(a.value) for a in statement.ct_args if a.name is None]
            ct_named = [(a.name, _expr(a.value)) for a in statement.ct_args if a.name is not None]
            chain.append(f".pattern({', '.join([*ct_positional, *_kwargs(ct_named)])})")
        if statement.replicate is not None:
            chain.append(f".times({py(statement.replicate)})")
        if statement.map is not None:
            source = _expr(statement.map.source)
            chain.append(f".each({py(statement.map.var)}, {source}, {py(statement.map.max)})")
        return chain
    if isinstance(statement, ast.EdgeDecl):
        chain = [f"rg.edge({py(statement.source)})"]
        if isinstance(statement.target, ast.ReturnTarget):
            chain.append(f".returns({_expr(statement.target.value)})")
        else:
            ports = [(p.name, _expr(p.value)) for p in statement.target.ports if p.name]
            chain.append(f".to({', '.join([py(statement.target.node), *_kwargs(ports)])})")
        if isinstance(statement.condition, ast.When):
            chain.append(f".when({_expr(statement.condition.guard)})")
        elif isinstance(statement.condition, ast.Else):
            chain.append(".otherwise()")
        elif isinstance(statement.condition, ast.OnError):
            chain.append(".on_error()")
        if statement.max is not None:
            chain.append(f".max({py(statement.max)})")
        return chain
    if isinstance(statement, ast.ReturnStmt):
        return [f"rg.returns({_expr(statement.value)})"]
    if isinstance(statement, ast.Constraint):
        return [f"rg.{statement.mode}({_expr(statement.formula)})"]
    raise AssertionError(f"unexpected statement {statement!r}")  # pragma: no cover
