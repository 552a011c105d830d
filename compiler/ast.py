"""The abstract syntax tree of rolegraph: immutable pydantic models.

The AST is the API that the compiler, the printer and the optimizers share:

- nodes are frozen; `node.with_changes(field=...)` returns a new, validated node;
- *trivia* (source spans, comments, blank lines) never take part in equality or
  hashing, so `parse(print(ast)) == ast` compares programs, not layouts;
- `walk()`, `find_all(NodeDecl)`, `transform(fn)` work on every node, once, here.

Names are validated: a node can only hold a name that the printer can write and the
parser can read back, so a tree built in Python is always printable.

Longer than ~500 lines: the node classes of the whole language, one small class each;
the walks are compiler/visit.py's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from itertools import compress, repeat
from operator import is_
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from .identity import IdentityTable
from .source import Span

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

# --- the lexical vocabulary ------------------------------------------------------------

#: Reserved words. They cannot name declarations, nodes or parameters; record fields
#: and enum members may use them (`type Job { type: str }`).
# fmt: off
KEYWORDS: frozenset[str] = frozenset({
    "import", "from", "as", "model", "type", "enum", "role", "tool", "tools", "agent",
    "system", "prompt", "when", "else", "max", "for", "in", "return", "ensure", "enforce",
    "not", "and", "or", "true", "false", "none", "start",
    "next", "wnext", "eventually", "always", "until", "release", "once", "historically",
    "since", "yesterday",
})
# fmt: on

#: The letter forms of the temporal operators. Inside a formula they are operators,
#: so they cannot name nodes (a formula could not refer to such a node).
LTL_LETTERS: frozenset[str] = frozenset({"X", "WX", "F", "G", "U", "R", "O", "H", "S", "Y"})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_identifier(text: str) -> bool:
    return bool(_IDENTIFIER.match(text))


def _check_name(value: str) -> str:
    if not is_identifier(value):
        raise ValueError(f"{value!r} is not an identifier")
    if value in KEYWORDS:
        raise ValueError(f"{value!r} is a keyword")
    return value


def _check_function_name(value: str) -> str:
    # `max` is a keyword (bounds: `max 3`) and a built-in function: the grammar has a
    # rule for `max(...)`; no other keyword can be called
    return value if value == "max" else _check_name(value)


def _check_field_name(value: str) -> str:
    if not is_identifier(value):
        raise ValueError(f"{value!r} is not an identifier")
    return value


def _check_qualified(value: str) -> str:
    for part in value.split("."):
        _check_name(part)
    return value


def _check_node_name(value: str) -> str:
    _check_name(value)
    if value in LTL_LETTERS:
        raise ValueError(f"{value!r} is a temporal operator and cannot name a node")
    return value


def _check_bound(value: int) -> int:
    if value < 1:
        raise ValueError("a bound must be at least 1")
    return value


def _check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("a float literal must be finite")
    return value


#: A declaration, node, parameter or argument name: an identifier that is not a keyword.
Name = Annotated[str, AfterValidator(_check_name)]
#: A record field or enum member: any identifier, keywords included.
FieldName = Annotated[str, AfterValidator(_check_field_name)]
FunctionName = Annotated[str, AfterValidator(_check_function_name)]
#: A possibly qualified reference to a declaration: `Writer`, `patterns.Debate`.
QualifiedName = Annotated[str, AfterValidator(_check_qualified)]
NodeName = Annotated[str, AfterValidator(_check_node_name)]
Bound = Annotated[StrictInt, AfterValidator(_check_bound)]
#: A bound (`x 3`, `max 3`), or the name of an `int` compile-time constant of the pattern
#: it stands in (`x n`, `max rounds`), replaced by its value where the pattern is used.
BoundExpr = Annotated[StrictInt, AfterValidator(_check_bound)] | Name

#: Fields that describe layout, not meaning: excluded from ==, hash and fingerprints.
TRIVIA: frozenset[str] = frozenset(
    {"span", "comments", "trailing_comment", "blank_line_before", "end_comments", "filename"}
)

N = TypeVar("N", bound="Node")

# (class, field) → the node classes a tuple field holds, or None: see `_holds_nodes`
_TUPLE_ITEMS: dict[tuple[type, str], frozenset[type] | None] = {}


def _holds_nodes(cls: type[Node], name: str, value: Any) -> bool:
    """Whether `value` is a tuple of nodes of the classes field `name` of `cls` holds, in
    a class whose validation checks nothing else of it (no model validator)."""
    if type(value) is not tuple:
        return False
    key = (cls, name)
    if key not in _TUPLE_ITEMS:
        _TUPLE_ITEMS[key] = _tuple_item_classes(cls, name)
    classes = _TUPLE_ITEMS[key]
    return classes is not None and all(type(item) in classes for item in value)


def holds_nodes(node: Node, name: str, value: tuple[Any, ...]) -> bool:
    """Whether `node.with_changes(**{name: value})` copies `node` without validating (a
    tuple of nodes of the classes the field holds, read by no validator)."""
    return _holds_nodes(type(node), name, value)


def _validator_reads(cls: type[Node], name: str) -> bool:
    """Whether a model validator of `cls` may read field `name`, or a field validator
    validates it."""
    decorators = cls.__pydantic_decorators__
    if any(
        name in v.info.fields or "*" in v.info.fields for v in decorators.field_validators.values()
    ):
        return True
    reads = cls._validator_reads
    return bool(decorators.model_validators) and (reads is None or name in reads)


def _tuple_item_classes(cls: type[Node], name: str) -> frozenset[type] | None:
    """The node classes of a field annotated `tuple[A | B | ..., ...]` (a discriminated
    union at most: no validator), when `cls` has no model validator that reads the
    field; else None."""
    import types
    import typing

    from pydantic.fields import FieldInfo

    field = cls.model_fields.get(name)
    if field is None or field.metadata or _validator_reads(cls, name):
        return None
    annotation = field.annotation
    if typing.get_origin(annotation) is not tuple:
        return None
    args = typing.get_args(annotation)
    if len(args) != 2 or args[1] is not Ellipsis:
        return None
    item = args[0]
    if typing.get_origin(item) is Annotated:
        item, *metadata = typing.get_args(item)
        if not all(isinstance(m, FieldInfo) and not m.metadata for m in metadata):
            return None
    members = (
        typing.get_args(item)
        if typing.get_origin(item) in (typing.Union, types.UnionType)
        else (item,)
    )
    if not all(isinstance(m, type) and issubclass(m, Node) for m in members):
        return None
    return frozenset(members)


# node class → the names of its fields that may hold nodes (see `node_fields`)
_NODE_FIELDS: dict[type, tuple[str, ...]] = {}


def node_fields(cls: type[Node]) -> tuple[str, ...]:
    """The semantic fields of `cls` that may hold nodes (a node, a tuple of nodes, or
    None), in field order: the fields a walk looks into. Computed once per class."""
    try:
        return _NODE_FIELDS[cls]
    except KeyError:
        pass
    fields = tuple(
        name for name in cls._semantic_fields if _may_hold_nodes(cls.model_fields[name].annotation)
    )
    _NODE_FIELDS[cls] = fields
    return fields


def _may_hold_nodes(annotation: Any) -> bool:
    import typing

    if typing.get_origin(annotation) is Literal:
        return False
    if isinstance(annotation, str | typing.ForwardRef):
        return True  # a forward reference (`Expr`, `tuple[Expr, ...]`) to node types
    if isinstance(annotation, type) and issubclass(annotation, Node):
        return True
    return any(_may_hold_nodes(arg) for arg in typing.get_args(annotation))


def child_nodes(node: Node) -> list[Node]:
    """The direct child nodes of `node`, in field order."""
    children: list[Node] = []
    for name in node_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, Node):
            children.append(value)
        elif type(value) is tuple:
            children.extend(item for item in value if isinstance(item, Node))
    return children


# every node class, in the order of definition (see `build_validators`)
_NODE_CLASSES: list[type[Node]] = []

# node class → its schema, kept by a former process: while `build_validators` runs
_KEPT_SCHEMAS: dict[type, Any] = {}


def build_validators(keep: str | None = None) -> None:
    """Build the validator of every node class now, in the order of definition.

    The classes defer building (`defer_build`): a program that never makes a node pays
    nothing. Left to build on first use, each class builds its own copy of the schemas
    of every class it holds that is not yet built (a discriminated union of dozens),
    ~1,900 model schemas for one small file; built in order of definition, each class
    reuses the built schemas of the classes before it (~60): a third of the time.

    `keep`: a folder where the schemas are kept across processes (compiler/kept_schemas.py;
    the parser's cache folder): pydantic builds the validators from them instead of
    generating them again."""
    if all(cls.__pydantic_complete__ for cls in _NODE_CLASSES):
        return
    path = kept = None
    if keep is not None:
        from . import kept_schemas

        path = kept_schemas.kept_file(keep, _NODE_CLASSES)
        kept = None if path is None else kept_schemas.load(path, _NODE_CLASSES)
    _KEPT_SCHEMAS.update(kept or {})
    try:
        for cls in _NODE_CLASSES:
            if not cls.__pydantic_complete__:
                cls.model_rebuild()
    finally:
        _KEPT_SCHEMAS.clear()
    if path is not None and kept is None:
        kept_schemas.save(path, {cls: cls.__pydantic_core_schema__ for cls in _NODE_CLASSES})


class Node(BaseModel):
    """Base of every AST node."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    span: Span | None = Field(default=None, repr=False)

    _semantic_fields: ClassVar[tuple[str, ...]] = ()
    #: The fields this class's model validator reads (None: any field). A change to
    #: other fields cannot make that validator fail: see `with_changes`.
    _validator_reads: ClassVar[frozenset[str] | None] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._semantic_fields = tuple(name for name in cls.model_fields if name not in TRIVIA)
        validators = cls.__pydantic_decorators__.model_validators
        if "_validator_reads" not in vars(cls) and any(name in vars(cls) for name in validators):
            cls._validator_reads = None  # (a validator of its own: its parent's reads are not its)
        _NODE_CLASSES.append(cls)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        # (pydantic's hook: the schema a former process kept, else the one it generates)
        kept = _KEPT_SCHEMAS.get(source)
        return kept if kept is not None else handler(source)

    # -- equality ignores trivia --------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other):
            return False
        return all(getattr(self, name) == getattr(other, name) for name in self._semantic_fields)

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(getattr(self, n) for n in self._semantic_fields)))

    def __str__(self) -> str:
        from .printer import to_source

        return to_source(self)

    # -- traversal ----------------------------------------------------------------------

    def children(self) -> Iterator[Node]:
        """The direct child nodes, in field order."""
        return iter(child_nodes(self))

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, depth first, in source order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            children = child_nodes(node)
            if children:
                stack.extend(reversed(children))

    def find_all(self, *types: type[N]) -> Iterator[N]:
        """Every descendant (self included) that is an instance of one of `types`.

        >>> [n.name for n in module.find_all(NodeDecl)]
        """
        for node in self.walk():
            if isinstance(node, types):
                yield node  # type: ignore[misc]

    def find(self, *types: type[N]) -> N | None:
        return next(self.find_all(*types), None)

    # -- rebuilding ---------------------------------------------------------------------

    def with_changes(self: N, **changes: Any) -> N:
        """A copy with some fields replaced, validated like a new node.

        >>> role.with_changes(prompt=Prompt(text="Answer briefly: {{ question }}"))

        (A change that puts nodes of the kinds a tuple field holds in it needs no
        validation: those nodes were validated when they were made, and are immutable,
        and the class's model validator, if any, does not read that field (its
        `_validator_reads`). Editors rebuild agents and modules that way, statement by
        statement.)
        """
        cls = type(self)
        if changes and all(_holds_nodes(cls, name, value) for name, value in changes.items()):
            return self.model_copy(update=changes)
        values = {name: getattr(self, name) for name in cls.model_fields}
        values.update(changes)
        return cls(**values)

    def transform(self, fn: Callable[[Node, Node], Node | None]) -> Node:
        """Rebuild the tree bottom-up, replacing each node by `fn(original, updated)`.

        `updated` is the node with its children already transformed (the same object
        when none changed), `original` the node before; `fn` returns the replacement,
        or None to keep `updated`. Nodes inside tuples may be removed by returning
        `REMOVE`. (`compiler.visit.Transformer` is the same walk with one method per
        node class.)

        >>> module.transform(lambda old, new: REMOVE if isinstance(new, EdgeDecl) else None)
        """
        from .visit import FunctionTransformer

        return FunctionTransformer(fn).transform(self)

    def strip_trivia(self: N) -> N:
        """The same tree without spans, comments and blank lines."""

        def strip(_: Node, node: Node) -> Node:
            trivia = {
                name: type(node).model_fields[name].default
                for name in type(node).model_fields
                if name in TRIVIA
            }
            return node.model_copy(update=trivia)

        return self.transform(strip)  # type: ignore[return-value]


