"""Semantic types: what the checker reasons with (the AST's type expressions, resolved).

Records and enums are nominal; lists, dicts and optionals are structural. `ANY` stands
for a type the checker could not determine after an error, and is compatible with
everything, so one mistake is reported once rather than at every use.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Type:
    def __str__(self) -> str:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


@dataclass(frozen=True)
class Prim(Type):
    name: str  # str, int, float, bool

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class NoneType_(Type):
    def __str__(self) -> str:
        return "none"


@dataclass(frozen=True)
class AnyType(Type):
    def __str__(self) -> str:
        return "?"


@dataclass(frozen=True)
class ListT(Type):
    item: Type

    def __str__(self) -> str:
        return f"list[{self.item}]"


@dataclass(frozen=True)
class DictT(Type):
    value: Type

    def __str__(self) -> str:
        return f"dict[str, {self.value}]"


@dataclass(frozen=True)
class OptionalT(Type):
    inner: Type

    def __str__(self) -> str:
        return f"{self.inner}?"


@dataclass(frozen=True, eq=False)
class RecordT(Type):
    """A record type. Identity is by qualified name; fields are filled in after creation
    (records may refer to each other)."""

    name: str
    fields: dict[str, Type] = field(default_factory=dict, compare=False)
    descriptions: dict[str, str] = field(default_factory=dict, compare=False)
    defaults: frozenset[str] = frozenset()
    default_values: dict[str, object] = field(default_factory=dict, compare=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordT) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("record", self.name))

    def __str__(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True, eq=False)
class EnumT(Type):
    name: str
    members: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnumT) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("enum", self.name))

    def __str__(self) -> str:
        return self.name.rsplit(".", 1)[-1]


STR, INT, FLOAT, BOOL = Prim("str"), Prim("int"), Prim("float"), Prim("bool")
NONE = NoneType_()
ANY = AnyType()
PRIMITIVES = {"str": STR, "int": INT, "float": FLOAT, "bool": BOOL}


def assignable(source: Type, target: Type) -> bool:
    """Whether a value of type `source` may be used where `target` is expected."""
    if isinstance(source, AnyType) or isinstance(target, AnyType):
        return True
    if source == target:
        return True
    if source == INT and target == FLOAT:
        return True
    if isinstance(target, OptionalT):
        return isinstance(source, NoneType_) or assignable(
            source.inner if isinstance(source, OptionalT) else source, target.inner
        )
    if isinstance(source, ListT) and isinstance(target, ListT):
        return assignable(source.item, target.item)
    if isinstance(source, DictT) and isinstance(target, DictT):
        return assignable(source.value, target.value)
    return False


def comparable(left: Type, right: Type) -> bool:
    """Whether `==` between the two types can ever be true."""
    return (
        assignable(left, right)
        or assignable(right, left)
        or (isinstance(left, OptionalT) and comparable(left.inner, right))
        or (isinstance(right, OptionalT) and comparable(left, right.inner))
    )


def is_numeric(t: Type) -> bool:
    return t in (INT, FLOAT) or isinstance(t, AnyType)


def strip_optional(t: Type) -> Type:
    return t.inner if isinstance(t, OptionalT) else t


_JSON_KINDS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def json_schema(t: Type) -> dict:
    """The JSON schema of a type, as structured output asks models for it (the schemas
    `schema_fold.SchemaFold` walks)."""
    match t:
        case Prim(name=name):
            return {"type": _JSON_KINDS[name]}
        case ListT(item=item):
            return {"type": "array", "items": json_schema(item)}
        case DictT(value=value):
            return {"type": "object", "additionalProperties": json_schema(value)}
        case OptionalT(inner=inner):
            return {"anyOf": [json_schema(inner), {"type": "null"}]}
        case EnumT(members=members):
            return {"type": "string", "enum": list(members)}
        case RecordT():
            properties = {}
            for name, field_type in t.fields.items():
                schema = json_schema(field_type)
                if name in t.descriptions:
                    schema["description"] = t.descriptions[name]
                properties[name] = schema
            return {
                "type": "object",
                "title": str(t),
                "properties": properties,
                "required": [n for n in t.fields if n not in t.defaults],
                "additionalProperties": False,
            }
    return {}
