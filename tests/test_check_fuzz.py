"""The checker never raises on any parseable program: bad input gets diagnostics."""

from hypothesis import HealthCheck, given, settings

from rolegraph import check_source
from rolegraph.compiler.printer import to_source

from .checking import PRELUDE
from .strategies import declarations, modules, statements


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(modules)
def test_any_parseable_module_checks_without_raising(module):
    result = check_source(to_source(module), "random.agent")
    for diagnostic in result.diagnostics:
        assert diagnostic.code and diagnostic.message


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(statements.map(lambda s: [s]) | statements.map(lambda s: [s, s]))
def test_random_agent_bodies_over_real_roles_check_without_raising(body):
    text = (
        PRELUDE
        + "agent A(task: str) -> Draft {\n"
        + "\n".join("  " + to_source(s) for s in body)
        + "\n}\n"
    )
    result = check_source(text, "random.agent")
    for diagnostic in result.diagnostics:
        assert diagnostic.code and diagnostic.message


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(declarations)
def test_random_declarations_beside_real_ones_check_without_raising(declaration):
    check_source(PRELUDE + to_source(declaration) + "\n", "random.agent")
