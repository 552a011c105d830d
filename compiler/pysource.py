"""A tool's Python function, read from its module's source without running it.

`rolegraph check` (and `fmt`, `graph`, `edit`, the editor of a search) compares every
`tool` declaration with the function it names, and must run none of the module's code
to do it: an import runs whatever the module does at import time (`"this:x"` prints a
poem; a module may write files or open sockets). So the module's file is found as an
import would find it, without running it or its packages' `__init__`
(`pyimport.find_module_spec`), parsed with `ast`, and the function read from its `def`:
a module-level `def` or `async def`, reached directly, through `name = other_name`
aliases in the same module, or through `from x import name` into another module.

What the source cannot tell — a built-in or compiled module, a name that may come
from `from x import *` or a module `__getattr__`, a class, a value computed when the
module runs, a name bound under `if` or `try` — is `Unreadable`, with the reason: the
checker warns (W0324), and `rolegraph run` imports the tool and checks each call's
arguments and result against the declaration. What certainly fails at import — no
such module, no such name, a syntax error — is `Missing` (E0312).
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import importlib.machinery
import os
from dataclasses import dataclass

from .pyimport import find_module_spec, search_folders, spec_answer
from .pysignature import Hint, HintKind, ParamKind, PythonParam, PythonSignature
from .reads import MODULE, SOURCE, note
from .resolve import did_you_mean

# How many aliases and re-exports a name is followed through (a cycle ends sooner).
MAX_HOPS = 16


@dataclass(frozen=True)
class Missing:
    """The function certainly cannot be imported: why, and where it was looked for."""

    reason: str
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unreadable:
    """The function may well exist, but only running its module would tell what it is."""

    reason: str


ToolSource = PythonSignature | Missing | Unreadable


def read_tool(target: str, folder: str = "") -> ToolSource:
    """The signature of the function `"package.module:function"` names, read from source
    (looked for as `pyimport.import_callable` would, from `folder` too), or why not."""
    module_name, _, attribute = target.partition(":")
    if not all(part.isidentifier() for part in module_name.split(".")):
        return Missing(f"`{module_name}` is not a Python module name")
    if not all(part.isidentifier() for part in attribute.split(".")):
        return Missing(f"`{attribute}` is not a Python name")
    if "." in attribute:
        owner = attribute.split(".")[0]
        return Unreadable(
            f"`{attribute}` is an attribute of `{owner}`, which only running the module makes"
        )
    try:
        return _function_in(module_name, attribute, folder, ())
    except RecursionError:  # (an annotation or alias chain nested past Python's stack)
        return Unreadable(f"`{target}` is nested too deeply to read")


@dataclass(frozen=True)
class _Binding:
    statement: ast.stmt  # the statement that binds the name
    under: str  # "" at the top level of the module, else the block it is in ("if", "try")


@dataclass(frozen=True)
class _ModuleSource:
    name: str
    path: str
    package: str  # what a relative import is relative to
    bindings: dict[str, list[_Binding]]  # in source order
    star_imports: tuple[str, ...]  # the modules of `from x import *`
    walrus_names: frozenset[str]  # bound by `name := value`, wherever it is
    makes_names: str  # a call that can bind any name when the module runs (`globals()`)


def _function_in(module_name: str, name: str, folder: str, trail: tuple[str, ...]) -> ToolSource:
    """`name` as module `module_name` defines it."""
    source = _module_source(module_name, folder)
    if not isinstance(source, _ModuleSource):
        return source
    return _lookup(source, name, folder, trail, alias=False)


def _module_source(module_name: str, folder: str) -> _ModuleSource | Missing | Unreadable:
    spec = find_module_spec(module_name, folder)
    note(MODULE, module_name, folder, spec_answer(spec))
    if spec is None:
        places = " and ".join(search_folders(folder))
        return Missing(
            f"no module `{module_name}`",
            (f"looked for module `{module_name}` on sys.path, then in {places}",),
        )
    origin = spec.origin
    if origin == "frozen":  # (the standard library's frozen modules keep their source file)
        origin = getattr(spec.loader_state, "filename", None) or origin
    if origin is None or origin == "namespace":
        if spec.submodule_search_locations is not None:
            return Missing(
                f"`{module_name}` is a folder with no `__init__.py` (a namespace package): "
                "it defines no functions"
            )
        return Unreadable(f"module `{module_name}` was made at run time: it has no source file")
    if origin in ("built-in", "frozen"):
        return Unreadable(f"`{module_name}` is a {origin} module, not Python source")
    if not origin.endswith(".py"):
        kind = (
            "a compiled extension"
            if origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
            else "not Python source"
        )
        return Unreadable(f"module `{module_name}` is {kind} ({origin})")
    package = module_name if spec.submodule_search_locations is not None else ""
    if not package:
        package = module_name.rpartition(".")[0]
    return _parsed(module_name, origin, package)


def _parsed(module_name: str, path: str, package: str) -> _ModuleSource | Missing:
    try:
        status = os.stat(path)
    except OSError as error:
        return Missing(f"cannot read {path}: {error.strerror}")
    parsed, digest = _parse_file(module_name, path, package, status.st_mtime_ns, status.st_size)
    note(SOURCE, path, digest)
    return parsed


@functools.lru_cache(maxsize=256)
def _parse_file(
    module_name: str, path: str, package: str, _mtime_ns: int, _size: int
) -> tuple[_ModuleSource | Missing, str]:
    """The module's names, and the SHA-256 of the bytes they were read from ("" when
    unreadable), which a kept check holds to (compiler/reads.py SOURCE)."""
    # (keyed by the file's time and size too: an edited file is read again)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        return Missing(f"cannot read {path}: {error.strerror}"), ""
    digest = hashlib.sha256(data).hexdigest()
    try:
        tree = ast.parse(data, filename=path)
    except SyntaxError as error:
        return Missing(f"{path}:{error.lineno}: syntax error: {error.msg}"), digest
    except (ValueError, RecursionError) as error:  # (null bytes; nesting too deep to parse)
        return Missing(f"{path}: cannot be parsed: {error}"), digest
    bindings: dict[str, list[_Binding]] = {}
    stars: list[str] = []
    _collect(tree.body, "", bindings, stars, package)
    walrus: set[str] = set()
    makes_names = ""
    for node in ast.walk(tree):
        match node:
            case ast.NamedExpr(target=ast.Name(id=name)):
                walrus.add(name)
            case ast.Call(func=ast.Name(id=name)) if name in _NAME_MAKERS and not makes_names:
                makes_names = f"{name}() at line {node.lineno}"
    return _ModuleSource(
        module_name, path, package, bindings, tuple(stars), frozenset(walrus), makes_names
    ), digest


# Calls through which a module can bind names that no statement shows.
_NAME_MAKERS = frozenset({"globals", "vars", "exec", "setattr"})


_BLOCKS = {
    ast.If: "if",
    ast.Try: "try",
    ast.TryStar: "try",
    ast.With: "with",
    ast.AsyncWith: "with",
    ast.For: "for",
    ast.AsyncFor: "for",
    ast.While: "while",
    ast.Match: "match",
}


def _collect(
    body: list[ast.stmt],
    under: str,
    bindings: dict[str, list[_Binding]],
    stars: list[str],
    package: str,
) -> None:
    """Every name the statements bind at module level, with the statement, in order."""
    for statement in body:
        for name in _bound_names(statement):
            bindings.setdefault(name, []).append(_Binding(statement, under))
        match statement:
            case ast.ImportFrom(names=names) if any(a.name == "*" for a in names):
                module = _absolute(statement, package)
                if module is not None:
                    stars.append(module)
        block = _BLOCKS.get(type(statement))
        if block is not None:
            for inner in _inner_bodies(statement):
                _collect(inner, under or block, bindings, stars, package)


def _bound_names(statement: ast.stmt) -> list[str]:
    match statement:
        case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name) | ast.ClassDef(name=name):
            return [name]
        case ast.Import(names=names):
            return [a.asname or a.name.split(".")[0] for a in names]
        case ast.ImportFrom(names=names):
            return [a.asname or a.name for a in names if a.name != "*"]
        case ast.Assign(targets=targets):
            return [name for target in targets for name in _target_names(target)]
        case ast.AnnAssign(target=target, value=value) if value is not None:
            return _target_names(target)
        case ast.AugAssign(target=target) | ast.For(target=target) | ast.AsyncFor(target=target):
            return _target_names(target)
        case ast.With(items=items) | ast.AsyncWith(items=items):
            return [
                name
                for item in items
                if item.optional_vars is not None
                for name in _target_names(item.optional_vars)
            ]
    return []


def _target_names(target: ast.expr) -> list[str]:
    match target:
        case ast.Name(id=name):
            return [name]
        case ast.Tuple(elts=items) | ast.List(elts=items):
            return [name for item in items for name in _target_names(item)]
        case ast.Starred(value=value):
            return _target_names(value)
    return []  # (an attribute or a subscript binds no module name)


def _inner_bodies(statement: ast.stmt) -> list[list[ast.stmt]]:
    match statement:
        case ast.Try() | ast.TryStar():
            handlers = [handler.body for handler in statement.handlers]
            return [statement.body, *handlers, statement.orelse, statement.finalbody]
        case ast.Match(cases=cases):
            return [case.body for case in cases]
    bodies = [statement.body]  # type: ignore[attr-defined]
    orelse = getattr(statement, "orelse", None)
    if orelse:
        bodies.append(orelse)
    return bodies


def _absolute(statement: ast.ImportFrom, package: str) -> str | None:
    """The module a `from ... import` names, relative ones made absolute."""
    if not statement.level:
        return statement.module
    parts = package.split(".") if package else []
    if statement.level - 1 >= len(parts):
        return None  # (beyond the top-level package: the import fails)
    base = ".".join(parts[: len(parts) - (statement.level - 1)])
    return f"{base}.{statement.module}" if statement.module else base


def _lookup(
    source: _ModuleSource, name: str, folder: str, trail: tuple[str, ...], *, alias: bool
) -> ToolSource:
    """What `name` is in a module, followed through aliases and re-exports."""
    here = f"{source.name}.{name}"
    if here in trail or len(trail) >= MAX_HOPS:
        return Unreadable(f"`{name}` in {source.path} is re-exported in a cycle")
    trail = (*trail, here)
    bindings = source.bindings.get(name)
    if not bindings:
        return _unbound(source, name, folder, alias=alias)
    last = bindings[-1]
    line = f"{source.path}:{last.statement.lineno}"
    if last.under:
        return Unreadable(
            f"`{name}` is bound under `{last.under}` ({line}): which binding holds is "
            "decided when the module runs"
        )
    match last.statement:
        case ast.FunctionDef() | ast.AsyncFunctionDef() as function:
            return _signature_of(function, _Annotations(source, folder))
        case ast.ClassDef():
            return Unreadable(
                f"`{name}` is a class ({line}): what calling it takes is its `__init__`"
            )
        case ast.ImportFrom() as statement:
            return _imported(source, statement, name, folder, trail)
        case ast.Import():
            return Missing(f"`{name}` is a module ({line}), which is not callable")
        case ast.Assign(value=ast.Name(id=other)) | ast.AnnAssign(value=ast.Name(id=other)):
            return _lookup(source, other, folder, trail, alias=True)
    return Unreadable(f"`{name}` is computed when the module runs ({line})")


def _unbound(source: _ModuleSource, name: str, folder: str, *, alias: bool) -> ToolSource:
    if alias and hasattr(builtins, name):
        return Unreadable(f"`{name}` is a built-in, not Python source")
    if source.star_imports:
        return Unreadable(
            f"{source.path} defines no `{name}`, but it may come from "
            f"`from {source.star_imports[0]} import *`"
        )
    if "__getattr__" in source.bindings:
        return Unreadable(f"{source.path} defines no `{name}`, but its `__getattr__` may make it")
    if name in source.walrus_names:
        return Unreadable(f"`{name}` is bound by `{name} := ...` in {source.path}")
    if source.makes_names:
        return Unreadable(
            f"{source.path} defines no `{name}`, but it may make it when it runs "
            f"({source.makes_names})"
        )
    if source.package == source.name and find_module_spec(f"{source.name}.{name}", folder):
        return Missing(f"`{name}` is a module of package `{source.name}`, which is not callable")
    defined = [n for n, b in source.bindings.items() if not b[-1].under]
    return Missing(
        f"module `{source.name}` ({source.path}) defines no `{name}`", did_you_mean(name, defined)
    )


def _imported(
    source: _ModuleSource, statement: ast.ImportFrom, name: str, folder: str, trail: tuple[str, ...]
) -> ToolSource:
    """A name bound by `from module import original [as name]`: the original, there."""
    original = next(a.name for a in statement.names if (a.asname or a.name) == name)
    module = _absolute(statement, source.package)
    if module is None:
        return Missing(f"{source.path}:{statement.lineno}: a relative import beyond its package")
    found = _module_source(module, folder)
    if not isinstance(found, _ModuleSource):
        return found
    return _lookup(found, original, folder, trail, alias=False)


def _signature_of(
    function: ast.FunctionDef | ast.AsyncFunctionDef, annotations: _Annotations
) -> PythonSignature:
    """A `def`'s parameters as written. (A decorator is taken to keep the signature, as
    `functools.wraps` does: `inspect.signature` would report the same.)"""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    first_default = len(positional) - len(arguments.defaults)
    params = [
        PythonParam(
            argument.arg,
            ParamKind.POSITIONAL_ONLY if index < len(arguments.posonlyargs) else ParamKind.NAMED,
            index >= first_default,
            annotations.hint(argument.annotation),
        )
        for index, argument in enumerate(positional)
    ]
    if arguments.vararg is not None:
        params.append(PythonParam(arguments.vararg.arg, ParamKind.VAR_POSITIONAL, True, None))
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        params.append(
            PythonParam(
                argument.arg,
                ParamKind.KEYWORD_ONLY,
                default is not None,
                annotations.hint(argument.annotation),
            )
        )
    if arguments.kwarg is not None:
        params.append(PythonParam(arguments.kwarg.arg, ParamKind.VAR_KEYWORD, True, None))
    return PythonSignature(tuple(params), annotations.hint(function.returns))


# What annotations mean, by the qualified name they refer to.
_NAMED_HINTS = {
    "builtins.str": HintKind.STR,
    "builtins.int": HintKind.INT,
    "builtins.float": HintKind.FLOAT,
    "builtins.bool": HintKind.BOOL,
    "builtins.object": HintKind.ANY,
    "typing.Any": HintKind.ANY,
    "builtins.list": HintKind.SEQUENCE,
    "typing.List": HintKind.SEQUENCE,
    "typing.Sequence": HintKind.SEQUENCE,
    "collections.abc.Sequence": HintKind.SEQUENCE,
    "builtins.dict": HintKind.MAPPING,
    "typing.Dict": HintKind.MAPPING,
    "typing.Mapping": HintKind.MAPPING,
    "collections.abc.Mapping": HintKind.MAPPING,
}
MAX_ANNOTATION_DEPTH = 20


class _Annotations:
    """Reads annotations in a module's terms: its imports, classes and type aliases."""

    def __init__(self, source: _ModuleSource, folder: str):
        self.source = source
        self.folder = folder

    def hint(self, annotation: ast.expr | None) -> Hint | None:
        if annotation is None:
            return None
        return self.read(annotation, ast.unparse(annotation), 0)

    def read(self, expr: ast.expr, text: str, depth: int) -> Hint:
        if depth > MAX_ANNOTATION_DEPTH:
            return Hint(HintKind.UNKNOWN, text)
        match expr:
            case ast.Constant(value=None):
                return Hint(HintKind.NONE, text)
            case ast.Constant(value=str() as forward):
                return self.forward(forward, depth)
            case ast.BinOp(op=ast.BitOr(), left=left, right=right):
                members = (self.read(e, ast.unparse(e), depth + 1) for e in (left, right))
                return Hint(HintKind.UNION, text, tuple(members))
            case ast.Subscript():
                return self.generic(expr, text, depth)
        meaning = self.meaning(expr, depth)
        if isinstance(meaning, Hint):
            return Hint(meaning.kind, text, meaning.args)
        if meaning is None:
            return Hint(HintKind.UNKNOWN, text)
        if meaning in _NAMED_HINTS:
            return Hint(_NAMED_HINTS[meaning], text)
        known_class = meaning.startswith("builtins.") and isinstance(
            getattr(builtins, meaning[len("builtins.") :], None), type
        )
        return Hint(HintKind.CLASS if known_class else HintKind.UNKNOWN, text)

    def forward(self, text: str, depth: int) -> Hint:
        """A string annotation (a forward reference): the expression it holds."""
        try:
            expr = ast.parse(text.strip(), mode="eval").body
        except (SyntaxError, ValueError, RecursionError):
            return Hint(HintKind.UNKNOWN, text)
        return self.read(expr, text, depth + 1)

    def generic(self, expr: ast.Subscript, text: str, depth: int) -> Hint:
        elements = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        args = tuple(self.read(e, ast.unparse(e), depth + 1) for e in elements)
        origin = self.meaning(expr.value, depth)
        if isinstance(origin, Hint):
            return Hint(origin.kind, text, args)
        if origin == "typing.Optional":
            return Hint(HintKind.UNION, text, (*args, Hint(HintKind.NONE, "None")))
        if origin == "typing.Union":
            return Hint(HintKind.UNION, text, args)
        if origin == "typing.Annotated" and args:
            return Hint(args[0].kind, text, args[0].args)
        kind = _NAMED_HINTS.get(origin or "")
        if kind in (HintKind.SEQUENCE, HintKind.MAPPING):
            return Hint(kind, text, args)
        if origin is not None and origin.startswith("builtins."):
            return Hint(HintKind.CLASS, text)  # (tuple[int, ...], set[str], type[X])
        return Hint(HintKind.UNKNOWN, text)

    def meaning(self, expr: ast.expr, depth: int) -> str | Hint | None:
        """What a name or a dotted name in an annotation refers to: a qualified name
        ("typing.Optional"), the hint of a type alias or of a class of the module, or
        None when only running the module would tell."""
        match expr:
            case ast.Attribute(value=value, attr=attr):
                base = self.meaning(value, depth)
                return f"{base}.{attr}" if isinstance(base, str) else None
            case ast.Name(id=name):
                pass
            case _:
                return None
        bindings = self.source.bindings.get(name)
        if not bindings:
            return f"builtins.{name}" if hasattr(builtins, name) else None
        # (imports under `if TYPE_CHECKING:` count)
        match bindings[-1].statement:
            case ast.ClassDef():
                return Hint(HintKind.CLASS, name)
            case ast.Import(names=aliases):
                by_name = {a.asname or a.name.split(".")[0]: a for a in aliases}
                return by_name[name].name if by_name[name].asname else name
            case ast.ImportFrom(names=aliases) as statement:
                module = _absolute(statement, self.source.package)
                original = next(a.name for a in aliases if (a.asname or a.name) == name)
                return f"{module}.{original}" if module else None
            case ast.Assign(value=alias) | ast.AnnAssign(value=alias) if alias is not None:
                return self.read(alias, name, depth + 1)  # a type alias: `Number = int | float`
        return None
