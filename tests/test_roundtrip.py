"""The printer and the parser are inverses: parse(print(ast)) == ast, for any AST."""

from hypothesis import HealthCheck, given, settings

from rolegraph.compiler.printer import fingerprint, to_source
from rolegraph.grammar import parse_module

from .strategies import modules

ROUND_TRIP = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _reparse(text: str):
    result = parse_module(text, "<generated>")
    assert result.ok, "\n".join(str(d) for d in result.diagnostics) + "\n" + text
    return result.module


@ROUND_TRIP
@given(modules)
def test_parse_of_print_is_identity(module):
    text = to_source(module)
    assert _reparse(text) == module


@ROUND_TRIP
@given(modules)
def test_printing_is_idempotent(module):
    text = to_source(module)
    assert to_source(_reparse(text)) == text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules)
def test_fingerprint_is_stable_across_a_round_trip(module):
    assert fingerprint(_reparse(to_source(module))) == fingerprint(module)
