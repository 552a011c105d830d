"""E0408 and E0409 where some agents call none (check.py `_on_cycles` and
`_nested_too_deeply` return at once only where no agent calls one)."""

from .checking import PRELUDE, check

PLAIN = "agent P(task: str) -> Draft {\n  w = Writer(task)\n  return w\n}\n"


def _codes(text: str) -> list[str]:
    return [d.code for d in check(PRELUDE + text).diagnostics]


def test_recursion_is_reported_beside_an_agent_that_calls_none() -> None:
    own = "agent A(task: str) -> Draft {\n  me = A(task)\n  return me\n}\n"
    assert _codes(PLAIN + own).count("E0408") == 1
    assert _codes(own + PLAIN).count("E0408") == 1
    mutual = (
        "agent A(task: str) -> Draft {\n  b = B(task)\n  return b\n}\n"
        "agent B(task: str) -> Draft {\n  a = A(task)\n  return a\n}\n"
    )
    assert _codes(PLAIN + mutual).count("E0408") == 2


def test_no_agent_calls_one_reports_neither() -> None:
    codes = _codes(PLAIN + PLAIN.replace("agent P", "agent Q"))
    assert "E0408" not in codes and "E0409" not in codes
