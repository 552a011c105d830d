"""What an expression reads: `ref_heads` against a brute-force recursive walk, and how it
differs from the joins (`joined_heads`) and the plain reads (`plain_heads`)."""

from hypothesis import HealthCheck, given, settings

from rolegraph.compiler import ast
from rolegraph.compiler.dataflow import joined_heads, plain_heads, reads_name, ref_heads

from .strategies import expressions

PROPERTY = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def brute_heads(node: ast.Node) -> list[str]:
    found = [node.head] if isinstance(node, ast.Ref) else []
    for name in type(node).model_fields:
        value = getattr(node, name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ast.Node) and name not in ast.TRIVIA:
                found += brute_heads(item)
    return found


@PROPERTY
@given(expressions)
def test_ref_heads_are_every_reference_head_in_source_order_once(expr):
    assert ref_heads(expr) == tuple(dict.fromkeys(brute_heads(expr)))
    assert set(joined_heads(expr)) <= set(plain_heads(expr)) <= set(ref_heads(expr))
    for head in ref_heads(expr):
        assert reads_name(expr, head)


def call(func: str, *args: ast.Node) -> ast.Call:
    return ast.Call(func=func, args=args)


def test_the_three_reads_differ_on_errors_and_latest():
    # critic.ok and latest(draft) != x.error
    expr = ast.BoolOp(
        op="and",
        left=ast.Ref.of("critic.ok"),
        right=ast.Compare(
            op="!=", left=call("latest", ast.Ref.of("draft")), right=ast.Ref.of("x.error")
        ),
    )
    assert ref_heads(expr) == ("critic", "draft", "x")
    assert plain_heads(expr) == {"critic", "x"}
    assert joined_heads(expr) == ("critic",)
    assert ref_heads(expr, among={"x", "draft"}) == ("draft", "x")
    assert ref_heads(None) == ()
    assert not reads_name(expr, "ok") and not reads_name(None, "x")
