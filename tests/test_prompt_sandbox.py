"""Prompt templates cannot change what they read or run away (issue 12): they render in
jinja2's immutable sandbox, each render is bounded in steps, characters and time (a run
error naming the role past a bound), and the checker warns about loops nested over
inputs before any run."""

import asyncio
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel

import rolegraph
from rolegraph.compiler.edits import RewritePrompt
from rolegraph.compiler.sandbox import RenderLimitExceeded, RenderLimits, compiled
from rolegraph.runtime import (
    FiringFailed,
    MockModel,
    PromptTooLarge,
    RenderError,
    prompt_limits,
    run_agent,
)

from .test_compile import load

HANG = 60  # seconds: a bound that only catches hangs, never a timing claim

PROGRAM = """
model m = "mock"
type Tagged {{ tags: list[str], meta: dict[str, int] }}
role Tag(q: str) -> Tagged {{
  model m
  prompt "{{{{ q }}}}"
}}
role Use(a: Tagged, q: str) -> str {{
  model m
  prompt \"\"\"{prompt}\"\"\"
}}
agent Pipeline(q: str) -> str {{
  a = Tag(q)
  b = Use(a, q)
  return b
}}
"""
TAGGED = {"tags": ["kept"], "meta": {"n": 1}}


def pipeline(prompt: str):
    return rolegraph.load_agent("pipeline.agent", text=PROGRAM.format(prompt=prompt))


async def within_hang_bound(run):
    return await asyncio.wait_for(run, HANG)


def run(ir, q: str = "question"):
    model = MockModel(script={"Tag": [TAGGED]})
    return asyncio.run(within_hang_bound(run_agent(ir, {"q": q}, model=model)))


def failure_of(ir, q: str = "question") -> FiringFailed:
    with pytest.raises(FiringFailed) as caught:
        run(ir, q)
    return caught.value


# -- the measured failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutation",
    [
        "a.tags.append('X')",
        "a.tags.pop()",
        "a.tags.clear()",
        "a.tags.extend(['X'])",
        "a.tags.insert(0, 'X')",
        "a.tags.sort(reverse=true)",
        "a.meta.update({'n': 2})",
        "a.meta.pop('n')",
        "a.meta.setdefault('m', 3)",
    ],
)
def test_a_template_cannot_change_another_nodes_output(mutation):
    failed = failure_of(pipeline(f"{{{{ {mutation} }}}} {{{{ a.tags }}}}"))
    assert isinstance(failed.error, RenderError)
    assert failed.error.role == "Use" and "role `Use`" in str(failed)
    (tagged,) = [f for f in failed.trace.firings if f.node == "a"]
    assert tagged.output == TAGGED  # as the model gave it


def test_a_template_can_still_read_and_copy_what_it_reads():
    outcome = run(pipeline("{{ (a.tags + ['more'])|join(',') }} {{ a.meta|dictsort }}"))
    (used,) = [f for f in outcome.trace.firings if f.node == "b"]
    assert (used.node, outcome.trace.firings[0].output) == ("b", TAGGED)


def test_the_pydantic_api_of_a_record_is_out_of_reach():
    class Record(BaseModel):
        text: str

    record = Record(text="hi")
    assert compiled("{{ r.text }}").render(r=record) == "hi"
    for method in ("model_copy", "model_rebuild", "model_construct", "model_fields_set"):
        with pytest.raises(Exception, match="unsafe"):
            compiled(f"{{{{ r.{method}() }}}}").render(r=record)


def test_nested_loops_stop_with_an_error_naming_the_role_instead_of_hanging():
    prompt = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    failed = failure_of(pipeline(prompt))
    assert isinstance(failed.error, PromptTooLarge)
    assert "role `Use`" in str(failed) and "loop iterations" in str(failed)


def test_a_huge_prompt_stops_at_the_character_bound():
    failed = failure_of(pipeline("{{ q }}"), q="x" * 10_000_000)
    assert isinstance(failed.error, PromptTooLarge)
    assert "1,000,000 characters" in str(failed)


