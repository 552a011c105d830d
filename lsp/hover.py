"""What hovering a name shows: a node's role, type and worst-case calls; a role's
signature; a record's fields; a parameter's or field's type; a constraint's verdict."""

from __future__ import annotations

from rolegraph.compiler import ast
from rolegraph.compiler.analyses import worst_case_firings
from rolegraph.compiler.printer import to_source
from rolegraph.compiler.resolve import Symbol

from .analysis import Analysis
from .index import Occurrence
from .symbols import Resolver, Target


def hover_text(analysis: Analysis, offset: int) -> tuple[str, int, int] | None:
    """Markdown for the name or constraint at `offset`, and the span it describes."""
    occurrence = analysis.index.at(offset)
    if occurrence is not None and analysis.checked is not None:
        text = _describe(analysis, occurrence)
        if text:
            return text, occurrence.start, occurrence.end
    site = analysis.index.constraint_at(offset)
    if site is not None:
        verdicts = {(s.agent, s.index): v for s, v in analysis.verdicts()}
        verdict = verdicts.get((site.agent, site.index))
        code = f"```rolegraph\n{to_source(site.node)}\n```"
        if verdict is None:
            return f"{code}\n\nnot explored: the agent has errors", site.start, site.end
        lines = [code, "", _verdict_line(verdict.status, verdict.states)]
        for d in analysis.diagnostics:
            if d.span is not None and d.span.start == site.start and d.notes:
                lines += ["", "```", *d.notes, "```"]
        return "\n".join(lines), site.start, site.end
    return None


def _verdict_line(status: str, states: int) -> str:
    if status == "proven":
        return f"**proven** on every run ({states} states explored)"
    if status == "violated":
        return f"**violated** by a run ({states} states explored): the counterexample follows"
    return f"**not decided**: more states than the checker explores ({states} explored)"


def _code(text: str) -> str:
    return f"```rolegraph\n{text}\n```"


def _describe(analysis: Analysis, occurrence: Occurrence) -> str | None:
    assert analysis.checked is not None
    program = analysis.checked.program
    resolver = Resolver(program)
    target = occurrence.target
    symbol = _symbol_of(program.modules.values(), target)
    where = "" if target.file == analysis.filename else f"\n\nfrom `{target.file}`"
    if target.kind in ("role", "agent", "tool", "human") and symbol is not None:
        return _code(signature(symbol.decl)) + _comments(symbol.decl) + where
    if target.kind in ("type", "enum", "model", "mcp") and symbol is not None:
        return _code(to_source(symbol.decl.strip_trivia())) + _comments(symbol.decl) + where
    if target.kind == "module":
        return f"module `{target.name}`\n\n`{target.file}`"
    if target.kind == "node":
        return _node(analysis, resolver, target)
    owner = _symbol_of(
        program.modules.values(), Target("", target.owner.split(".")[0], "", target.file, 0, 0)
    )
    if owner is None:
        return f"`{target.name}`"
    if target.kind in ("field", "member"):
        part = resolver.fields(owner).get(target.name)
        if part is None:
            return None
        what = "field" if target.kind == "field" else "member"
        return _code(to_source(part[2].strip_trivia())) + f"\n\n{what} of `{owner.name}`"
    if target.kind == "param":
        for param in _params_of(owner.decl, target.owner):
            if param.name == target.name:
                return _code(to_source(param)) + f"\n\nparameter of {owner.kind} `{target.owner}`"
    if target.kind == "ct_param" and isinstance(owner.decl, ast.AgentDecl):
        for ct in owner.decl.ct_params:
            if ct.name == target.name:
                return _code(to_source(ct)) + f"\n\ncompile-time parameter of `{owner.name}`"
    if target.kind == "map_var":
        return (
            f"`{target.name}`: one item of the list node `{target.owner.split('.')[-1]}` maps over"
        )
    return None


def signature(decl: ast.Node) -> str:
    """`role Writer(task: str, feedback: str = "") -> Answer`, and the like."""
    kind = {
        ast.RoleDecl: "role",
        ast.AgentDecl: "agent",
        ast.ToolDecl: "tool",
        ast.HumanDecl: "human",
    }[type(decl)]
    name = getattr(decl, "name", "")
    params = ", ".join(to_source(p) for p in getattr(decl, "params", ()))
    ct = getattr(decl, "ct_params", ())
    ct_text = f"[{', '.join(to_source(p) for p in ct)}]" if ct else ""
    text = f"{kind} {name}{ct_text}({params}) -> {to_source(decl.returns)}"  # type: ignore[attr-defined]
    if isinstance(decl, ast.RoleDecl):
        if decl.model is not None:
            text += f"\n  model {decl.model.name}"
        if decl.tools is not None:
            text += "\n  " + to_source(decl.tools.strip_trivia())
    if isinstance(decl, ast.ToolDecl):
        if decl.server is None:
            text += f' = "{decl.target}"'
        elif ast.is_identifier(decl.target):
            text += f" = {decl.server}.{decl.target}"
        else:
            text += f' = {decl.server}["{decl.target}"]'
    if isinstance(decl, ast.HumanDecl) and decl.deadline is not None:
        text += f'\n  deadline "{decl.deadline.duration}"'
    return text


def _node(analysis: Analysis, resolver: Resolver, target: Target) -> str | None:
    assert analysis.checked is not None
    agent = analysis.checked.program.main.names.get(target.owner)
    if agent is None or not isinstance(agent.decl, ast.AgentDecl):
        return None
    node = agent.decl.node(target.name)
    if node is None:
        return None
    callee = resolver.callee(agent, node)
    lines = [_code(to_source(node.strip_trivia()))]
    if isinstance(callee, Symbol):
        lines.append(f"calls `{signature(callee.decl).splitlines()[0]}`")
    elif isinstance(callee, ast.CtParam):
        lines.append(f"calls the role parameter `{to_source(callee)}`")
    info = analysis.checked.agents.get(agent.qualified)
    if info is not None and target.name in info.nodes:
        lines.append(f"output: `{info.nodes[target.name].output}`")
    ir = analysis.checked.irs.get(agent.qualified)
    if ir is not None and target.name in ir.nodes:
        firings = worst_case_firings(ir)[target.name]
        calls = firings * ir.nodes[target.name].calls_per_firing
        lines.append(
            f"worst case per run: fires at most {firings} time{'s' if firings != 1 else ''}, "
            f"{calls} model call{'s' if calls != 1 else ''}"
        )
    return "\n\n".join(lines)


def _params_of(decl: ast.Node, owner: str) -> tuple[ast.Param, ...]:
    if "." in owner and isinstance(decl, ast.AgentDecl):  # a parameter of a role signature
        ct_name = owner.split(".", 1)[1]
        for ct in decl.ct_params:
            if ct.name == ct_name and isinstance(ct.type, ast.RoleSig):
                return ct.type.params or ()
        return ()
    return tuple(getattr(decl, "params", ()))


def _symbol_of(modules, target: Target) -> Symbol | None:
    for module in modules:
        if module.filename == target.file and target.name in module.names:
            return module.names[target.name]
    return None


def _comments(decl: ast.Node) -> str:
    comments = [c.removeprefix("//").strip() for c in getattr(decl, "comments", ()) if c]
    return ("\n\n" + " ".join(comments)) if comments else ""
