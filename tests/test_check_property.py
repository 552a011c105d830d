"""Random well-typed agents, built from the prelude's roles, check without errors."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegraph.compiler.analyses import worst_case_firings

from .checking import PRELUDE, check


@st.composite
def well_typed_agents(draw) -> str:
    lines: list[str] = []
    drafts: list[str] = []  # nodes whose output is a Draft
    draft_lists: list[str] = []  # nodes whose output is list[Draft]
    reviews: list[str] = []
    picks: list[str] = []
    ancestors: dict[str, set[str]] = {}
    for index in range(draw(st.integers(1, 7))):
        name = f"n{index}"
        choices = ["writer", "router"]
        if drafts:
            choices.append("critic")
        if drafts or draft_lists:
            choices.append("merger")
        kind = draw(st.sampled_from(choices))
        reads: list[str] = []
        if kind == "writer":
            feedback = draw(
                st.sampled_from(
                    ["none", "literal"] + ["review"] * bool(reviews) + ["pick"] * bool(picks)
                )
            )
            arg = ""
            if feedback == "literal":
                arg = ', feedback: "be brief"'
            elif feedback == "review":
                source = draw(st.sampled_from(reviews))
                arg, reads = f", feedback: {source}.feedback", [source]
            elif feedback == "pick":
                source = draw(st.sampled_from(picks))
                arg, reads = f", feedback: {source}.why", [source]
            replicate = draw(st.sampled_from(["", "", " x 3"]))
            lines.append(f"  {name} = Writer(task{arg}){replicate}")
            (draft_lists if replicate else drafts).append(name)
        elif kind == "critic":
            source = draw(st.sampled_from(drafts))
            lines.append(f"  {name} = Critic(task, draft: {source})")
            reads = [source]
            reviews.append(name)
        elif kind == "router":
            lines.append(f"  {name} = Router(task)")
            picks.append(name)
        else:
            if draft_lists and (not drafts or draw(st.booleans())):
                source = draw(st.sampled_from(draft_lists))
                lines.append(f"  {name} = Merger(task, drafts: {source})")
                reads = [source]
            else:
                items = draw(st.lists(st.sampled_from(drafts), min_size=1, max_size=3, unique=True))
                lines.append(f"  {name} = Merger(task, drafts: [{', '.join(items)}])")
                reads = items
            drafts.append(name)
        ancestors[name] = set(reads).union(*(ancestors[r] for r in reads))
        if kind == "critic":
            # a bounded revision loop back to a writer this review depends on
            writers = [
                a
                for a in ancestors[name]
                if a in drafts and any(line.startswith(f"  {a} = Writer") for line in lines)
            ]
            if writers and draw(st.booleans()):
                target = draw(st.sampled_from(sorted(writers)))
                bound = draw(st.integers(1, 3))
                lines.append(
                    f"  {name} -> {target}(feedback: {name}.feedback) "
                    f"when not {name}.ok max {bound}"
                )
    if not drafts:
        lines.append("  final = Writer(task)")
        drafts.append("final")
    result = draw(st.sampled_from(drafts))
    lines.append(f"  return {result}")
    if draw(st.booleans()):
        lines.append(f"  ensure always(return -> once {result})")
    return "agent Random(task: str) -> Draft {\n" + "\n".join(lines) + "\n}\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_typed_agents())
def test_well_typed_agents_check_without_errors(agent):
    result = check(PRELUDE + agent)
    errors = [str(d) for d in result.diagnostics if d.is_error]
    assert not errors, agent
    ir = result.irs["Random"]
    firings = worst_case_firings(ir)
    assert all(1 <= f <= 100 for f in firings.values()), (agent, firings)
    for constraint in result.constraints:
        assert constraint.status == "proven", (agent, constraint)
