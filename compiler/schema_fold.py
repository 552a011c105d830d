"""Values made from JSON schemas, one case per kind of schema: the walk that the mock
model (`runtime/mock.py`: a plausible reply) and the search (`search/evaluate.py`: the
blank value of an ablated node) share. The schemas are those `types.json_schema` makes
for structured output: `anyOf` (an optional), `enum`, `object` (a record with
`properties`, or a dict with `additionalProperties`), `array`, and the scalars.

A fold names what to make in each case and calls `fold` on the parts:

>>> class Blank(SchemaFold[Any]):
...     def array(self, items, path): return []
...     def record(self, properties, path):
...         return {name: self.fold(sub) for name, sub in properties.items()}
...     ...

(This module imports nothing of the compiler: the runtime may use it without the checker.)
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")

Schema = dict[str, Any]


class SchemaFold(Generic[T]):
    """One method per kind of schema; `fold` picks the method. `path` says where inside
    the value a part is (`.field`, `[0]`, `.value`), for folds that depend on it."""

    def fold(self, schema: Schema, path: str = "") -> T:
        if "anyOf" in schema:
            return self.any_of(schema["anyOf"], path)
        if "enum" in schema:
            return self.enum(schema["enum"], path)
        kind = schema.get("type")
        if kind == "object":
            properties = schema.get("properties")
            if properties is None:
                return self.mapping(schema.get("additionalProperties"), path)
            return self.record(properties, path)
        if kind == "array":
            return self.array(schema.get("items", {}), path)
        return self.scalar(kind, path)

    def any_of(self, options: list[Schema], path: str) -> T:
        """`{"anyOf": [...]}`: an optional (one option is `{"type": "null"}`) or a union."""
        raise NotImplementedError

    def enum(self, members: list[Any], path: str) -> T:
        raise NotImplementedError

    def record(self, properties: dict[str, Schema], path: str) -> T:
        """An object with named `properties` (a record type)."""
        raise NotImplementedError

    def mapping(self, values: Schema | None, path: str) -> T:
        """An object without `properties`: a dict, its values of the schema `values`
        (`additionalProperties`; None when the schema does not say)."""
        raise NotImplementedError

    def array(self, items: Schema, path: str) -> T:
        raise NotImplementedError

    def scalar(self, kind: str | None, path: str) -> T:
        """`string`, `integer`, `number`, `boolean`, `null`, or None (no `type`)."""
        raise NotImplementedError
