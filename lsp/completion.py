"""Completion: what may be written at the cursor, read from the words before it.

The text at the cursor rarely parses (`critic.` is half a reference), so the context
comes from the scanner: the declaration the cursor is in (the last line before it that
starts a declaration), and the last few tokens. Names come from the last analysis that
parsed: the declarations in scope, an agent's nodes and parameters, the fields of the
value before a `.` (in a reference, and inside a prompt's `{{ }}`), edge targets after
`->`, callables after `=`, types after `:`, and keywords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from rolegraph.compiler import ast
from rolegraph.compiler.resolve import ModuleInfo, Program, Symbol

from .analysis import Analysis
from .hover import signature
from .symbols import Resolver, TypeRef
from .tokens import Token, Tokens, string_body

_DECL_LINE = re.compile(r"^(?:import|from|model|type|enum|role|tool|agent|test)\b.*$", re.MULTILINE)
_HEADER = re.compile(r"(import|from|model|type|enum|role|tool|agent|test)\s+([A-Za-z_]\w*)?")

DECLARATION_KEYWORDS = (
    "import",
    "from",
    "model",
    "mcp",
    "type",
    "enum",
    "role",
    "tool",
    "human",
    "agent",
    "test",
)
ROLE_KEYWORDS = ("model", "system", "prompt", "tools")
AGENT_KEYWORDS = (
    "when",
    "else",
    "max",
    "on error",
    "return",
    "ensure",
    "enforce",
    "for",
    "in",
    "not",
    "and",
    "or",
    "true",
    "false",
    "none",
)
LTL_KEYWORDS = (
    "always",
    "eventually",
    "next",
    "wnext",
    "once",
    "historically",
    "yesterday",
    "until",
    "release",
    "since",
    "start",
    "return",
    "not",
    "and",
    "or",
    "true",
    "false",
)
TEST_KEYWORDS = ("run", "mock", "expect")
BUILTIN_TYPES = ("str", "int", "float", "bool", "list", "dict")

_KIND = {
    "role": types.CompletionItemKind.Function,
    "tool": types.CompletionItemKind.Function,
    "human": types.CompletionItemKind.Function,
    "agent": types.CompletionItemKind.Class,
    "type": types.CompletionItemKind.Struct,
    "enum": types.CompletionItemKind.Enum,
    "model": types.CompletionItemKind.Constant,
    "field": types.CompletionItemKind.Field,
    "member": types.CompletionItemKind.EnumMember,
    "param": types.CompletionItemKind.Variable,
    "node": types.CompletionItemKind.Variable,
    "module": types.CompletionItemKind.Module,
    "keyword": types.CompletionItemKind.Keyword,
}


@dataclass(frozen=True)
class _Context:
    kind: str  # the declaration the cursor is in ("" at the top level)
    name: str  # its name
    tokens: list[Token]  # of that declaration, up to the cursor
    in_body: bool  # after the declaration's `{`


def complete(text: str, offset: int, analysis: Analysis | None) -> list[types.CompletionItem]:
    """The completions at `offset` of `text` (the document as it is now), with names
    from `analysis` (the last one that parsed)."""
    context = _context(text, offset)
    program = analysis.checked.program if analysis is not None and analysis.checked else None
    last = context.tokens[-1] if context.tokens else None
    if last is not None and last.kind == "comment" and last.end >= offset:
        return []
    if last is not None and last.kind == "string" and _inside(last, offset):
        return _in_template(text, last, offset, context, program)
    words = context.tokens
    if words and words[-1].kind == "name" and words[-1].end == offset:
        words = words[:-1]  # the word being typed
    if program is None:
        return _keywords(context)
    completer = _Completer(program, context)
    if words and words[-1].text == ".":
        return completer.after_dot(_chain_before(words[:-1]))
    previous = words[-1] if words else None
    if previous is None:
        return _keywords(context)
    if previous.kind == "arrow":
        return (
            completer.after_arrow()
            if context.in_body
            else completer.declarations(("type", "enum"), BUILTIN_TYPES)
        )
    if previous.text == "=" and context.kind == "agent" and context.in_body:
        callees = ("role", "agent", "tool", "human")
        return completer.declarations(callees, ()) + completer.role_parameters()
    if previous.text == ":":
        if context.in_body and context.kind == "agent":
            return completer.values()
        return completer.declarations(("type", "enum"), BUILTIN_TYPES)
    if previous.text == "model" and context.kind == "role":
        return completer.declarations(("model",), ())
    if previous.text in ("[", ",") and context.kind == "role" and _in_tools(words):
        return completer.declarations(("tool",), ())
    if previous.text in ("run",) and context.kind == "test":
        return completer.declarations(("agent",), ())
    if previous.text in ("mock",) and context.kind == "test":
        return completer.declarations(("role",), ())
    if previous.text in ("ensure", "enforce", "expect") or _in_formula(words):
        return completer.values() + _items(LTL_KEYWORDS, "keyword")
    if context.kind == "agent" and context.in_body:
        return (
            completer.values()
            + completer.declarations(("enum",), ())
            + _items(AGENT_KEYWORDS, "keyword")
        )
    return _keywords(context)


def _context(text: str, offset: int) -> _Context:
    start = 0
    for match in _DECL_LINE.finditer(text, 0, offset):
        start = match.start()
    chunk = Tokens(text[start:offset])
    tokens = [Token(t.kind, t.text, t.start + start, t.end + start) for t in chunk.items]
    header = _HEADER.match(text, start)
    if header is None or start == offset:
        return _Context("", "", tokens, False)
    depth = 0
    in_body = False
    for token in tokens:
        if token.text == "{":
            depth += 1
            in_body = in_body or depth == 1
        elif token.text == "}":
            depth -= 1
            if depth == 0:
                return _Context("", "", [], False)  # after the declaration's end
    return _Context(header.group(1), header.group(2) or "", tokens, in_body)


def _inside(token: Token, offset: int) -> bool:
    start, end = string_body(token)
    return start <= offset <= end


def _chain_before(tokens: list[Token]) -> list[str]:
    """`critic.review` in `critic.review.` (the `.` already removed)."""
    chain: list[str] = []
    while tokens and tokens[-1].kind == "name":
        chain.insert(0, tokens[-1].text)
        tokens = tokens[:-1]
        if not (tokens and tokens[-1].text == "."):
            break
        tokens = tokens[:-1]
    return chain


def _in_tools(tokens: list[Token]) -> bool:
    for token in reversed(tokens):
        if token.text == "[":
            return any(t.text == "tools" for t in tokens[-8:])
        if token.text in ("]", "{", "}"):
            return False
    return False


def _in_formula(tokens: list[Token]) -> bool:
    """Whether the statement the cursor is in is a constraint or an expectation."""
    for token in reversed(tokens[-40:]):
        if token.text in ("ensure", "enforce", "expect"):
            return True
        if token.text in ("=", "{", "}"):
            return False
    return False


def _in_template(
    text: str, string: Token, offset: int, context: _Context, program: Program | None
) -> list[types.CompletionItem]:
    """Inside a prompt's `{{ ... }}` or `{% ... %}`: the role's parameters, or the
    fields of the one before a `.`."""
    start, _ = string_body(string)
    before = text[start:offset]
    opened = max(before.rfind("{{"), before.rfind("{%"))
    if opened < 0 or max(before.rfind("}}"), before.rfind("%}")) > opened:
        return []
    if program is None or context.kind != "role":
        return []
    role = program.main.names.get(context.name)
    if role is None:
        return []
    resolver = Resolver(program)
    params = resolver.params(role)
    chain = re.search(r"([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\.\s*\w*$", before[opened:])
    if chain is None:
        return [_item(name, "param", _type_text(ref)) for name, (_, ref) in params.items()]
    names = [n.strip() for n in chain.group(1).split(".")]
    if names[0] not in params:
        return []
    return _fields_of(resolver, params[names[0]][1], names[1:])


def _fields_of(
    resolver: Resolver, ref: TypeRef | None, path: list[str]
) -> list[types.CompletionItem]:
    chain = resolver.field_chain(ref, path)
    if len(chain) != len(path):
        return []
    current = chain[-1][1] if chain else ref
    record = resolver.record(current)
    if record is None or record.kind != "type":
        return []
    return [
        _item(name, "field", _type_text(field_ref))
        for name, (_, field_ref, _) in resolver.fields(record).items()
    ]


class _Completer:
    def __init__(self, program: Program, context: _Context):
        self.program = program
        self.main: ModuleInfo = program.main
        self.resolver = Resolver(program)
        self.context = context
        symbol = self.main.names.get(context.name)
        self.owner: Symbol | None = (
            symbol if symbol is not None and symbol.kind == context.kind else None
        )
        if context.kind == "test":
            self.owner = self._tested_agent()

    def _tested_agent(self) -> Symbol | None:
        words = self.context.tokens
        for i, token in enumerate(words[:-1]):
            if token.text == "run":
                return self.resolver.lookup(words[i + 1].text)
        return None

    def declarations(
        self, kinds: tuple[str, ...], extra: tuple[str, ...]
    ) -> list[types.CompletionItem]:
        items = [_item(word, "keyword" if word in ("list", "dict") else "type") for word in extra]
        for name, symbol in self.main.visible().items():
            if symbol.kind in kinds:
                items.append(_item(name, symbol.kind, _detail(symbol)))
        for alias, info in self.main.namespaces.items():
            for name, symbol in info.names.items():
                if symbol.kind in kinds:
                    items.append(_item(f"{alias}.{name}", symbol.kind, _detail(symbol)))
        return items

    def role_parameters(self) -> list[types.CompletionItem]:
        decl = self.owner.decl if self.owner is not None else None
        if not isinstance(decl, ast.AgentDecl):
            return []
        return [
            _item(ct.name, "role", "role parameter")
            for ct in decl.ct_params
            if isinstance(ct.type, ast.RoleSig)
        ]

    def scope(self) -> dict[str, tuple[str, TypeRef | None, str]]:
        """The values an expression of the owner can read: (kind, type, detail)."""
        found: dict[str, tuple[str, TypeRef | None, str]] = {}
        owner = self.owner
        if owner is None or not isinstance(owner.decl, ast.AgentDecl):
            return found
        for name, (_, ref) in self.resolver.params(owner).items():
            found[name] = ("param", ref, _type_text(ref))
        for ct in owner.decl.ct_params:
            if not isinstance(ct.type, ast.RoleSig):
                found[ct.name] = (
                    "param",
                    (ct.type, owner.module),
                    _type_text((ct.type, owner.module)),
                )
        for node in owner.decl.nodes:
            output = self.resolver.output(owner, node)
            found[node.name] = ("node", output, f"node: {node.role}")
        return found

    def values(self) -> list[types.CompletionItem]:
        return [_item(name, kind, detail) for name, (kind, _, detail) in self.scope().items()]

    def after_arrow(self) -> list[types.CompletionItem]:
        nodes = [
            _item(name, kind, detail)
            for name, (kind, _, detail) in self.scope().items()
            if kind == "node"
        ]
        return [*nodes, _item("return", "keyword", "end the run with a value: return(expr)")]

    def after_dot(self, chain: list[str]) -> list[types.CompletionItem]:
        if not chain:
            return []
        scope = self.scope()
        head = chain[0]
        if head in scope:
            if scope[head][0] == "node" and len(chain) == 1:
                fields = _fields_of(self.resolver, scope[head][1], [])
                return [*fields, _item("error", "field", "str: why the firing failed (on error)")]
            return _fields_of(self.resolver, scope[head][1], chain[1:])
        if head in self.main.namespaces and len(chain) == 1:
            info = self.main.namespaces[head]
            return [_item(name, s.kind, _detail(s)) for name, s in info.names.items()]
        symbol = self.resolver.lookup(".".join(chain))
        if symbol is not None and symbol.kind == "enum":
            return [_item(name, "member", symbol.name) for name in self.resolver.fields(symbol)]
        return []


def _keywords(context: _Context) -> list[types.CompletionItem]:
    if context.kind == "role" and context.in_body:
        return _items(ROLE_KEYWORDS, "keyword")
    if context.kind == "test" and context.in_body:
        return _items(TEST_KEYWORDS, "keyword")
    if context.kind == "agent" and context.in_body:
        return _items(AGENT_KEYWORDS, "keyword")
    return _items(DECLARATION_KEYWORDS, "keyword")


def _items(words: tuple[str, ...], kind: str) -> list[types.CompletionItem]:
    return [_item(word, kind) for word in words]


def _item(label: str, kind: str, detail: str = "") -> types.CompletionItem:
    return types.CompletionItem(label=label, kind=_KIND.get(kind), detail=detail or None)


def _type_text(ref: TypeRef | None) -> str:
    from rolegraph.compiler.printer import to_source

    return to_source(ref[0]) if ref is not None else ""


def _detail(symbol: Symbol) -> str:
    if symbol.kind in ("role", "agent", "tool", "human"):
        return signature(symbol.decl).splitlines()[0]
    return symbol.kind
