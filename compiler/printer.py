"""The canonical printer: AST → `.agent` source.

`to_source(node)` prints any node; a module prints as a whole file. The output is the
canonical form: one layout per program (two-space indents, one statement per line,
minimal parentheses), so `parse(to_source(ast)) == ast` and printing is idempotent.
With `trivia=True` (what `rolegraph fmt` uses) comments and blank lines are kept.

One `p_<Kind>` method per node kind: printing is a walk, not a chain of isinstance.

Longer than ~500 lines on purpose: one idea, one short method per node kind; split, a
reader would look across files for the kind they want.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import ast
from . import literals as lit

INDENT = "  "
MAX_WIDTH = 100
INLINE_BLOCK_WIDTH = 80

# Expression precedence: higher binds tighter.
_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _ATOM = 1, 2, 3, 4, 5, 6, 7
# Formula precedence.
_IMPLIES, _LOR, _LAND, _TEMPORAL, _UNARY, _LATOM = 1, 2, 3, 4, 5, 6
_LTL_BINARY_PREC = {
    "implies": _IMPLIES,
    "or": _LOR,
    "and": _LAND,
    "until": _TEMPORAL,
    "release": _TEMPORAL,
    "since": _TEMPORAL,
}
_LTL_BINARY_WORD = {
    "implies": "->",
    "or": "or",
    "and": "and",
    "until": "until",
    "release": "release",
    "since": "since",
}


@dataclass
class _Piece:
    """A printed statement: lines before it, its body, and its trailing comment."""

    before: list[str]
    body: list[str]
    trailing: str | None
    split: tuple[str, str] | None = None
    comment_column: int | None = None

    def lines(self) -> list[str]:
        out = [*self.before, *self.body]
        if self.trailing is not None:
            last = out[-1]
            width = max(self.comment_column or 0, len(last) + 2)
            out[-1] = last.ljust(width) + self.trailing
        return out


def _as_comment(text: str) -> str:
    return text if text.lstrip().startswith("//") else "// " + text.strip()


def to_source(node: ast.Node, *, trivia: bool = False) -> str:
    """The canonical source of `node` (a whole module, a declaration, an expression...)."""
    if isinstance(node, ast.Module):
        return Printer(trivia=trivia).module(node)
    if isinstance(node, ast.Statement):
        return "\n".join(Printer(trivia=trivia).statement(node, 0))
    if trivia:
        return Printer(trivia=True).inline(node)
    known = _INLINE.get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    text = Printer().inline(node)
    if len(_INLINE) >= _INLINE_MAX:
        _INLINE.clear()
    _INLINE[id(node)] = (node, text)
    return text


# id(node) → (the node, its `to_source`): an expression's or a type's text, by identity.
# The edit operators' sites and `apply` print the types of roles and records (to compare
# them) every time they are asked, and an edited program shares those declarations with
# the one it was made from. The entry holds the node (these are small), so an address
# is never reused while its entry lives; the table is emptied when full.
_INLINE: dict[int, tuple[ast.Node, str]] = {}
_INLINE_MAX = 4096


def declaration_source(decl: ast.Statement) -> str:
    """`to_source` of a module's top-level declaration, printed once while it lives (the
    lines `to_source` of the module prints for it, remembered)."""
    return "\n".join(Printer()._declaration(decl))


def fingerprint(node: ast.Node) -> str:
    """A stable hash of the canonical form: equal programs have equal fingerprints.

    Comments, blank lines and spans do not count.
    """
    return hashlib.sha256(to_source(node).encode("utf-8")).hexdigest()


# id(declaration) → (the declaration, weakly, its lines without trivia): see
# `Printer._declaration`
_PRINTED: dict[int, tuple[weakref.ref, list[str]]] = {}
_PRINTED_MAX = 4096


def _forget(key: int, _: object) -> None:
    _PRINTED.pop(key, None)


# id(statement) → (the statement, weakly, its depth, its piece without trivia): see
# `Printer._piece`
_PIECES: dict[int, tuple[weakref.ref, int, _Piece]] = {}


def _forget_piece(key: int, gone: object) -> None:
    known = _PIECES.get(key)
    if known is not None and known[0] is gone:  # (not a newer statement at that address)
        _PIECES.pop(key, None)  # (another thread may have emptied the table since)


# (a text, a depth) → its triple-quoted literal: a pure function of both, remembered
# because an edit that makes a prompt (a vote's, a revised role's) makes the same text
# again in every program it is applied to, and each is printed to be fingerprinted. Only
# texts of at most `_BLOCK_TEXT_MAX` characters are kept: the table then holds a few
# megabytes at most, also in a long-lived process that prints a new text at each change
# (the LSP's hovers and formatting, as a long prompt is typed).
_BLOCKS: dict[tuple[str, int], str] = {}
_BLOCKS_MAX = 512
_BLOCK_TEXT_MAX = 4096


def _text_block(text: str, depth: int) -> str:
    if len(text) > _BLOCK_TEXT_MAX:
        return lit.encode_block(text, INDENT * (depth + 1), INDENT * depth)
    key = (text, depth)
    known = _BLOCKS.get(key)
    if known is None:
        known = lit.encode_block(text, INDENT * (depth + 1), INDENT * depth)
        if len(_BLOCKS) >= _BLOCKS_MAX:
            _BLOCKS.clear()
        _BLOCKS[key] = known
    return known


# statement class → the `p_<Class>` method that prints it, looked up once per class
_STATEMENT_PRINTERS: dict[type, Callable[[Printer, Any, int], str]] = {}


def _statement_printer(cls: type) -> Callable[[Printer, Any, int], str]:
    method = _STATEMENT_PRINTERS.get(cls)
    if method is None:
        method = _STATEMENT_PRINTERS[cls] = getattr(Printer, f"p_{cls.__name__}")
    return method


class Printer:
    def __init__(self, *, trivia: bool = False):
        self.trivia = trivia

    # -- layout ------------------------------------------------------------------------------

    def module(self, module: ast.Module) -> str:
        out: list[str] = []
        previous: tuple[ast.Node, list[str]] | None = None
        for decl in module.decls:
            lines = self._declaration(decl)
            if previous is not None and self._blank_between(previous, decl, lines):
                out.append("")
            out.extend(lines)
            previous = (decl, lines)
        if self.trivia and module.end_comments:
            if out:
                out.append("")
            out.extend(self._comment_lines(module.end_comments, 0))
        return "\n".join(out) + "\n" if out else ""

    def _declaration(self, decl: ast.Statement) -> list[str]:
        """The lines of a top-level declaration. Without trivia they depend on nothing
        else, so they are remembered for the last declarations printed: an edited
        program shares most of its declarations with the one it was made from, and a
        search prints (fingerprints) every program it draws."""
        if self.trivia:
            return self.statement(decl, 0, blank=False)
        key = id(decl)
        known = _PRINTED.get(key)
        if known is not None and known[0]() is decl:
            return known[1]
        lines = self.statement(decl, 0, blank=False)
        if len(_PRINTED) >= _PRINTED_MAX:
            _PRINTED.clear()
        # (a weak reference: a declaration no longer used takes its lines with it)
        _PRINTED[key] = (weakref.ref(decl, partial(_forget, key)), lines)
        return lines

    def _blank_between(
        self, previous: tuple[ast.Node, list[str]], decl: ast.Node, lines: list[str]
    ) -> bool:
        before, before_lines = previous
        if self.trivia and getattr(decl, "blank_line_before", False):
            return True
        if type(before) is not type(decl):
            return True
        return len(before_lines) > 1 or len(lines) > 1

    def statement(self, node: ast.Statement, depth: int, *, blank: bool = True) -> list[str]:
        """The lines of a statement with its comments, indented `depth` levels."""
        return self._piece(node, depth, blank=blank).lines()

    def _piece(
        self, node: ast.Statement, depth: int, *, blank: bool, annotation_column: int | None = None
    ) -> _Piece:
        """A statement's lines, indented `depth` levels. Without trivia and alignment
        they depend on the statement and the depth alone, so they are remembered: an
        edited agent shares most of its statements with the one it was made from (its
        nodes, edges, loops), and a search prints every program it draws. The piece is
        shared: without trivia, nothing changes a piece after it is made (a comment
        column is set only on a piece with a trailing comment)."""
        if self.trivia or annotation_column is not None:
            return self._new_piece(node, depth, blank, annotation_column)
        key = id(node)
        known = _PIECES.get(key)
        if known is not None and known[1] == depth and known[0]() is node:
            return known[2]
        piece = self._new_piece(node, depth, blank, None)
        if len(_PIECES) >= _PRINTED_MAX:
            _PIECES.clear()
        _PIECES[key] = (weakref.ref(node, partial(_forget_piece, key)), depth, piece)
        return piece

    def _new_piece(
        self, node: ast.Statement, depth: int, blank: bool, annotation_column: int | None
    ) -> _Piece:
        pad = INDENT * depth
        before: list[str] = []
        if self.trivia:
            if blank and node.blank_line_before:
                before.append("")
            before.extend(self._comment_lines(node.comments, depth))
        split = self._annotated(node)
        if split is not None and annotation_column is not None:
            head, annotations = split
            body = [pad + head.ljust(annotation_column) + annotations]
        else:
            text = _statement_printer(type(node))(self, node, depth)
            first, *rest = text.split("\n")
            body = [pad + first, *rest]
        trailing = None
        if self.trivia and node.trailing_comment is not None:
            trailing = _as_comment(node.trailing_comment.replace("\n", " "))
        return _Piece(before, body, trailing, split)

    def _comment_lines(self, comments: tuple[str, ...], depth: int) -> list[str]:
        pad = INDENT * depth
        lines: list[str] = []
        for comment in comments:
            for part in comment.split("\n"):
                lines.append(pad + _as_comment(part) if part.strip() else "")
        return lines

    def _annotated(self, node: ast.Statement) -> tuple[str, str] | None:
        """A field or enum member with annotations, split for alignment: (head, `@...`)."""
        if isinstance(node, ast.FieldDecl) and node.annotations:
            head = f"{node.name}: {self.type(node.type)}"
            if node.default is not None:
                head += f" = {self.expr(node.default)}"
            return head, " ".join(self.p_Annotation(a) for a in node.annotations)
        if isinstance(node, ast.EnumMember) and node.annotations:
            return node.name, " ".join(self.p_Annotation(a) for a in node.annotations)
        return None

    def block(
        self,
        header: str,
        items: Sequence[ast.Statement],
        depth: int,
        end_comments: tuple[str, ...] = (),
    ) -> str:
        """`header {`, the items one per line, `}`.

        Within a run of consecutive one-line items, annotations (`@desc`) and trailing
        comments are aligned in columns, as gofmt aligns them.
        """
        pieces = [self._piece(item, depth + 1, blank=i > 0) for i, item in enumerate(items)]
        for run in self._runs(pieces):
            annotated = [i for i in run if pieces[i].split is not None]
            if annotated:
                column = max(len(pieces[i].split[0]) for i in annotated) + 2  # type: ignore[index]
                for i in annotated:
                    pieces[i] = self._piece(
                        items[i], depth + 1, blank=i > 0, annotation_column=column
                    )
            commented = [i for i in run if pieces[i].trailing is not None]
            if len(commented) > 1:
                column = max(len(pieces[i].body[-1]) for i in commented) + 2
                for i in commented:
                    pieces[i].comment_column = column
        inner = [line for piece in pieces for line in piece.lines()]
        if self.trivia and end_comments:
            inner.extend(self._comment_lines(end_comments, depth + 1))
        if not inner:
            return f"{header} {{}}"
        return "\n".join([f"{header} {{", *inner, INDENT * depth + "}"])

    @staticmethod
    def _runs(pieces: list[_Piece]) -> list[list[int]]:
        """Indexes of consecutive one-line pieces, split at comments and blank lines."""
        runs: list[list[int]] = []
        current: list[int] = []
        for index, piece in enumerate(pieces):
            if piece.before or len(piece.body) > 1:
                if current:
                    runs.append(current)
                current = []
            if len(piece.body) == 1:
                current.append(index)
        if current:
            runs.append(current)
        return runs

    def _has_comments(self, items: tuple[ast.Statement, ...], end: tuple[str, ...]) -> bool:
        if not self.trivia:
            return False
        return bool(end) or any(i.comments or i.trailing_comment for i in items)

    # -- declarations --------------------------------------------------------------------

    def p_Import(self, node: ast.Import, depth: int) -> str:
        module = lit.encode(node.module) if node.is_path else node.module
        if node.names:
            return f"from {module} import {', '.join(node.names)}"
        return f"import {module}" + (f" as {node.alias}" if node.alias else "")

    def p_ModelDecl(self, node: ast.ModelDecl, depth: int) -> str:
        header = f"model {node.name} = {lit.encode(node.provider)}"
        return self._with_params(header, node.params, depth, node.end_comments)

    def _with_params(
        self,
        header: str,
        params: tuple[ast.ModelParam, ...],
        depth: int,
        end_comments: tuple[str, ...] = (),
    ) -> str:
        if not params:
            return header
        if not self._has_comments(params, end_comments):
            inline = f"{header} {{ {', '.join(self.p_ModelParam(p, 0) for p in params)} }}"
            if len(INDENT * depth + inline) <= MAX_WIDTH:
                return inline
        return self.block(header, list(params), depth, end_comments)

    def p_ModelParam(self, node: ast.ModelParam, depth: int) -> str:
        return f"{node.name}: {self.expr(node.value)}"

    def p_TypeDecl(self, node: ast.TypeDecl, depth: int) -> str:
        header = f"type {node.name}"
        simple = all(f.default is None and not f.annotations for f in node.fields)
        if node.fields and simple and not self._has_comments(node.fields, node.end_comments):
            inline = f"{header} {{ {', '.join(self.p_FieldDecl(f, 0) for f in node.fields)} }}"
            if len(INDENT * depth + inline) <= INLINE_BLOCK_WIDTH:
                return inline
        return self.block(header, list(node.fields), depth, node.end_comments)

    def p_FieldDecl(self, node: ast.FieldDecl, depth: int) -> str:
        text = f"{node.name}: {self.type(node.type)}"
        if node.default is not None:
            text += f" = {self.expr(node.default)}"
        return text + "".join(" " + self.p_Annotation(a) for a in node.annotations)

    def p_Annotation(self, node: ast.Annotation) -> str:
        if not node.args:
            return f"@{node.name}"
        return f"@{node.name}({', '.join(self.expr(a) for a in node.args)})"

    def p_EnumDecl(self, node: ast.EnumDecl, depth: int) -> str:
        header = f"enum {node.name}"
        simple = all(not m.annotations for m in node.members)
        if simple and not self._has_comments(node.members, node.end_comments):
            inline = f"{header} {{ {', '.join(m.name for m in node.members)} }}"
            if len(INDENT * depth + inline) <= INLINE_BLOCK_WIDTH:
                return inline
        return self.block(header, list(node.members), depth, node.end_comments)

    def p_EnumMember(self, node: ast.EnumMember, depth: int) -> str:
        return node.name + "".join(" " + self.p_Annotation(a) for a in node.annotations)

    def params(self, params: tuple[ast.Param, ...], prefix: str, suffix: str, depth: int) -> str:
        items = [self.param(p) for p in params]
        one_line = f"{prefix}({', '.join(items)}){suffix}"
        if len(INDENT * depth + one_line.split("\n")[0]) <= MAX_WIDTH or not items:
            return one_line
        pad = INDENT * (depth + 1)
        inner = "\n".join(f"{pad}{item}," for item in items)
        return f"{prefix}(\n{inner}\n{INDENT * depth}){suffix}"

    def param(self, node: ast.Param) -> str:
        text = f"{node.name}: {self.type(node.type)}"
        return text + (f" = {self.expr(node.default)}" if node.default is not None else "")

    def p_RoleDecl(self, node: ast.RoleDecl, depth: int) -> str:
        header = self.params(
            node.params, f"role {node.name}", f" -> {self.type(node.returns)}", depth
        )
        items = [i for i in (node.model, node.system, node.prompt, node.tools) if i is not None]
        return self.block(header, items, depth, node.end_comments)

    def p_ModelUse(self, node: ast.ModelUse, depth: int) -> str:
        return self._with_params(f"model {node.name}", node.params, depth)

    def p_System(self, node: ast.System, depth: int) -> str:
        return f"system {self._text(node.text, depth)}"

    def p_Prompt(self, node: ast.Prompt, depth: int) -> str:
        return f"prompt {self._text(node.text, depth)}"

    def _text(self, text: str, depth: int) -> str:
        if "\n" in text:
            return _text_block(text, depth)
        return lit.encode(text)

    def p_ToolUse(self, node: ast.ToolUse, depth: int) -> str:
        text = f"tools [{', '.join(node.tools)}]"
        return text + (f" max {node.max_steps}" if node.max_steps is not None else "")

    def p_ToolDecl(self, node: ast.ToolDecl, depth: int) -> str:
        if node.server is None:
            target = lit.encode(node.target)
        elif ast.is_identifier(node.target):
            target = f"{node.server}.{node.target}"
        else:
            target = f"{node.server}[{lit.encode(node.target)}]"
        suffix = f" -> {self.type(node.returns)} = {target}"
        return self.params(node.params, f"tool {node.name}", suffix, depth)

    def p_HumanDecl(self, node: ast.HumanDecl, depth: int) -> str:
        header = self.params(
            node.params, f"human {node.name}", f" -> {self.type(node.returns)}", depth
        )
        items = [i for i in (node.prompt, node.deadline) if i is not None]
        return self.block(header, items, depth, node.end_comments)

    def p_Deadline(self, node: ast.Deadline, depth: int) -> str:
        return f"deadline {lit.encode(node.duration)}"

    def p_McpDecl(self, node: ast.McpDecl, depth: int) -> str:
        header = f"mcp {node.name} = {lit.encode(node.address)}"
        return self._with_params(header, node.params, depth, node.end_comments)

    def p_AgentDecl(self, node: ast.AgentDecl, depth: int) -> str:
        ct = [self.ct_param(p) for p in node.ct_params]
        suffix = f" -> {self.type(node.returns)}"
        prefix = f"agent {node.name}" + (f"[{', '.join(ct)}]" if ct else "")
        header = self.params(node.params, prefix, suffix, depth)
        if ct and len(INDENT * depth + header.split("\n")[0]) > MAX_WIDTH:
            # compile-time parameters one per line, like parameters that do not fit
            pad = INDENT * (depth + 1)
            lines = "\n".join(f"{pad}{c}," for c in ct)
            prefix = f"agent {node.name}[\n{lines}\n{INDENT * depth}]"
            header = self.params(node.params, prefix, suffix, depth)
        return self.block(header, list(node.body), depth, node.end_comments)

    def ct_param(self, node: ast.CtParam) -> str:
        kind = (
            self.role_sig(node.type) if isinstance(node.type, ast.RoleSig) else self.type(node.type)
        )
        text = f"{node.name}: {kind}"
        return text + (f" = {self.expr(node.default)}" if node.default is not None else "")

    def role_sig(self, node: ast.RoleSig) -> str:
        if node.params is None or node.returns is None:
            return "role"
        params = ", ".join(self.param(p) for p in node.params)
        return f"role({params}) -> {self.type(node.returns)}"

    # -- agent statements ----------------------------------------------------------------------

    def p_NodeDecl(self, node: ast.NodeDecl, depth: int) -> str:
        text = f"{node.name} = {node.role}"
        if node.ct_args:
            text += f"[{self.args(node.ct_args)}]"
        text += f"({self.args(node.args)})"
        if node.replicate is not None:
            text += f" x {node.replicate}"
        if node.map is not None:
            text += f" for {node.map.var} in {self.expr(node.map.source)} max {node.map.max}"
        return text

    def args(self, args: tuple[ast.Arg, ...]) -> str:
        return ", ".join(self.arg(a) for a in args)

    def arg(self, node: ast.Arg) -> str:
        value = self.expr(node.value)
        return f"{node.name}: {value}" if node.name is not None else value

    def p_EdgeDecl(self, node: ast.EdgeDecl, depth: int) -> str:
        match node.target:
            case ast.ReturnTarget(value=value):
                text = f"{node.source} -> return({self.expr(value)})"
            case ast.NodeTarget(node=target, ports=()):
                text = f"{node.source} -> {target}"
            case ast.NodeTarget(node=target, ports=ports):
                text = f"{node.source} -> {target}({self.args(ports)})"
        match node.condition:
            case ast.When(guard=guard):
                text += f" when {self.expr(guard)}"
            case ast.Else():
                text += " else"
            case ast.OnError():
                text += " on error"
        if node.max is not None:
            text += f" max {node.max}"
        return text

    def p_ReturnStmt(self, node: ast.ReturnStmt, depth: int) -> str:
        return f"return {self.expr(node.value)}"

    def p_Constraint(self, node: ast.Constraint, depth: int) -> str:
        return f"{node.mode} {self.formula(node.formula)}"

    def p_TestDecl(self, node: ast.TestDecl, depth: int) -> str:
        return self.block(f"test {node.name}", list(node.body), depth, node.end_comments)

    def p_TestRun(self, node: ast.TestRun, depth: int) -> str:
        return f"run {node.agent}({', '.join(self.arg(a) for a in node.args)})"

    def p_TestMock(self, node: ast.TestMock, depth: int) -> str:
        return f"mock {node.role} {self.expr(node.replies)}"

    def p_TestExpect(self, node: ast.TestExpect, depth: int) -> str:
        return f"expect {self.formula(node.formula)}"

    # -- type expressions ------------------------------------------------------------------

    def type(self, node: ast.Node) -> str:
        match node:
            case ast.NamedType(name=name):
                return name
            case ast.ListType(item=item):
                return f"list[{self.type(item)}]"
            case ast.DictType(key=key, value=value):
                return f"dict[{self.type(key)}, {self.type(value)}]"
            case ast.OptionalType(inner=inner):
                return f"{self.type(inner)}?"
        raise TypeError(f"not a type expression: {type(node).__name__}")

    # -- expressions ------------------------------------------------------------------------

    def expr(self, node: ast.Node, min_prec: int = 0) -> str:
        text, prec = self._expr(node)
        return f"({text})" if prec < min_prec else text

    def _expr(self, node: ast.Node) -> tuple[str, int]:
        match node:
            case ast.BoolOp(op=op, left=left, right=right):
                prec = _OR if op == "or" else _AND
                return f"{self.expr(left, prec)} {op} {self.expr(right, prec + 1)}", prec
            case ast.Not(operand=operand):
                return f"not {self.expr(operand, _NOT)}", _NOT
            case ast.Compare(op=op, left=left, right=right):
                return f"{self.expr(left, _SUM)} {op} {self.expr(right, _SUM)}", _COMPARE
            case ast.Arith(op=op, left=left, right=right):
                # left-associative: the right side binds tighter
                prec = _SUM if op in "+-" else _PRODUCT
                return f"{self.expr(left, prec)} {op} {self.expr(right, prec + 1)}", prec
        return self.atom(node), _ATOM

    def atom(self, node: ast.Node) -> str:
        match node:
            case ast.StringLit(value=value):
                return lit.encode(value)
            case ast.BoolLit(value=value):
                return "true" if value else "false"
            case ast.IntLit(value=value):
                return str(value)
            case ast.FloatLit(value=value):
                return repr(value)
            case ast.NullLit():
                return "none"
            case ast.Ref(parts=parts):
                return ".".join(parts)
            case ast.ListLit(items=items):
                return f"[{', '.join(self.expr(i) for i in items)}]"
            case ast.DictLit(entries=entries):
                pairs = ", ".join(f"{self._key(e.key)}: {self.expr(e.value)}" for e in entries)
                return f"{{{pairs}}}"
            case ast.Call(func=func, args=args):
                return f"{func}({', '.join(self.expr(a) for a in args)})"
        raise TypeError(f"not an expression: {type(node).__name__}")

    @staticmethod
    def _key(key: str) -> str:
        return key if ast.is_identifier(key) else lit.encode(key)

    # -- formulas ----------------------------------------------------------------------------

    def formula(self, node: ast.Node, min_prec: int = 0) -> str:
        text, prec = self._formula(node)
        return f"({text})" if prec < min_prec else text

    def _formula(self, node: ast.Node) -> tuple[str, int]:
        match node:
            case ast.LtlBinary(op=op, left=left, right=right):
                prec = _LTL_BINARY_PREC[op]
                right_assoc = op in ("implies", "until", "release", "since")
                left_text = self.formula(left, prec + 1 if right_assoc else prec)
                right_text = self.formula(right, prec if right_assoc else prec + 1)
                return f"{left_text} {_LTL_BINARY_WORD[op]} {right_text}", prec
            case ast.LtlUnary(op=op, operand=operand):
                text, prec = self._formula(operand)
                if prec < _UNARY:
                    return f"{op}({text})", _UNARY
                return f"{op} {text}", _UNARY
            case ast.LtlConst(value=value):
                return ("true" if value else "false"), _LATOM
            case ast.LtlStart():
                return "start", _LATOM
            case ast.LtlReturn():
                return "return", _LATOM
            case ast.LtlFired(node=name, failed=failed):
                return (f"failed({name})" if failed else name), _LATOM
            case ast.LtlHolds(expr=expr):
                return self.expr(expr), _LATOM
        raise TypeError(f"not a formula: {type(node).__name__}")

    # -- anything ------------------------------------------------------------------------------

    def inline(self, node: ast.Node) -> str:
        """Print a node that is not a statement (an expression, a type, a formula...)."""
        match node:
            case ast.Param():
                return self.param(node)
            case ast.Arg():
                return self.arg(node)
            case ast.Annotation():
                return self.p_Annotation(node)
            case ast.CtParam():
                return self.ct_param(node)
            case ast.RoleSig():
                return self.role_sig(node)
            case ast.NamedType() | ast.ListType() | ast.DictType() | ast.OptionalType():
                return self.type(node)
            case (
                ast.LtlConst()
                | ast.LtlStart()
                | ast.LtlReturn()
                | ast.LtlFired()
                | ast.LtlHolds()
                | ast.LtlUnary()
                | ast.LtlBinary()
            ):
                return self.formula(node)
        return self.expr(node)
