"""The values made from JSON schemas (the mock's replies, the search's blanks) are valid
for their schemas, by an independent validator (`jsonschema`)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.compiler.schema_fold import SchemaFold
from rolegraph.runtime.mock import generate
from rolegraph.search import blank_value

jsonschema = pytest.importorskip("jsonschema")

scalars = st.sampled_from(
    [{"type": k} for k in ("string", "integer", "number", "boolean", "null")] + [{}]
)
names = st.from_regex(r"[a-z]{1,6}", fullmatch=True)


def _compound(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.builds(
            lambda o, null: {"anyOf": o + ([{"type": "null"}] if null else [])},
            st.lists(inner, min_size=1, max_size=3),
            st.booleans(),
        ),
        st.lists(names, min_size=1, max_size=4, unique=True).map(
            lambda ms: {"type": "string", "enum": ms}
        ),
        st.dictionaries(names, inner, max_size=4).map(
            lambda ps: {
                "type": "object",
                "properties": ps,
                "required": list(ps),
                "additionalProperties": False,
            }
        ),
        inner.map(lambda v: {"type": "object", "additionalProperties": v}),
        inner.map(lambda v: {"type": "array", "items": v}),
    )


schemas = st.recursive(scalars, _compound, max_leaves=12)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(schemas, st.integers(0, 2**32))
def test_the_mock_and_the_blank_make_values_valid_for_the_schema(schema, seed):
    jsonschema.validate(generate(schema, seed), schema)
    jsonschema.validate(blank_value(schema), schema)


def test_a_fold_picks_one_method_per_kind_of_schema():
    class Kinds(SchemaFold[str]):
        def any_of(self, options, path):
            return "any(" + ",".join(self.fold(o, path) for o in options) + ")"

        def enum(self, members, path):
            return "enum"

        def record(self, properties, path):
            return (
                "{"
                + ",".join(f"{k}:{self.fold(v, path + '.' + k)}" for k, v in properties.items())
                + "}"
            )

        def mapping(self, values, path):
            return "dict"

        def array(self, items, path):
            return f"[{self.fold(items, path + '[0]')}]"

        def scalar(self, kind, path):
            return f"{kind}@{path}"

    schema = {
        "type": "object",
        "properties": {
            "a": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "b": {"type": "array", "items": {"type": "string", "enum": ["x"]}},
            "c": {"type": "object"},
            "d": {"type": "array", "items": {"type": "boolean"}},
        },
    }
    assert Kinds().fold(schema) == "{a:any(integer@.a,null@.a),b:[enum],c:dict,d:[boolean@.d[0]]}"
