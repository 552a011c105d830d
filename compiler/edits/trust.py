"""The trust boundary of edits: an edit never brings in code the program did not have.

Edits arrive from places the author of a program does not control: an LLM's JSON, a
script in a file, a donor program. A `tool` declaration names a Python callable that the
checker imports and the runtime calls, and an `import` brings in a module with its own
tools; so an edit that could add either could run any Python (`"subprocess:getoutput"`,
`"builtins:exec"`). A model declaration decides where prompts and the provider's key are
sent (`api_base`, `api_key`), so an edit that could point one elsewhere could send both
to anyone.

`untrusted(original, edited, policy)` compares an edited program with the one it was
made from and reports each thing the edit brought that the original did not have and
the policy does not allow:

- a tool whose `"module:function"` target no tool of the original names (E0605);
- an import of a module the original does not import (E0606);
- a connection parameter of a model (`api_base`, `api_key`, `api_version`, or one
  rolegraph does not know, which is passed to the provider as is) with a value no model
  of the original has (E0607);
- an MCP server (a command the run starts, or a URL it sends calls to, with its
  environment, folder and headers) that no `mcp` declaration of the original names, or
  a tool of a server that the original does not call (E0625).

What the original already has was trusted by its author, so an edit may keep it, move
it, re-use it under another name or bring it from a donor. The `Editor` runs this check
on every edit and script before the checker sees the result (the checker imports tools),
so every route an edit takes — `rolegraph edit`, `Editor.apply`, `apply_script`, every
optimizer — passes it.

    editor = rolegraph.editor("x.agent", trust=TrustPolicy(tools={"mypkg.tools:*"}))
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TypeVar

from .. import ast, codes
from ..diagnostics import Diagnostic, DiagnosticSink
from ..typecheck import MODEL_PARAMETERS

D = TypeVar("D", bound=ast.Node)

# "package.module:function" (or "module:Class.method"), in ASCII identifiers only: the
# only spelling an allow-list pattern is matched against, so that no variant (spaces,
# look-alike letters, an empty part) can be read one way here and another by importlib.
_TARGET = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII)
_MODULE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII)
_PUBLIC_NAME = re.compile(r"[A-Za-z]\w*", re.ASCII)

# Model parameters that only shape a request (how long, how random, when to stop, how
# to retry): an edit may give them any value. Any other parameter says where calls go
# or with which credential, or is unknown to rolegraph and reaches the provider as is.
REQUEST_PARAMETERS = frozenset(MODEL_PARAMETERS) - {"api_base", "api_key", "api_version"}


@dataclass(frozen=True)
class TrustPolicy:
    """What an edit may bring in beyond what the program it edits already has.

    `tools`: patterns of tool targets — `"mypkg.tools:search"` (that callable) or
    `"mypkg.tools:*"` (any public function of that module, one name, no dots: a dotted
    name could walk into the modules it imports). `imports`: modules an edit may import
    — `"std.patterns"`, `"std.*"` (the standard library), or a path as written in an
    import (`"./roles.agent"`, compared after normalisation). By default nothing: an
    edit can only re-use what the program has.
    """

    tools: AbstractSet[str] = field(default_factory=frozenset)
    imports: AbstractSet[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # (sets and lists are accepted and frozen; a bad pattern is the caller's error)
        object.__setattr__(self, "tools", frozenset(self.tools))
        object.__setattr__(self, "imports", frozenset(self.imports))
        for pattern in self.tools:
            module, _, name = pattern.partition(":")
            if not (_TARGET.fullmatch(pattern) or (name == "*" and _MODULE.fullmatch(module))):
                raise ValueError(f'tool pattern {pattern!r}: write "module:function" or "module:*"')
        for pattern in self.imports:
            if not pattern.strip():
                raise ValueError("an import pattern is a module (`std.x`, `std.*`) or a path")

    def allows_tool(self, target: str) -> bool:
        if not _TARGET.fullmatch(target):
            return False
        module, _, name = target.partition(":")
        return target in self.tools or (
            f"{module}:*" in self.tools and _PUBLIC_NAME.fullmatch(name) is not None
        )

    def allows_import(self, decl: ast.Import) -> bool:
        if decl.is_path:
            return any(_normal_path(p) == _normal_path(decl.module) for p in self.imports)
        return decl.module in self.imports or (
            decl.module.startswith("std.") and "std.*" in self.imports
        )


NOTHING_NEW = TrustPolicy()


def untrusted(
    original: ast.Module, edited: ast.Module, policy: TrustPolicy = NOTHING_NEW
) -> list[Diagnostic]:
    """What `edited` brings in that `original` did not have and `policy` does not allow."""
    if _same_trusted_decls(original, edited):
        return []  # what is compared below is the same on both sides: nothing is new
    return _untrusted(original, edited, policy)


# the declarations whose trust is judged: tools, imports, models, MCP servers
_JUDGED = (ast.ToolDecl, ast.Import, ast.ModelDecl, ast.McpDecl)


def _same_trusted_decls(original: ast.Module, edited: ast.Module) -> bool:
    """Whether `edited`'s judged declarations are `original`'s, the same objects in the
    same order (an edit of agents and roles shares them)."""
    mine, theirs = original.decls, edited.decls
    if len(mine) == len(theirs):  # (most edits replace one declaration: side by side)
        return all(
            a is b or not (isinstance(a, _JUDGED) or isinstance(b, _JUDGED))
            for a, b in zip(mine, theirs, strict=True)
        )
    judged = [d for d in mine if isinstance(d, _JUDGED)]
    others = [d for d in theirs if isinstance(d, _JUDGED)]
    return len(judged) == len(others) and all(a is b for a, b in zip(judged, others, strict=True))


def _untrusted(original: ast.Module, edited: ast.Module, policy: TrustPolicy) -> list[Diagnostic]:
    """`untrusted` by comparing every judged declaration (the general path)."""
    sink = DiagnosticSink("<edit>")
    _new_tools(original, edited, policy, sink)
    _new_imports(original, edited, policy, sink)
    _new_connections(original, edited, sink)
    _new_mcp_servers(original, edited, sink)
    return sink.found


def _new_tools(
    original: ast.Module, edited: ast.Module, policy: TrustPolicy, sink: DiagnosticSink
) -> None:
    # exact strings: the original's own spelling is what its author trusted
    trusted = {d.target for d in _decls(original, ast.ToolDecl) if d.server is None}
    for tool in _decls(edited, ast.ToolDecl):
        if tool.server is not None:
            continue  # (a tool of an MCP server: `_new_mcp_servers`)
        if tool.target in trusted or policy.allows_tool(tool.target):
            continue
        sink.report(
            codes.UNTRUSTED_TOOL,
            f"the edit declares tool `{tool.name}` with target {tool.target!r}, "
            "which no tool of the program names",
            notes=("a tool's target is Python that the checker imports and the run calls",),
            hints=(
                "an edit may only re-use the tool targets the program already declares; "
                'to trust more, pass `trust=TrustPolicy(tools={"module:function"})` '
                "(`--allow-tool` on the command line)",
            ),
        )


def _new_imports(
    original: ast.Module, edited: ast.Module, policy: TrustPolicy, sink: DiagnosticSink
) -> None:
    trusted = {_import_key(d) for d in _decls(original, ast.Import)}
    for decl in _decls(edited, ast.Import):
        if _import_key(decl) in trusted or policy.allows_import(decl):
            continue
        shown = f'"{decl.module}"' if decl.is_path else decl.module
        sink.report(
            codes.UNTRUSTED_IMPORT,
            f"the edit imports {shown}, which the program does not import",
            notes=("an imported module brings its own tools: Python the run may call",),
            hints=(
                "an edit may only re-use the program's imports; to trust more, pass "
                '`trust=TrustPolicy(imports={"std.*"})` (`--allow-import` on the command line)',
            ),
        )


def _new_connections(original: ast.Module, edited: ast.Module, sink: DiagnosticSink) -> None:
    # (a trusted value moved to another model is no new endpoint: pairs, not triples)
    trusted = {(name, value) for _, name, value in _connections(original)}
    for model, name, value in _connections(edited):
        if (name, value) in trusted:
            continue
        sink.report(
            codes.UNTRUSTED_CONNECTION,
            f"the edit sets `{name}` of model `{model}` to a value no model of the program has",
            notes=(
                f"`{name}` decides where a model's calls go or which key they carry",
                f"the parameters an edit may set freely: {', '.join(sorted(REQUEST_PARAMETERS))}",
            ),
        )


# what an MCP server is, for trust: where it is and what it is given; its timeouts are
# request knobs an edit may change
_MCP_REQUEST_PARAMETERS = frozenset({"timeout", "connect_timeout"})


def _new_mcp_servers(original: ast.Module, edited: ast.Module, sink: DiagnosticSink) -> None:
    trusted = {_server_key(d) for d in _decls(original, ast.McpDecl)}
    servers = {d.name: _server_key(d) for d in _decls(original, ast.McpDecl)}
    trusted_tools = {
        (servers[t.server], t.target)
        for t in _decls(original, ast.ToolDecl)
        if t.server is not None and t.server in servers
    }
    edited_servers = {d.name: _server_key(d) for d in _decls(edited, ast.McpDecl)}
    for decl in _decls(edited, ast.McpDecl):
        if _server_key(decl) in trusted:
            continue
        sink.report(
            codes.UNTRUSTED_MCP_SERVER,
            f"the edit declares MCP server `{decl.name}` as {decl.address!r}"
            + (" with parameters" if decl.params else "")
            + ", which no MCP server of the program is",
            notes=("an MCP server is a command the run starts, or a URL it sends calls to",),
            hints=(
                "an edit may only re-use the MCP servers the program declares, with the "
                "same address, environment, folder and headers",
            ),
        )
    for tool in _decls(edited, ast.ToolDecl):
        if tool.server is None:
            continue
        key = edited_servers.get(tool.server)
        if key is None or key not in trusted or (key, tool.target) in trusted_tools:
            continue  # (an unknown server: the checker says so; a new one: said above)
        sink.report(
            codes.UNTRUSTED_MCP_SERVER,
            f"the edit declares tool `{tool.name}` as `{tool.target}` of MCP server "
            f"`{tool.server}`, which the program does not call",
            notes=("a tool of an MCP server runs whatever that tool does",),
            hints=("an edit may only re-use the tools of its MCP servers the program declares",),
        )


def _server_key(decl: ast.McpDecl) -> tuple[str, tuple[tuple[str, str], ...]]:
    return decl.address, tuple(
        sorted(
            (p.name, repr(ast.constant_value(p.value)))
            for p in decl.params
            if p.name not in _MCP_REQUEST_PARAMETERS
        )
    )


def _connections(module: ast.Module) -> Iterator[tuple[str, str, str]]:
    """(model, parameter, value) for each model parameter that is not a request knob."""
    for model in _decls(module, ast.ModelDecl):
        for param in model.params:
            if param.name not in REQUEST_PARAMETERS:
                yield model.name, param.name, repr(ast.constant_value(param.value))


def _import_key(decl: ast.Import) -> tuple[bool, str]:
    return (True, _normal_path(decl.module)) if decl.is_path else (False, decl.module)


def _normal_path(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/"))


def _decls(module: ast.Module, kind: type[D]) -> Iterable[D]:
    return (d for d in module.decls if isinstance(d, kind))
