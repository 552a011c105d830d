"""`rolegraph fmt` keeps every comment, wherever it stands, and is idempotent."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegraph import format_source, parse

from .conftest import EXAMPLES

SOURCES = [p.read_text() for p in EXAMPLES]


def _code_lines(text: str) -> list[int]:
    """Indexes of lines that are not inside a triple-quoted string."""
    inside = False
    result = []
    for index, line in enumerate(text.split("\n")):
        if not inside:
            result.append(index)
        if line.count('"""') % 2 == 1:
            inside = not inside
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(SOURCES))),
    st.lists(st.tuples(st.integers(0, 10_000), st.booleans()), min_size=1, max_size=6),
)
def test_fmt_keeps_inserted_comments_and_is_idempotent(index, insertions):
    lines = SOURCES[index].split("\n")
    candidates = _code_lines(SOURCES[index])
    markers = []
    for number, (position, own_line) in enumerate(insertions):
        at = candidates[position % len(candidates)]
        marker = f"// marker{number}"
        markers.append(marker)
        if own_line or '"""' in lines[at]:
            lines.insert(at, marker)
            candidates = _code_lines("\n".join(lines))
        else:
            lines[at] = lines[at] + "  " + marker
    text = "\n".join(lines)
    formatted = format_source(text)
    for marker in markers:
        assert marker in formatted, (marker, formatted)
    assert format_source(formatted) == formatted
    assert parse(formatted) == parse(text)


def test_comment_positions_are_kept():
    text = (
        "// header\n\n"
        'model m = "x"  // trailing\n\n'
        "agent A(q: str) -> str {  // after brace\n"
        "  // before a\n"
        "  a = W(q)\n\n"
        "  return a  // end of return\n"
        "  // last in block\n"
        "}\n"
        "// end of file\n"
    )
    assert format_source(text) == (
        "// header\n\n"
        'model m = "x"  // trailing\n\n'
        "agent A(q: str) -> str {\n"
        "  // after brace\n"
        "  // before a\n"
        "  a = W(q)\n\n"
        "  return a  // end of return\n"
        "  // last in block\n"
        "}\n\n"
        "// end of file\n"
    )
