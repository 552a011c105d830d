"""String literals: decode(encode(v)) == v for every string, in both forms."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolegraph.compiler import literals as lit

from .strategies import strings

ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=40) | strings


@given(ANY_TEXT)
def test_one_line_form_round_trips(value):
    encoded = lit.encode(value)
    assert "\n" not in encoded
    assert lit.decode(encoded) == value


@given(ANY_TEXT, st.sampled_from(["", "  ", "    ", "\t"]))
def test_block_form_round_trips(value, indent):
    assert lit.decode(lit.encode_block(value, indent + "  ", indent)) == value


def test_block_form_is_dedented():
    assert (
        lit.decode('"""\n    Task: {{ t }}\n      indented\n  """') == "Task: {{ t }}\n  indented"
    )


def test_block_keeps_a_trailing_newline_and_blank_lines():
    assert lit.decode('"""\n  a\n\n  b\n\n  """') == "a\n\nb\n"


def test_escapes():
    assert lit.decode(r'"a\n\t\"\\\u{1F600}\0"') == 'a\n\t"\\😀\0'


@pytest.mark.parametrize("bad", [r'"\q"', r'"\u{}"', r'"\u{110000}"', r'"\u{zz}"', '"\\' + 'u"'])
def test_invalid_escapes_are_errors(bad):
    with pytest.raises(lit.EscapeError):
        lit.decode(bad)


def test_prompts_with_newlines_print_as_blocks():
    text = "Task: {{ task }}\nAnswer briefly."
    assert lit.encode_block(text, "    ", "  ").startswith('"""\n    Task')


def test_values_the_block_form_cannot_hold_fall_back_to_one_line():
    assert (
        lit.encode_block("  leading spaces everywhere\n  here", "  ")
        == '"  leading spaces everywhere\\n  here"'
    )
