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

Longer than ~500 lines: one backend, the declarations in file order (the expressions
and statements of agent bodies are pybodygen.py's, the layout pylayout.py's).
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
from .pybodygen import BodyWriter
from .pylayout import LINE, Call, comment, comment_lines, layout, with_trailing
from .queries import names_used
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
PYDANTIC_RESERVED = frozenset(dir(__import__("pydantic").BaseModel))
# what a class has from its metaclass (`mro`): pydantic would take it for a field's default
TYPE_ATTRIBUTES = frozenset(dir(type))
# Names an enum class body cannot give a member: `enum`'s own (`name`, `value`, `mro`,
# `_value_`...); any name with a leading underscore is prefixed too (see `_member`).
ENUM_RESERVED = frozenset(dir(enum.Enum)) | {"mro"}


def compile_to_python(program: Program, source_name: str, version: str) -> str:
    """The Python module of a checked program (`Program` from the resolver)."""
    decls = flatten(program)
    names = _python_names(decls)
    by_name = {d.name: d for d in decls}
    fields = {
        d.name: field_attributes(d, names) if isinstance(d, ast.TypeDecl) else member_attributes(d)
        for d in decls
        if isinstance(d, ast.TypeDecl | ast.EnumDecl)
    }
    decls_only = decls
    notes = import_comments(program)
    context = {
        "source_name": docstring_text(source_name),
        "version": version,
        "decls": [_render_decl(d, names, by_name, fields, notes.get(d.name, ())) for d in decls],
        "members": [names[decl.name] for decl in decls_only],
        "records": [names[d.name] for d in decls_only if isinstance(d, ast.TypeDecl)],
        "agents": [names[d.name] for d in decls_only if isinstance(d, ast.AgentDecl)],
        "uses_enum": any(isinstance(d, ast.EnumDecl) for d in decls),
        "uses_pydantic": any(isinstance(d, ast.TypeDecl) for d in decls),
        "end_comments": comment_lines(program.main.module.end_comments),
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


def import_comments(program: Program) -> dict[str, tuple[str, ...]]:
    """The comments of each `from M import a`, by the name of the first declaration it
    brings that no earlier import brought: they go above it in the module."""
    seen: set[str] = set()
    found: dict[str, tuple[str, ...]] = {}
    main = program.main
    for decl in main.module.decls:
        if isinstance(decl, ast.Import) and decl.names:
            brought = [
                d.name
                for name in decl.names
                if (symbol := main.imported.get(name)) is not None
                for d in _closure(symbol.module.module, name)
                if d.name not in seen
            ]
            if brought and (decl.comments or decl.trailing_comment):
                found[brought[0]] = (*decl.comments, *filter(None, [decl.trailing_comment]))
            seen.update(brought)
        elif hasattr(decl, "name"):
            seen.add(decl.name)
    return found


def _closure(module: ast.Module, name: str) -> list[Any]:
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
    match value:
        case str():
            return py_str(value)
        case list():
            return f"[{', '.join(py(v) for v in value)}]"
        case dict():
            return f"{{{', '.join(f'{py(k)}: {py(v)}' for k, v in value.items())}}}"
    return repr(value)  # numbers (repr round-trips floats), booleans, None


def py_default(value: Any) -> str:
    """A parameter default (a list or dict as a literal: the stub is never called, so
    `B006`'s shared mutable default cannot bite; the line says so with `noqa`)."""
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
    match expr:
        case ast.NamedType(name=name):
            # (a declaration named `str` is not the type `str`)
            return name if name in PRIMITIVES else names.get(name, name)
        case ast.ListType(item=item):
            return f"list[{py_type(item, names)}]"
        case ast.DictType(key=key, value=value):
            return f"dict[{py_type(key, names)}, {py_type(value, names)}]"
        case ast.OptionalType(inner=inner):
            return f"{py_type(inner, names)} | None"
    raise AssertionError(f"unexpected type expression {expr!r}")  # pragma: no cover


@dataclass
class Rendered:
    kind: str
    name: str  # the Python name
    lines: list[str] = field(default_factory=list)


def _render_decl(
    decl: Any,
    names: dict[str, str],
    decls: dict[str, Any],
    fields: dict[str, dict[str, str]],
    extra: tuple[str, ...] = (),
) -> Rendered:
    python = names[decl.name]
    above = comment_lines((*extra, *decl.comments))
    match decl:
        case ast.ModelDecl(provider=where) | ast.McpDecl(address=where):
            maker = "rg.model(" if isinstance(decl, ast.ModelDecl) else "rg.mcp("
            params = {p.name: ast.constant_value(p.value) for p in decl.params}
            args = [py(decl.name), py(where)] + ([py(params)] if params else [])
            lines = with_trailing(call(f"{python} = {maker}", args, ")"), decl.trailing_comment)
            return Rendered("model", python, above + lines)
    above += comment_lines(tuple(filter(None, [decl.trailing_comment])))
    match decl:
        case ast.TypeDecl():
            return Rendered(
                "record", python, above + _record(decl, python, names, fields[decl.name])
            )
        case ast.EnumDecl():
            return Rendered("enum", python, above + _enum(decl, python, fields[decl.name]))
        case ast.RoleDecl():
            return Rendered("role", python, above + _role(decl, python, names))
        case ast.ToolDecl():
            server = [f"server={names[decl.server]}"] if decl.server is not None else []
            options = [py(decl.target), *server, *_renamed(decl.name, python)]
            lines = [f"@rg.tool({', '.join(options)})", *_stub("def", decl, python, names)]
            return Rendered("tool", python, above + lines)
        case ast.HumanDecl():
            return Rendered("human", python, above + _human(decl, python, names))
        case ast.AgentDecl():
            return Rendered("agent", python, above + _agent(decl, python, names, decls, fields))
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


def _renamed(name: str, python: str) -> list[str]:
    return [f"name={py(name)}"] if name != python else []


def field_attributes(decl: ast.TypeDecl, names: dict[str, str]) -> dict[str, str]:
    """Each field's Python attribute: its name, unless pydantic would take it for its
    own (`_x` is private, `model_x` its namespace, `json` a method: prefixed, since no
    suffix makes those ordinary), or it would shadow a type the annotations name."""
    taken: set[str] = set()
    avoid = RESERVED | PYDANTIC_RESERVED | frozenset(names.values())
    attributes = {}
    for item in decl.fields:
        name = item.name
        if name.startswith(("_", "model_")) or name in PYDANTIC_RESERVED or name in TYPE_ATTRIBUTES:
            name = f"field_{name}"
        attributes[item.name] = _unique(name, taken, avoid)
        taken.add(attributes[item.name])
    return attributes


def member_attributes(decl: ast.EnumDecl) -> dict[str, str]:
    """Each enum member's attribute (its value is its name, whatever the attribute): a
    name `enum` keeps for itself, or would not make a member, is prefixed."""
    taken: set[str] = set()
    attributes = {}
    for member in decl.members:
        name = member.name
        if name.startswith("_") or name in ENUM_RESERVED:
            name = f"member_{name}"
        attributes[member.name] = _unique(name, taken, frozenset())
        taken.add(attributes[member.name])
    return attributes


def _record(
    decl: ast.TypeDecl, python: str, names: dict[str, str], attributes: dict[str, str]
) -> list[str]:
    lines = []
    if decl.name != python:
        lines.append(f"@rg.named({py(decl.name)})")
    lines.append(f"class {python}(pydantic.BaseModel):")
    body: list[str] = []
    aliased = False
    for item in decl.fields:
        attribute = attributes[item.name]
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
            text = [f"    {attribute}: {annotation} = {py(ast.constant_value(item.default))}"]
        elif options:
            text = call(f"{attribute}: {annotation} = pydantic.Field(", options, ")", indent=4)
        else:
            text = [f"    {attribute}: {annotation}"]
        body += comment_lines(item.comments, 4) + with_trailing(text, item.trailing_comment, 4)
    if aliased:
        body.insert(0, "    model_config = pydantic.ConfigDict(populate_by_name=True)")
    body += comment_lines(decl.end_comments, 4)
    if not any(not line.lstrip().startswith("#") for line in body):
        body.append("    pass")
    return lines + body


def _is_string_arg(annotation: ast.Annotation) -> bool:
    return len(annotation.args) == 1 and isinstance(annotation.args[0], ast.StringLit)


def _enum(decl: ast.EnumDecl, python: str, attributes: dict[str, str]) -> list[str]:
    lines = [f"@rg.named({py(decl.name)})"] if decl.name != python else []
    lines.append(f"class {python}(enum.Enum):")
    notes = {}
    for member in decl.members:
        lines += comment_lines(member.comments, 4)
        text = [f"    {attributes[member.name]} = {py(member.name)}"]
        lines += with_trailing(text, member.trailing_comment, 4)
        if member.annotations:
            notes[member.name] = [
                [n.name, *(ast.constant_value(a) for a in n.args)] for n in member.annotations
            ]
    if notes:
        lines.append(f"    __rolegraph_annotations__ = {py(notes)}")
    return lines + comment_lines(decl.end_comments, 4)


def _role(decl: ast.RoleDecl, python: str, names: dict[str, str]) -> list[str]:
    options: list[str] = []  # a role may name no model: the run's `--model` gives it one

    def option(item: Any, text: str) -> None:
        options.extend(comment_lines(item.comments))
        options.append(
            f"{text},{'  ' + comment(item.trailing_comment) if item.trailing_comment else ''}"
        )

    if decl.model is not None:
        option(decl.model, f"model={names.get(decl.model.name, py(decl.model.name))}")
    if decl.system is not None:
        option(decl.system, f"system={py_text(decl.system.text)}")
    if decl.prompt is not None:
        option(decl.prompt, f"prompt={py_text(decl.prompt.text)}")
    if decl.model is not None and decl.model.params:
        params = {p.name: ast.constant_value(p.value) for p in decl.model.params}
        options.append(f"model_params={py(params)},")
    if decl.tools is not None:
        tools = ", ".join(names.get(t, py(t)) for t in decl.tools.tools)
        option(decl.tools, f"tools=[{tools}]")
        if decl.tools.max_steps is not None:
            options.append(f"max_steps={py(decl.tools.max_steps)},")
    options += [f"{o}," for o in _renamed(decl.name, python) + _param_names(decl.params)]
    options += comment_lines(decl.end_comments)
    return [
        "@rg.role(",
        *[f"    {o}" for o in options],
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


def _stub(
    kind: str,
    decl: Any,
    python: str,
    names: dict[str, str],
    python_params: list[str] | None = None,
    body: list[str] | None = None,
) -> list[str]:
    """A function declaring `decl`'s signature; its body, or `return rg.declared()` (a
    stub mypy accepts: the decorator makes the call)."""
    params = []
    mutable = []  # the parameters with a list or dict default
    if any(a.default is not None and b.default is None for a, b in pairwise(decl.params)):
        params.append("*")  # a parameter without a default follows one with: keywords only
    for index, param in enumerate(decl.params):
        name = python_params[index] if python_params else _identifier(param.name)
        text = f"{name}: {py_type(param.type, names)}"
        if param.default is not None:
            text += f" = {py_default(ast.constant_value(param.default))}"
            if isinstance(param.default, ast.ListLit | ast.DictLit):
                mutable.append(text)
        params.append(text)
    head = call(f"{kind} {python}(", params, f") -> {py_type(decl.returns, names)}:")
    for index, line in enumerate(head):  # the stub's defaults are declarations, never shared
        if any(text in line for text in mutable):
            head[index] = f"{line}  # noqa: B006"
    return head + (body if body is not None else ["    return rg.declared()"])


def _agent(
    decl: ast.AgentDecl,
    python: str,
    names: dict[str, str],
    decls: dict[str, Any],
    fields: dict[str, dict[str, str]],
) -> list[str]:
    writer = BodyWriter(decls, names, fields, py)
    params = [writer.param(p) for p in decl.params]
    body: list[str] = []
    for statement in decl.body:
        if statement.blank_line_before and body:
            body.append("")
        body += writer.statement(statement)
    body += comment_lines(decl.end_comments, 4)
    body.append("    return rg.graph(locals())")
    options: list[Call | str] = []
    if decl.ct_params:
        options.append(Call("ct_params=", [py(to_source(c)) for c in decl.ct_params], "[]"))
    options += _renamed(decl.name, python)
    if writer.renamed():
        options.append(f"names={py(writer.renamed())}")
    decorator = layout(Call("@rg.agent", options)) if options else ["@rg.agent"]
    return [*decorator, *_stub("def", decl, python, names, params, body)]