def test_a_render_past_the_bound_allocates_little():
    """The measured failure: a 10 MB prompt took 1.7 GB. The render now stops at its bound,
    long before that (a generous bound on the peak, not a measure)."""
    template = compiled("{% for i in range(100000) %}{{ line }}{% endfor %}")
    tracemalloc.start()
    try:
        with pytest.raises(RenderLimitExceeded):
            template.render(line="y" * 100)  # 10 MB if it were not stopped
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'x' * 1000000000 }}",
        "{{ [0] * 1000000000 }}",
        "{{ 'x'|center(1000000000) }}",
        "{{ 'x'.center(1000000000) }}",
        "{{ 'x'.ljust(1000000000) }}",
        "{{ '%999999999d' % 1 }}",
        "{{ '%*d' % (999999999, 1) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '{:>{}}'.format(1, 999999999) }}",
        "{{ '%999999999d'|format(1) }}",
        "{{ 2 ** 1000000000 }}",
        "{{ range(1000000000)|list }}",
        "{{ big|indent(900000) }}",
        "{{ big|replace('', big) }}",
        "{{ range(100000)|join(big) }}",
        "{{ big.join(range(100000)|map('string')) }}",
        "{% set ns = namespace(s='xxxxxxxxxx') %}"
        "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        "{% set ns = namespace(s='xxxxxxxxxx') %}"
        "{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
        "{% set ns = namespace(x=10**1000) %}"
        "{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
        "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
        "{% macro m() %}{% for i in range(100000) %}{{ big }}{% endfor %}{% endmacro %}"
        "{% set ignored = m() %}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    ],
)
def test_no_single_template_can_make_a_huge_value_or_loop_without_end(template):
    with pytest.raises(RenderLimitExceeded):
        compiled(template).render(big="a\n" * 400_000)


def test_the_limits_can_be_set_for_a_run():
    ir = pipeline("{{ q }}")
    with prompt_limits(RenderLimits(chars=5)):
        failed = failure_of(ir, q="a long question")
    assert isinstance(failed.error, PromptTooLarge) and "5 characters" in str(failed)
    assert run(ir, q="a long question").result  # the default limits hold again


def test_a_prompt_an_llm_rewrote_into_nested_loops_fails_the_run_not_the_machine():
    """`rewrite_prompt` can propose such a prompt: it checks (with a warning), and running
    it ends with `PromptTooLarge`."""
    module = rolegraph.parse(PROGRAM.format(prompt="{{ q }}"))
    text = "{% for x in a.tags * 1000 %}{% for y in a.tags * 1000 %}{{ x }}{% endfor %}{% endfor %}"
    nested = "{% for x in range(1000) %}{% for y in range(1000) %}{% for z in range(10) %}"
    nested += "{% endfor %}{% endfor %}{% endfor %}"
    for prompt in (text, nested):
        edited = rolegraph.editor("pipeline.agent").apply(
            module, RewritePrompt(role="Use", text=prompt)
        )
        source = rolegraph.to_source(edited)
        checked = rolegraph.check_source(source, "pipeline.agent")
        assert not checked.errors
        failed = failure_of(rolegraph.load_agent("pipeline.agent", text=source))
        assert isinstance(failed.error, PromptTooLarge)


def test_a_compiled_python_module_renders_under_the_same_bounds(tmp_path):
    prompt = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    code = rolegraph.compile_python("pipeline.agent", text=PROGRAM.format(prompt=prompt))
    generated = load(code, tmp_path)
    model = MockModel(script={"Tag": [TAGGED]})
    with pytest.raises(FiringFailed) as caught:
        asyncio.run(within_hang_bound(generated.PROGRAM.run("Pipeline", {"q": "q"}, model=model)))
    assert isinstance(caught.value.error, PromptTooLarge)


# -- what renders renders as jinja2 renders it -----------------------------------------------

PLAIN = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)