class _Remove(Node):
    """The sentinel that `transform` callbacks return to delete a node from a tuple."""

    kind: Literal["_Remove"] = "_Remove"


REMOVE = _Remove()


class Statement(Node):
    """A node that stands on its own line(s) and so can carry comments."""

    comments: tuple[str, ...] = Field(default=(), repr=False)
    trailing_comment: str | None = Field(default=None, repr=False)
    blank_line_before: bool = Field(default=False, repr=False)


# --- expressions ------------------------------------------------------------------------


class StringLit(Node):
    kind: Literal["StringLit"] = "StringLit"
    value: str


class IntLit(Node):
    kind: Literal["IntLit"] = "IntLit"
    value: StrictInt


class FloatLit(Node):
    kind: Literal["FloatLit"] = "FloatLit"
    value: Annotated[float, AfterValidator(_check_finite)]


class BoolLit(Node):
    kind: Literal["BoolLit"] = "BoolLit"
    value: StrictBool


class NullLit(Node):
    kind: Literal["NullLit"] = "NullLit"


class Ref(Node):
    """A reference: an agent parameter, a node's output, a field path, an enum member.

    `critic.feedback` is `Ref(parts=("critic", "feedback"))`.
    """

    kind: Literal["Ref"] = "Ref"
    parts: tuple[FieldName, ...] = Field(min_length=1)

    @property
    def head(self) -> str:
        return self.parts[0]

    @classmethod
    def of(cls, dotted: str) -> Ref:
        return cls(parts=tuple(dotted.split(".")))

    _validator_reads = frozenset({"parts"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_name(self.parts[0])
        return self


class ListLit(Node):
    kind: Literal["ListLit"] = "ListLit"
    items: tuple[Expr, ...] = ()


class DictEntry(Node):
    kind: Literal["DictEntry"] = "DictEntry"
    key: str
    value: Expr


class DictLit(Node):
    kind: Literal["DictLit"] = "DictLit"
    entries: tuple[DictEntry, ...] = ()


CompareOp = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"]


class Compare(Node):
    kind: Literal["Compare"] = "Compare"
    op: CompareOp
    left: Expr
    right: Expr


class BoolOp(Node):
    kind: Literal["BoolOp"] = "BoolOp"
    op: Literal["and", "or"]
    left: Expr
    right: Expr


class Not(Node):
    kind: Literal["Not"] = "Not"
    operand: Expr


class Arith(Node):
    """Arithmetic, or joining strings or lists: `a + b`, `score * 2`, `total / n`."""

    kind: Literal["Arith"] = "Arith"
    op: Literal["+", "-", "*", "/", "%"]
    left: Expr
    right: Expr


class Call(Node):
    """A call of a built-in function inside an expression: `len(plan.steps)`."""

    kind: Literal["Call"] = "Call"
    func: FunctionName
    args: tuple[Expr, ...] = ()


Expr = Annotated[
    StringLit
    | IntLit
    | FloatLit
    | BoolLit
    | NullLit
    | Ref
    | ListLit
    | DictLit
    | Compare
    | BoolOp
    | Not
    | Arith
    | Call,
    Field(discriminator="kind"),
]

LITERAL_TYPES = (StringLit, IntLit, FloatLit, BoolLit, NullLit)


def is_constant(expr: Node) -> bool:
    """Literals, and lists and dicts of constants: what a default or a model parameter holds."""
    if isinstance(expr, LITERAL_TYPES):
        return True
    if isinstance(expr, ListLit):
        return all(is_constant(item) for item in expr.items)
    if isinstance(expr, DictLit):
        return all(is_constant(entry.value) for entry in expr.entries)
    return False


def constant_value(expr: Node | None) -> Any:
    """The Python value of a constant expression (literals, lists and dicts of them)."""
    if isinstance(expr, StringLit | IntLit | FloatLit | BoolLit):
        return expr.value
    if isinstance(expr, ListLit):
        return [constant_value(i) for i in expr.items]
    if isinstance(expr, DictLit):
        return {e.key: constant_value(e.value) for e in expr.entries}
    return None


def _check_constant(expr: Node) -> Node:
    if not is_constant(expr):
        raise ValueError("expected a constant: a literal, or a list or dict of constants")
    return expr


#: An expression that must be constant (defaults, model parameters, annotation arguments).
Const = Annotated[Expr, AfterValidator(_check_constant)]


# --- type expressions ---------------------------------------------------------------------


class NamedType(Node):
    """A built-in (`str`, `int`, `float`, `bool`), record or enum type, maybe qualified."""

    kind: Literal["NamedType"] = "NamedType"
    name: QualifiedName


class ListType(Node):
    kind: Literal["ListType"] = "ListType"
    item: TypeExpr


class DictType(Node):
    kind: Literal["DictType"] = "DictType"
    key: TypeExpr
    value: TypeExpr


class OptionalType(Node):
    kind: Literal["OptionalType"] = "OptionalType"
    inner: NamedType | ListType | DictType = Field(discriminator="kind")


TypeExpr = Annotated[NamedType | ListType | DictType | OptionalType, Field(discriminator="kind")]


# --- temporal formulas ------------------------------------------------------------------------


class LtlConst(Node):
    kind: Literal["LtlConst"] = "LtlConst"
    value: StrictBool


class LtlStart(Node):
    """`start`: holds at the first step of the trace."""

    kind: Literal["LtlStart"] = "LtlStart"


class LtlReturn(Node):
    """`return`: holds at the step where the run returns."""

    kind: Literal["LtlReturn"] = "LtlReturn"


class LtlFired(Node):
    """A node name: the node fired at this step (and succeeded or failed); with
    `failed`, written `failed(node)`: it fired at this step and failed."""

    kind: Literal["LtlFired"] = "LtlFired"
    node: NodeName
    failed: StrictBool = False


class LtlHolds(Node):
    """A condition on outputs at this step: `critic.ok`, `critic.score > 0.5`, `len(x) > 2`."""

    kind: Literal["LtlHolds"] = "LtlHolds"
    expr: Expr

    _validator_reads = frozenset({"expr"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_ltl_condition(self.expr)
        return self


UnaryLtlOp = Literal[
    "not", "next", "wnext", "eventually", "always", "once", "historically", "yesterday"
]
BinaryLtlOp = Literal["and", "or", "implies", "until", "release", "since"]


class LtlUnary(Node):
    kind: Literal["LtlUnary"] = "LtlUnary"
    op: UnaryLtlOp
    operand: Formula


class LtlBinary(Node):
    kind: Literal["LtlBinary"] = "LtlBinary"
    op: BinaryLtlOp
    left: Formula
    right: Formula


Formula = Annotated[
    LtlConst | LtlStart | LtlReturn | LtlFired | LtlHolds | LtlUnary | LtlBinary,
    Field(discriminator="kind"),
]


def _check_ltl_operand(expr: Node, *, left: bool) -> None:
    allowed: tuple[type[Node], ...] = (Ref, Call, StringLit, IntLit, FloatLit)
    if not left:
        allowed += (BoolLit, NullLit, ListLit)
    if isinstance(expr, Arith):  # its operands as the left side's (parentheses as needed)
        _check_ltl_operand(expr.left, left=True)
        _check_ltl_operand(expr.right, left=True)
        return
    if not isinstance(expr, allowed):
        raise ValueError(f"{type(expr).__name__} cannot be an operand of a temporal condition")
    if isinstance(expr, Ref) and expr.head in LTL_LETTERS:
        raise ValueError(f"{expr.head!r} is a temporal operator inside a formula")


def _check_ltl_condition(expr: Node) -> None:
    if isinstance(expr, Compare):
        _check_ltl_operand(expr.left, left=True)
        _check_ltl_operand(expr.right, left=False)
    elif isinstance(expr, Ref):
        if len(expr.parts) < 2:
            raise ValueError("a bare name in a formula is `LtlFired`, not `LtlHolds`")
        _check_ltl_operand(expr, left=True)
    elif isinstance(expr, Call):
        pass
    elif isinstance(expr, Arith):  # not a truth value: the checker says so, with its type
        _check_ltl_operand(expr, left=True)
    else:
        raise ValueError(f"{type(expr).__name__} is not a condition of a temporal formula")


# --- declarations --------------------------------------------------------------------------


class Import(Statement):
    """An import: `import std.patterns [as p]`, `import "./roles.agent" [as r]`,
    or `from std.types import Answer, Critique`."""

    kind: Literal["Import"] = "Import"
    module: str
    is_path: bool = False
    alias: Name | None = None
    names: tuple[Name, ...] = ()

    _validator_reads = frozenset({"is_path", "module", "names", "alias"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.is_path:
            _check_qualified(self.module)
        if self.names and self.alias:
            raise ValueError("`from ... import` takes no alias")
        return self


class ModelParam(Statement):
    kind: Literal["ModelParam"] = "ModelParam"
    name: FieldName
    value: Const


class ModelDecl(Statement):
    """`model fast = "openai/gpt-4o-mini" { temperature: 0.2 }`."""

    kind: Literal["ModelDecl"] = "ModelDecl"
    name: Name
    provider: str
    params: tuple[ModelParam, ...] = ()
    end_comments: tuple[str, ...] = Field(default=(), repr=False)


class McpDecl(Statement):
    """`mcp files = "python3 files_server.py" { timeout: 20 }`: an MCP server, started as a
    command on stdio, or reached at an `http://` / `https://` URL (streamable HTTP)."""

    kind: Literal["McpDecl"] = "McpDecl"
    name: Name
    address: str
    params: tuple[ModelParam, ...] = ()
    end_comments: tuple[str, ...] = Field(default=(), repr=False)


class Annotation(Node):
    """`@desc("...")` on a field or an enum member."""

    kind: Literal["Annotation"] = "Annotation"
    name: Name
    args: tuple[Const, ...] = ()


class FieldDecl(Statement):
    kind: Literal["FieldDecl"] = "FieldDecl"
    name: FieldName
    type: TypeExpr
    default: Const | None = None
    annotations: tuple[Annotation, ...] = ()


class TypeDecl(Statement):
    kind: Literal["TypeDecl"] = "TypeDecl"
    name: Name
    fields: tuple[FieldDecl, ...] = ()
    end_comments: tuple[str, ...] = Field(default=(), repr=False)


class EnumMember(Statement):
    kind: Literal["EnumMember"] = "EnumMember"
    name: FieldName
    annotations: tuple[Annotation, ...] = ()


class EnumDecl(Statement):
    kind: Literal["EnumDecl"] = "EnumDecl"
    name: Name
    members: tuple[EnumMember, ...] = Field(min_length=1)
    end_comments: tuple[str, ...] = Field(default=(), repr=False)


class Param(Node):
    """A parameter of a role, tool or agent: `feedback: str = ""`. A tool's may be named
    like a keyword (its names are Python's); a role's or an agent's may not."""

    kind: Literal["Param"] = "Param"
    name: FieldName
    type: TypeExpr
    default: Const | None = None


class ModelUse(Statement):
    """`model fast` inside a role, optionally overriding some parameters:
    `model fast { temperature: 0.9 }`."""

    kind: Literal["ModelUse"] = "ModelUse"
    name: QualifiedName
    params: tuple[ModelParam, ...] = ()


class System(Statement):
    kind: Literal["System"] = "System"
    text: str


class Prompt(Statement):
    kind: Literal["Prompt"] = "Prompt"
    text: str


class ToolUse(Statement):
    """`tools [calculator, search] max 6`: the tools a role may call, and the step bound."""

    kind: Literal["ToolUse"] = "ToolUse"
    tools: tuple[QualifiedName, ...] = ()
    max_steps: BoundExpr | None = None


def _without_keywords(params: tuple[Param, ...] | None) -> None:
    for param in params or ():
        _check_name(param.name)


class RoleDecl(Statement):
    kind: Literal["RoleDecl"] = "RoleDecl"
    name: Name
    params: tuple[Param, ...] = ()
    returns: TypeExpr
    model: ModelUse | None = None
    system: System | None = None
    prompt: Prompt | None = None
    tools: ToolUse | None = None
    end_comments: tuple[str, ...] = Field(default=(), repr=False)

    _validator_reads = frozenset({"params"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        _without_keywords(self.params)
        return self


class ToolDecl(Statement):
    """`tool calculator(expression: str) -> float = "rolegraph.stdlib.tools:calculator"`,
    or a tool of an MCP server: `tool add(a: int, b: int) -> int = calc.add` (`server` is
    `calc`, `target` the server's name for the tool, `calc["get-weather"]` for any name)."""

    kind: Literal["ToolDecl"] = "ToolDecl"
    name: Name
    params: tuple[Param, ...] = ()
    returns: TypeExpr
    target: str
    server: Name | None = None

    _validator_reads = frozenset({"server", "target"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.server is not None and not self.target:
            raise ValueError("a tool of an MCP server is named (`calc.add`)")
        return self


_DURATION = re.compile(r"(?:[0-9]+(?:d|h|m|s))+\Z")
_DURATION_PART = re.compile(r"([0-9]+)(d|h|m|s)")
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def duration_seconds(text: str) -> int | None:
    """The seconds a duration means (`"90s"`, `"15m"`, `"24h"`, `"2d"`, `"1h30m"`), or
    None when `text` is not one (or is zero)."""
    if not _DURATION.match(text):
        return None
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))
    return seconds or None


def _check_duration(value: str) -> str:
    if duration_seconds(value) is None:
        raise ValueError(f'{value!r} is not a duration like "90s", "15m", "24h", "1h30m"')
    return value


class Deadline(Statement):
    """`deadline "24h"`: how long a human step waits for its answer; after that, its
    firing fails (an `on error` edge routes it)."""

    kind: Literal["Deadline"] = "Deadline"
    duration: Annotated[str, AfterValidator(_check_duration)]

    @property
    def seconds(self) -> int:
        return duration_seconds(self.duration) or 0


class HumanDecl(Statement):
    """`human Approve(ticket: Ticket) -> Approval { prompt "..."  deadline "24h" }`: a
    typed value that a person gives. Used as a node like a role; its firing asks the
    question (the prompt, rendered with the arguments) and the run pauses until the
    answer comes (runtime/human.py)."""

    kind: Literal["HumanDecl"] = "HumanDecl"
    name: Name
    params: tuple[Param, ...] = ()
    returns: TypeExpr
    prompt: Prompt | None = None
    deadline: Deadline | None = None
    end_comments: tuple[str, ...] = Field(default=(), repr=False)

    _validator_reads = frozenset({"params"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        _without_keywords(self.params)
        return self


class RoleSig(Node):
    """The kind of a role-valued compile-time parameter: `role` or `role(q: str) -> Answer`."""

    kind: Literal["RoleSig"] = "RoleSig"
    params: tuple[Param, ...] | None = None
    returns: TypeExpr | None = None

    _validator_reads = frozenset({"params", "returns"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.params is None) != (self.returns is None):
            raise ValueError("a role signature has both parameters and a result, or neither")
        _without_keywords(self.params)
        return self


class CtParam(Node):
    """A compile-time parameter of a pattern: `Solver: role`, `n: int = 5`."""

    kind: Literal["CtParam"] = "CtParam"
    name: Name
    type: RoleSig | NamedType | ListType | DictType | OptionalType = Field(discriminator="kind")
    default: Expr | None = None


class Arg(Node):
    """A call argument, positional (`name` is None) or named (`draft: writer`; a keyword
    may name it, for a tool's parameter)."""

    kind: Literal["Arg"] = "Arg"
    name: FieldName | None = None
    value: Expr


class MapClause(Node):
    """`for step in plan.steps max 8`: fire once per item, in parallel."""

    kind: Literal["MapClause"] = "MapClause"
    var: Name
    source: Expr
    max: BoundExpr


class NodeDecl(Statement):
    """`critic = Critic(task, draft: writer)`, optionally `x 3` or `for s in xs max 8`."""

    kind: Literal["NodeDecl"] = "NodeDecl"
    name: NodeName
    role: QualifiedName
    ct_args: tuple[Arg, ...] = ()
    args: tuple[Arg, ...] = ()
    replicate: BoundExpr | None = None
    map: MapClause | None = None

    _validator_reads = frozenset({"replicate", "map"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.replicate is not None and self.map is not None:
            raise ValueError("a node is replicated or mapped, not both")
        return self


class NodeTarget(Node):
    """The target of an edge that fires a node, with port bindings: `writer(feedback: ...)`."""

    kind: Literal["NodeTarget"] = "NodeTarget"
    node: NodeName
    ports: tuple[Arg, ...] = ()

    _validator_reads = frozenset({"ports"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        if any(port.name is None for port in self.ports):
            raise ValueError("port bindings are named: `writer(feedback: critic.feedback)`")
        return self


class ReturnTarget(Node):
    """`-> return(expr)`: the edge ends the run with a value."""

    kind: Literal["ReturnTarget"] = "ReturnTarget"
    value: Expr


class When(Node):
    kind: Literal["When"] = "When"
    guard: Expr


class Else(Node):
    kind: Literal["Else"] = "Else"


class OnError(Node):
    kind: Literal["OnError"] = "OnError"


class EdgeDecl(Statement):
    """`src -> dst [when guard | else | on error] [max N]`."""

    kind: Literal["EdgeDecl"] = "EdgeDecl"
    source: NodeName
    target: NodeTarget | ReturnTarget = Field(discriminator="kind")
    condition: When | Else | OnError | None = Field(default=None, discriminator="kind")
    max: BoundExpr | None = None


class ReturnStmt(Statement):
    kind: Literal["ReturnStmt"] = "ReturnStmt"
    value: Expr


class Constraint(Statement):
    """`ensure φ` (checked; a violation fails the run) or `enforce φ` (a shield)."""

    kind: Literal["Constraint"] = "Constraint"
    mode: Literal["ensure", "enforce"]
    formula: Formula


AgentStmt = Annotated[NodeDecl | EdgeDecl | ReturnStmt | Constraint, Field(discriminator="kind")]


class AgentDecl(Statement):
    kind: Literal["AgentDecl"] = "AgentDecl"
    name: Name
    ct_params: tuple[CtParam, ...] = ()
    params: tuple[Param, ...] = ()
    returns: TypeExpr
    body: tuple[AgentStmt, ...] = ()
    end_comments: tuple[str, ...] = Field(default=(), repr=False)

    _validator_reads = frozenset({"params"})

    @model_validator(mode="after")
    def _check(self) -> Self:
        _without_keywords(self.params)  # (expressions read them: a keyword is an operator)
        return self

    @property
    def nodes(self) -> tuple[NodeDecl, ...]:
        return tuple(s for s in self.body if isinstance(s, NodeDecl))

    @property
    def edges(self) -> tuple[EdgeDecl, ...]:
        return tuple(s for s in self.body if isinstance(s, EdgeDecl))

    @property
    def returns_(self) -> tuple[ReturnStmt, ...]:
        return tuple(s for s in self.body if isinstance(s, ReturnStmt))

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return tuple(s for s in self.body if isinstance(s, Constraint))

    def node(self, name: str) -> NodeDecl | None:
        return next((n for n in self.nodes if n.name == name), None)


class TestRun(Statement):
    """`run Agent(args)`: the run a test makes (on the mock model)."""

    kind: Literal["TestRun"] = "TestRun"
    agent: QualifiedName
    args: tuple[Arg, ...] = ()


class TestMock(Statement):
    """`mock Role [reply, ...]`: the replies the mock model gives that role, in order."""

    kind: Literal["TestMock"] = "TestMock"
    role: QualifiedName
    replies: Const


class TestExpect(Statement):
    """`expect formula`: an LTLf formula over the run's trace (`result`, `calls(Role)`
    and `firings(node)` may appear in its conditions)."""

    kind: Literal["TestExpect"] = "TestExpect"
    formula: Formula


TestStmt = Annotated[TestRun | TestMock | TestExpect, Field(discriminator="kind")]


class TestDecl(Statement):
    """`test name { run ...  mock ...  expect ... }`: a test next to the agents it tests."""

    kind: Literal["TestDecl"] = "TestDecl"
    name: Name
    body: tuple[TestStmt, ...] = ()
    end_comments: tuple[str, ...] = Field(default=(), repr=False)

    @property
    def run(self) -> TestRun | None:
        return next((s for s in self.body if isinstance(s, TestRun)), None)


#: Words that are keywords only inside a test block (elsewhere they are names).
TEST_KEYWORDS: frozenset[str] = frozenset({"test", "run", "mock", "expect"})
#: Words that are keywords only where a declaration begins (`mcp`, `human`) or inside a
#: human step (`deadline`); elsewhere they are names.
DECL_KEYWORDS: frozenset[str] = frozenset({"mcp", "human", "deadline"})

Decl = Annotated[
    Import
    | ModelDecl
    | McpDecl
    | TypeDecl
    | EnumDecl
    | RoleDecl
    | ToolDecl
    | HumanDecl
    | AgentDecl
    | TestDecl,
    Field(discriminator="kind"),
]


class Module(Node):
    """A whole `.agent` file."""

    kind: Literal["Module"] = "Module"
    decls: tuple[Decl, ...] = ()
    end_comments: tuple[str, ...] = Field(default=(), repr=False)
    filename: str | None = Field(default=None, repr=False)

    def decl(self, name: str) -> Decl | None:
        """The first declaration named `name` (by a table made once per module)."""
        if type(name) is not str:  # (None names every declaration without a name)
            return next((d for d in self.decls if getattr(d, "name", None) == name), None)
        return _decl_index(self).get(name)

    @property
    def agents(self) -> tuple[AgentDecl, ...]:
        return _decls_of(self, AgentDecl)

    @property
    def roles(self) -> tuple[RoleDecl, ...]:
        return _decls_of(self, RoleDecl)

    @property
    def tests(self) -> tuple[TestDecl, ...]:
        return _decls_of(self, TestDecl)


def _decls_of(module: Module, cls: type[N]) -> tuple[N, ...]:
    """`module`'s declarations that are `cls`s, in order. Each distinct type of
    declaration is asked (`issubclass`), not each declaration: `isinstance` of a pydantic
    class is slow, and a check of each program an editor makes asks for its tests."""
    decls: tuple[Any, ...] = module.decls
    kinds = [kind for kind in set(map(type, decls)) if issubclass(kind, cls)]
    if not kinds:
        return ()
    if len(kinds) == 1:
        return tuple(compress(decls, map(is_, map(type, decls), repeat(kinds[0]))))
    return tuple(d for d in decls if type(d) in kinds)


# id(module) → its declarations by name (the first of each name), while the module
# lives. A module never changes, so its table is made once (the edit operators and the
# queries they ask look declarations up by name many times a program); an entry goes
# as its module goes, before its address can be reused (compiler/identity.py).
_DECL_INDEX: IdentityTable[int, dict[str, Any]] = IdentityTable(cap=1024)


def _decl_index(module: Module) -> dict[str, Any]:
    found = _DECL_INDEX.get(id(module))
    if found is not None:
        return found
    table: dict[str, Any] = {}
    for decl in module.decls:
        name = getattr(decl, "name", None)
        if name is not None and name not in table:
            table[name] = decl
    return _DECL_INDEX.keep(id(module), table, module)
