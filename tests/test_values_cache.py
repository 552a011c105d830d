"""Validators are shared by the structure of a type, not by the type object: each check
of a program makes new type objects, and they get the validator built for the first."""

import pytest
from pydantic import ValidationError

from rolegraph.compiler.types import BOOL, INT, STR, EnumT, ListT, OptionalT, RecordT
from rolegraph.runtime.values import coerce, python_type


def review(*, feedback: bool = True, description: str = "", default: object = None) -> RecordT:
    """A fresh `Review` record: `ok: bool`, and `feedback: str` when asked, described
    and given a default when asked."""
    fields = {"ok": BOOL, **({"feedback": STR} if feedback else {})}
    record = RecordT(
        "Review",
        fields,
        {"ok": description} if description else {},
        frozenset({"ok"}) if default is not None else frozenset(),
        {"ok": default} if default is not None else {},
    )
    return record


def test_equal_structures_share_one_validator():
    first, second = review(), review()
    assert first is not second
    assert python_type(first) is python_type(second)
    nested = [RecordT("Round", {"reviews": ListT(r), "n": OptionalT(INT)}) for r in (first, second)]
    assert python_type(nested[0]) is python_type(nested[1])
    enums = [EnumT("Mood", ("up", "down")) for _ in range(2)]
    assert python_type(enums[0]) is python_type(enums[1])


def test_one_name_other_structures_are_kept_apart():
    """Two programs' `Review`s: the same name, other fields, descriptions or defaults."""
    short, long = review(feedback=False), review()
    assert python_type(short) is not python_type(long)
    assert coerce(short, {"ok": True}) == {"ok": True}
    with pytest.raises(ValidationError):
        coerce(long, {"ok": True})  # `feedback` is required there
    described = review(description="whether it is right")
    assert python_type(described) is not python_type(long)
    assert python_type(described).model_json_schema()["properties"]["ok"]["description"] == (
        "whether it is right"
    )
    yes, no = review(default=True), review(default=False)
    assert coerce(yes, {"feedback": "x"}) == {"ok": True, "feedback": "x"}
    assert coerce(no, {"feedback": "x"}) == {"ok": False, "feedback": "x"}
    assert python_type(EnumT("Mood", ("up",))) is not python_type(EnumT("Mood", ("up", "down")))


def test_records_inside_each_other_have_a_structure():
    """A record that reaches itself (through another) still has a finite key: the
    cache does not recurse forever before the validator is built."""
    from rolegraph.runtime.values import _structure

    outer = RecordT("Tree", {})
    inner = RecordT("Branch", {"tree": OptionalT(outer)})
    outer.fields["branches"] = ListT(inner)
    key = _structure(outer, ())
    assert key == _structure(outer, ())
    other = RecordT("Tree", {})
    other.fields["branches"] = ListT(RecordT("Branch", {"tree": OptionalT(other)}))
    assert _structure(other, ()) == key