pieces = st.sampled_from(
    [
        "text ",
        "\n",
        "{{ x }}",
        "{{ xs|join(', ') }}",
        "{{ xs|length }}",
        "{{ x ~ '!' }}",
        "{{ x + x }}",
        "{{ (x * 2)|upper }}",
        "{{ '%s-%d' % (x, 3) }}",
        "{{ '{}/{}'.format(x, 1) }}",
        "{{ x|center(9) }}",
        "{% for y in xs %}[{{ y }}{{ loop.index }}]{% endfor %}",
        "{% for y in xs %}{% for z in y %}{{ z }}{% endfor %};{% endfor %}",
        "{% if xs %}some{% else %}none{% endif %}",
        "{% for i in range(3) %}{{ i }}{% endfor %}",
        "{% set s = x ~ x %}{{ s }}",
        "{% macro m(v) %}<{{ v }}>{% endmacro %}{{ m(x) }}",
    ]
)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    st.lists(pieces, max_size=6),
    st.text(max_size=8),
    st.lists(st.text(max_size=4), max_size=4),
)
def test_within_the_bounds_a_render_is_jinja2s_own(parts, x, xs):
    template = "".join(parts)
    assert compiled(template).render(x=x, xs=xs) == PLAIN.from_string(template).render(x=x, xs=xs)


# -- the checker's warning -------------------------------------------------------------------


def warnings_for(prompt: str) -> list[str]:
    checked = rolegraph.check_source(PROGRAM.format(prompt=prompt), "pipeline.agent")
    return [d.message for d in checked.diagnostics if d.code == "W0323"]


def test_loops_nested_over_the_same_input_are_warned_about():
    (message,) = warnings_for("{% for x in a.tags %}{% for y in a.tags %}{% endfor %}{% endfor %}")
    assert "`a.tags` is iterated once per item of `a.tags`" in message


def test_loops_over_two_inputs_are_warned_about():
    assert warnings_for("{% for x in a.tags %}{% for c in q %}{% endfor %}{% endfor %}")


def test_walking_a_nested_input_is_not_warned_about():
    """A loop over what the outer loop's item holds walks the input once."""
    assert not warnings_for("{% for t in a.tags %}{% for c in t %}{{ c }}{% endfor %}{% endfor %}")


@pytest.mark.parametrize(
    "prompt",
    [
        "{% for x in a.tags %}{% for i in range(3) %}{% endfor %}{% endfor %}",
        "{% for x in a.tags %}{% for y in a.tags[:5] %}{% endfor %}{% endfor %}",
        "{% for x in a.tags %}{{ x }}{% endfor %}{% for y in a.tags %}{{ y }}{% endfor %}",
    ],
)
def test_loops_with_a_constant_bound_or_side_by_side_are_not_warned_about(prompt):
    assert not warnings_for(prompt)


def test_constant_loops_that_multiply_past_the_step_bound_are_warned_about():
    prompt = "{% for i in range(2000) %}{% for j in range(2000) %}.{% endfor %}{% endfor %}"
    (message,) = warnings_for(prompt)
    assert "4,000,000 iterations" in message


def test_the_warning_points_at_the_inner_loop_in_the_agent_file():
    inner = "{% for y in a.tags %}{% endfor %}"
    prompt = "\n    {% for x in a.tags %}\n    " + inner + "\n    {% endfor %}\n  "
    text = PROGRAM.format(prompt=prompt)
    checked = rolegraph.check_source(text, "pipeline.agent")
    (warning,) = [d for d in checked.diagnostics if d.code == "W0323"]
    line = text.splitlines()[warning.line - 1]
    assert line.strip() == inner
    assert warning.column == line.index("{") + 1


def test_no_example_or_standard_pattern_is_warned_about():
    from .conftest import EXAMPLES, STDLIB

    for path in [*EXAMPLES, *STDLIB]:
        checked = rolegraph.check_source(path.read_text(), str(path))
        assert not [d for d in checked.diagnostics if d.code == "W0323"], path


def test_the_warning_is_explained():
    from typer.testing import CliRunner

    from rolegraph.cli import app

    result = CliRunner().invoke(app, ["explain", "W0323"])
    assert result.exit_code == 0 and "multiplicatively" in result.output
