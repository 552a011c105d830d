"""`rolegraph check --connect`: MCP tool declarations compared with the schemas a real
server lists (tests/mcp_server.py, FastMCP: its schemas come from pydantic, not from
rolegraph); and plain `check`, which starts no server."""

from __future__ import annotations

import json
import shlex
import sys
from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter
from typer.testing import CliRunner

from rolegraph.cli import app
from rolegraph.compiler.mcp_schema import compare_tool, fits
from rolegraph.compiler.types import (
    BOOL,
    FLOAT,
    INT,
    STR,
    DictT,
    EnumT,
    ListT,
    OptionalT,
    RecordT,
    json_schema,
)

from .mcp_agents import source

pytest.importorskip("mcp")
runner = CliRunner()

AGREEING = """
agent Sum(a: int, b: int) -> int {
  s = add(a, b)
  return s
}
"""


def check(tmp_path, text: str, *options: str):
    path = tmp_path / "tools.agent"
    path.write_text(text)
    result = runner.invoke(app, ["check", str(path), "--json", *options])
    return result.exit_code, json.loads(result.stdout or "[]")


def test_declarations_that_match_the_server_check_clean(tmp_path):
    code, diagnostics = check(tmp_path, source(AGREEING), "--connect")
    assert diagnostics == [] and code == 0


def test_a_parameter_of_the_wrong_type_is_reported_at_the_parameter(tmp_path):
    text = source(AGREEING + "tool plus(a: int, b: str) -> int = calc.add\n")
    code, diagnostics = check(tmp_path, text, "--connect")
    assert code == 1
    (found,) = diagnostics
    assert found["code"] == "E0623"
    assert (
        "parameter `b`: the server expects integer, the declaration sends `str`"
        in (found["message"])
    )
    line = text.splitlines().index("tool plus(a: int, b: str) -> int = calc.add") + 1
    assert (found["line"], found["column"]) == (line, len("tool plus(a: int, ") + 1)


def test_every_disagreement_is_reported(tmp_path):
    wrong = """
tool add2(a: int, c: int) -> str = calc.add
tool describe2(word: str) -> Short = calc.describe
type Short { word: str, syllables: int }
tool nothere(x: int) -> int = calc.ad
tool number(seconds: int) -> str = calc.sleep
tool toomuch(x: float) -> float = calc.count
"""
    code, diagnostics = check(tmp_path, source(AGREEING + wrong), "--connect")
    messages = sorted(
        d["message"].split("`calc`: ", 1)[1]
        for d in diagnostics
        if d["code"] == "E0623" and "`calc`: " in d["message"]
    )
    assert messages == sorted(
        [
            "the server's tool has no parameter `c`",
            "the result: the server gives integer, the declaration expects `str`",
            "the server's tool requires parameter `b` (integer), which the declaration "
            "does not have",
            "the result: `Short` requires field `syllables`, which the server's result does "
            "not have",
            "the server's tool has no parameter `x`",
        ]
    )
    missing = [d for d in diagnostics if "has no tool `ad`" in d["message"]]
    assert missing and missing[0]["hints"] == ["did you mean `add`?"]
    # (`seconds: int` is sent where the server takes a number: that fits)
    assert not any("number" in d["message"] for d in diagnostics)
    assert code == 1


def test_a_server_that_cannot_start_is_reported_at_its_declaration(tmp_path):
    text = source(AGREEING, address="no-such-mcp-command-xyz")
    code, diagnostics = check(tmp_path, text, "--connect")
    (found,) = diagnostics
    assert found["code"] == "E0624" and (found["line"], found["column"]) == (1, 1)
    assert "no-such-mcp-command-xyz" in found["message"]
    assert code == 1


def test_check_without_connect_starts_no_server(tmp_path):
    marker = tmp_path / "started"
    command = shlex.join([sys.executable, "-c", f"open({str(marker)!r}, 'w')"])
    text = source(AGREEING, address=command, params="{ connect_timeout: 5 }")
    code, diagnostics = check(tmp_path, text)
    assert (code, diagnostics) == (0, [])
    assert not marker.exists()
    # (the same file, with --connect: the command runs — so the check above could fail)
    code, diagnostics = check(tmp_path, text, "--connect")
    assert marker.exists()
    assert [d["code"] for d in diagnostics] == ["E0624"]


