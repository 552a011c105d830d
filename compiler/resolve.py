"""Name resolution: load the imported modules, build symbol tables, resolve names.

`load_program(module, filename, parse)` follows imports (`std.types` from the stdlib,
`"./roles.agent"` relative to the importing file), detects import cycles, and reports
duplicate and undefined names with did-you-mean hints. Parsing is injected (`parse`),
so the compiler never reaches back into the front end.

A file import stays inside the project: the directory tree of the main file, or the
`root` the caller names. An absolute path, a path that leaves the root (by `..`, or by a
symbolic link that points outside), or a file that is not a `.agent` file is refused
before it is opened, so a diagnostic never quotes a file the program had no business
reading (`import "/proc/self/environ"` would otherwise print the environment in its
caret line). The standard library's own imports stay inside the standard library.
"""

from __future__ import annotations

import difflib
import errno
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ast, codes
from .diagnostics import Diagnostic, DiagnosticSink, Label
from .reads import PATH, note

ParseFn = Callable[[str, str], tuple[ast.Module | None, Sequence[Diagnostic]]]

DECL_KINDS = {
    ast.ModelDecl: "model",
    ast.McpDecl: "mcp",
    ast.TypeDecl: "type",
    ast.EnumDecl: "enum",
    ast.RoleDecl: "role",
    ast.ToolDecl: "tool",
    ast.HumanDecl: "human",
    ast.AgentDecl: "agent",
}


class Symbol:
    """A declaration, known by the module that declares it.

    The module is held weakly: it holds its symbols, and a symbol that held its module
    back would make every program a cycle, which only the cyclic collector frees (an
    editor makes a program per candidate). So a symbol's module is there while its
    program is; a symbol kept beyond (a callee an incremental check carries over) is
    never asked for it, and one that was would raise, not answer from a stale module."""

    __slots__ = ("__weakref__", "_module", "decl", "kind", "name", "qualified")

    def __init__(self, name: str, kind: str, decl: ast.Node, module: ModuleInfo):
        self.name = name
        self.kind = kind  # model, mcp, type, enum, role, tool, human, agent
        self.decl = decl
        # `Writer` in the main module, else `module.Writer`
        self.qualified = name if module.key == "__main__" else f"{module.key}.{name}"
        self._module = weakref.ref(module)

    @property
    def module(self) -> ModuleInfo:
        module = self._module()
        if module is None:
            raise ReferenceError(f"the program that declared `{self.qualified}` is gone")
        return module

    def __getstate__(self) -> dict[str, Any]:
        """A copy or a pickle holds its module as itself (a weak reference has no copy)."""
        state = {name: getattr(self, name) for name in ("decl", "kind", "name", "qualified")}
        return {**state, "module": self.module}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in ("decl", "kind", "name", "qualified"):
            setattr(self, name, state[name])
        self._module = weakref.ref(state["module"])

    def __repr__(self) -> str:
        return f"Symbol({self.qualified!r}, {self.kind!r})"


@dataclass(frozen=True)
class UnresolvedRoot:
    """`project_root(filename, root)`, not resolved yet."""

    filename: str
    root: str | Path | None = None


@dataclass(eq=False)
class ModuleInfo:
    key: str  # "__main__", "std.types", or an absolute path
    filename: str
    module: ast.Module
    # where its file imports must stay (None: nowhere), or what `project_root` resolves
    # it from when first asked (`root`): a program without file imports never asks
    given_root: Path | UnresolvedRoot | None = None
    names: dict[str, Symbol] = field(default_factory=dict)
    imported: dict[str, Symbol] = field(default_factory=dict)
    namespaces: dict[str, ModuleInfo] = field(default_factory=dict)

    @property
    def root(self) -> Path | None:
        """The directory its file imports must stay in (None: every one is refused),
        resolved on the first file import (resolving a path costs a system call per
        part, at every check of a program that may import no file at all)."""
        if isinstance(self.given_root, UnresolvedRoot):
            self.given_root = project_root(self.given_root.filename, self.given_root.root)
        return self.given_root

    def visible(self) -> dict[str, Symbol]:
        return {**self.imported, **self.names}


@dataclass
class Program:
    main: ModuleInfo
    modules: dict[str, ModuleInfo]
    diagnostics: list[Diagnostic]
    sources: dict[str, str]

    def lookup(self, module: ModuleInfo, name: str) -> Symbol | None:
        """Resolve `Writer` or `patterns.Debate` as seen from `module`."""
        head, _, rest = name.partition(".")
        if rest:
            namespace = module.namespaces.get(head)
            if namespace is None or "." in rest:
                return None
            return namespace.names.get(rest)
        found = module.names.get(name)  # (what a module declares hides what it imports)
        return found if found is not None else module.imported.get(name)

    def candidates(self, module: ModuleInfo, kinds: Iterable[str]) -> list[str]:
        """Every name visible from `module` of the given kinds (for did-you-mean)."""
        kinds = set(kinds)
        found = [n for n, s in module.visible().items() if s.kind in kinds]
        for alias, namespace in module.namespaces.items():
            found += [f"{alias}.{n}" for n, s in namespace.names.items() if s.kind in kinds]
        return found


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return (f"did you mean `{close[0]}`?",) if close else ()