# -- the comparison, against schemas pydantic writes ------------------------------------------


class Colour(Enum):
    red = "red"
    green = "green"


class Point(BaseModel):
    x: int
    y: float
    label: str | None = None


class Shape(BaseModel):
    name: str
    points: list[Point]
    colour: Colour
    tags: dict[str, int]


POINT = RecordT(
    "Point", {"x": INT, "y": FLOAT, "label": OptionalT(STR)}, defaults=frozenset({"label"})
)
COLOUR = EnumT("Colour", ("red", "green"))
SHAPE = RecordT(
    "Shape", {"name": STR, "points": ListT(POINT), "colour": COLOUR, "tags": DictT(INT)}
)

SAME = [
    (STR, str),
    (INT, int),
    (FLOAT, float),
    (BOOL, bool),
    (ListT(STR), list[str]),
    (OptionalT(INT), int | None),
    (DictT(ListT(FLOAT)), dict[str, list[float]]),
    (COLOUR, Colour),
    (POINT, Point),
    (SHAPE, Shape),
    (ListT(OptionalT(SHAPE)), list[Shape | None]),
]


@pytest.mark.parametrize(("declared", "python"), SAME, ids=[str(t) for t, _ in SAME])
def test_a_type_fits_pydantics_schema_of_the_same_type_both_ways(declared, python):
    schema = TypeAdapter(python).json_schema()
    assert fits(declared, schema, schema, "send") == ""
    assert fits(declared, schema, schema, "receive") == ""


DIFFERENT = [
    (STR, int),
    (INT, str),
    (ListT(INT), list[str]),
    (BOOL, int),
    (POINT, Shape),
    (DictT(STR), dict[str, int]),
    (ListT(POINT), list[Shape]),
]


@pytest.mark.parametrize(("declared", "python"), DIFFERENT, ids=[str(t) for t, _ in DIFFERENT])
def test_a_type_does_not_fit_pydantics_schema_of_another_either_way(declared, python):
    schema = TypeAdapter(python).json_schema()
    assert fits(declared, schema, schema, "send") != ""
    assert fits(declared, schema, schema, "receive") != ""


def test_numbers_widen_in_the_direction_values_flow():
    integer, number = {"type": "integer"}, {"type": "number"}
    assert fits(INT, number, number, "send") == ""  # an int is a number
    assert fits(FLOAT, integer, integer, "send") != ""  # 0.5 is no integer
    assert fits(FLOAT, integer, integer, "receive") == ""  # an integer reads as a float
    assert fits(INT, number, number, "receive") != ""  # 0.5 reads as no int


def test_an_optional_declaration_is_not_sent_where_null_is_refused():
    integer = {"type": "integer"}
    assert "may send none" in fits(OptionalT(INT), integer, integer, "send")
    nullable = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert "not optional" in fits(INT, nullable, nullable, "receive")


def _types(depth: int = 2) -> st.SearchStrategy[Any]:
    leaves = st.sampled_from([STR, INT, FLOAT, BOOL, COLOUR, POINT])
    if depth == 0:
        return leaves
    inner = _types(depth - 1)
    return st.one_of(
        leaves,
        inner.map(ListT),
        inner.map(DictT),
        inner.filter(lambda t: not isinstance(t, OptionalT)).map(OptionalT),
    )


@settings(derandomize=True, max_examples=150)
@given(_types())
def test_a_type_fits_its_own_schema_both_ways(declared):
    """rolegraph's own schema of a type (what structured output and `mcp serve` use) is
    accepted by the comparison of that type, sending and receiving."""
    schema = json_schema(declared)
    assert fits(declared, schema, schema, "send") == ""
    assert fits(declared, schema, schema, "receive") == ""


def test_compare_tool_reads_fastmcp_s_wrapped_result():
    output = {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
        "x-fastmcp-wrap-result": True,
    }
    inputs = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert compare_tool([("a", INT, False)], INT, inputs, output) == []
    (mismatch,) = compare_tool([("a", INT, False)], STR, inputs, output)
    assert mismatch.message.startswith("the result:")