def stdlib_path(name: str) -> Path:
    from rolegraph.stdlib import module_path

    return module_path(name)


def stdlib_names() -> list[str]:
    from rolegraph.stdlib import module_names

    return module_names()


def load_program(
    module: ast.Module,
    filename: str,
    parse: ParseFn,
    text: str = "",
    root: str | Path | None = None,
) -> Program:
    """Resolve a module and everything it imports. File imports must stay inside `root`
    (default: the directory of `filename`, or the working directory for a `<string>`)."""
    loader = _Loader(parse)
    main = ModuleInfo("__main__", filename, module, UnresolvedRoot(filename, root))
    loader.sources[filename] = text
    loader.link(main, stack=[main.key])
    return Program(main, loader.modules, loader.diagnostics, loader.sources)


def project_root(filename: str, root: str | Path | None = None) -> Path | None:
    """The directory a program's file imports must stay in: `root`, or the directory of
    its main file (None when that cannot be resolved: every file import is then refused)."""
    if root is None:
        root = Path(filename).parent if not filename.startswith("<") else Path.cwd()
    try:
        resolved = Path(root).resolve()
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL byte...
        return None
    note(PATH, str(root), str(resolved))
    return resolved


class _Loader:
    def __init__(self, parse: ParseFn):
        self.parse = parse
        self.modules: dict[str, ModuleInfo] = {}
        self.diagnostics: list[Diagnostic] = []
        self.sink = DiagnosticSink(found=self.diagnostics)
        self.sources: dict[str, str] = {}

    def link(self, info: ModuleInfo, stack: list[str]) -> None:
        self.modules[info.key] = info
        self._declare(info)
        for decl in info.module.decls:
            if type(decl) not in DECL_KINDS and isinstance(decl, ast.Import):
                self._import(info, decl, stack)

    def _declare(self, info: ModuleInfo) -> None:
        tests: set[str] = set()
        names = info.names
        for decl in info.module.decls:
            kind = DECL_KINDS.get(type(decl))  # (by type first: pydantic's `isinstance` is slow)
            if kind is None and isinstance(decl, ast.Import):
                continue
            if kind is None and isinstance(decl, ast.TestDecl):  # not names of the program
                if decl.name in tests:
                    self.sink.report(
                        codes.DUPLICATE_NAME,
                        f"two tests are named `{decl.name}`",
                        decl.span,
                        file=info.filename,
                    )
                tests.add(decl.name)
                continue
            if kind is None:
                kind = DECL_KINDS[type(decl)]
            name = decl.name  # type: ignore[union-attr]
            if name in names:
                first = names[name].decl
                self.sink.report(
                    codes.DUPLICATE_NAME,
                    f"`{name}` is declared twice",
                    decl.span,
                    "declared again here",
                    labels=(Label(span=first.span, message="first declared here"),)
                    if first.span
                    else (),
                    hints=("rename one of them",),
                    file=info.filename,
                )
                continue
            names[name] = Symbol(name, kind, decl, info)

    def _import(self, info: ModuleInfo, decl: ast.Import, stack: list[str]) -> None:
        target = self._locate(info, decl)
        if target is None:
            return
        key, path = target
        if key in stack:
            cycle = " → ".join(
                Path(k).name if "/" in k else k for k in [*stack[stack.index(key) :], key]
            )
            self.sink.report(
                codes.IMPORT_CYCLE,
                f"import cycle: {cycle}",
                decl.span,
                "this import closes the cycle",
                hints=("move the shared declarations into a module both can import",),
                file=info.filename,
            )
            return
        imported = self.modules.get(key)
        if imported is None:
            imported = self._load(info, decl, key, path)
            if imported is None:
                return
            self.link(imported, [*stack, key])
        if decl.names:
            for name in decl.names:
                symbol = imported.names.get(name)
                if symbol is None:
                    self.sink.report(
                        codes.UNDEFINED_NAME,
                        f"`{name}` is not declared in `{decl.module}`",
                        decl.span,
                        "imported here",
                        hints=did_you_mean(name, imported.names),
                        file=info.filename,
                    )
                elif name in info.names:
                    self.sink.report(
                        codes.DUPLICATE_NAME,
                        f"`{name}` is both imported and declared here",
                        decl.span,
                        hints=("import it under another module alias instead",),
                        file=info.filename,
                    )
                else:
                    info.imported[name] = symbol
        else:
            alias = decl.alias or (
                Path(decl.module).stem if decl.is_path else decl.module.rsplit(".", 1)[-1]
            )
            info.namespaces[alias] = imported

    def _locate(self, info: ModuleInfo, decl: ast.Import) -> tuple[str, Path] | None:
        if decl.is_path:
            return self._locate_file(info, decl)
        parts = decl.module.split(".")
        if parts[0] != "std" or len(parts) != 2:
            self.sink.report(
                codes.MODULE_NOT_FOUND,
                f"unknown module `{decl.module}`",
                decl.span,
                "not a module",
                hints=(
                    "import the standard library as `std.NAME`, and files by path: "
                    '`import "./roles.agent"`',
                ),
                file=info.filename,
            )
            return None
        if parts[1] not in stdlib_names():
            self.sink.report(
                codes.MODULE_NOT_FOUND,
                f"no standard module `{decl.module}`",
                decl.span,
                "not in the standard library",
                hints=did_you_mean(parts[1], stdlib_names())
                or (f"the standard modules are: {', '.join(stdlib_names())}",),
                file=info.filename,
            )
            return None
        return decl.module, stdlib_path(parts[1])

    def _locate_file(self, info: ModuleInfo, decl: ast.Import) -> tuple[str, Path] | None:
        """The file a path import names, if it is a `.agent` file inside the importing
        module's root. Nothing is opened before that is known, and no message quotes the
        file or says where a link outside the root leads."""
        if _is_absolute(decl.module):
            self._outside(info, decl, "an absolute path", "write the path relative to this file")
            return None
        base = Path(info.filename).parent if not info.filename.startswith("<") else Path.cwd()
        try:
            path = (base / decl.module).resolve()
        except RuntimeError:  # Python 3.11 reports a loop of symbolic links so
            self._unresolvable(info, decl, "a loop of symbolic links")
            return None
        except (OSError, ValueError) as error:  # a NUL byte, a name too long, a loop (3.13)
            reason = "a loop of symbolic links" if _is_loop(error) else "not a path"
            self._unresolvable(info, decl, reason)
            return None
        if info.root is None or not path.is_relative_to(info.root):
            self._outside(
                info,
                decl,
                "outside the project",
                "import files inside the project, or name a wider root "
                "(`--root DIR`, `root=` in Python)",
            )
            return None
        if path.suffix != ".agent":
            self.sink.report(
                codes.IMPORT_OUTSIDE_ROOT,
                f"`{decl.module}` is not a `.agent` file",
                decl.span,
                "only `.agent` files can be imported",
                file=info.filename,
            )
            return None
        try:
            found = path.is_file()
        except OSError:
            found = False
        if not found:
            self.sink.report(
                codes.MODULE_NOT_FOUND,
                f"no module at `{decl.module}`",
                decl.span,
                f"looked for {path}",
                file=info.filename,
            )
            return None
        note(PATH, str(base / decl.module), str(path))
        return str(path), path

    def _outside(self, info: ModuleInfo, decl: ast.Import, what: str, hint: str) -> None:
        where = f" `{info.root}`" if info.root is not None else ""
        self.sink.report(
            codes.IMPORT_OUTSIDE_ROOT,
            f"`{decl.module}` is {what}: imports stay inside the project{where}",
            decl.span,
            "not imported",
            hints=(hint,),
            file=info.filename,
        )

    def _unresolvable(self, info: ModuleInfo, decl: ast.Import, reason: str) -> None:
        self.sink.report(
            codes.MODULE_NOT_FOUND,
            f"cannot resolve `{decl.module}`: {reason}",
            decl.span,
            "not imported",
            file=info.filename,
        )

    def _load(self, info: ModuleInfo, decl: ast.Import, key: str, path: Path) -> ModuleInfo | None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.sink.report(
                codes.MODULE_NOT_FOUND,
                f"cannot read `{decl.module}`: {error}",
                decl.span,
                file=info.filename,
            )
            return None
        filename = str(path)
        self.sources[filename] = text
        module, diagnostics = self.parse(text, filename)
        self.diagnostics.extend(diagnostics)
        if module is None:
            return None
        # a standard module's own file imports stay in the standard library
        root = info.root if decl.is_path else UnresolvedRoot(str(path))
        return ModuleInfo(key, filename, module, root)


def _is_absolute(path: str) -> bool:
    """Absolute on any system: `/x`, `\\x`, `C:/x`, `C:x` (a drive is never relative to
    this file, even where the current system would not call it absolute)."""
    return (
        path.startswith(("/", "\\"))
        or Path(path).is_absolute()
        or (len(path) >= 2 and path[1] == ":" and path[0].isalpha())
    )


def _is_loop(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno == errno.ELOOP
