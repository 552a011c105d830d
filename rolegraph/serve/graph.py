"""An agent's IR as data for the web app to draw: its nodes (role, type, shape, worst-
case firings and calls), its edges (data, control with guard and bound, return), its
returns, and its constraints with the checker's verdicts (proven, violated with a
counterexample, unknown). The drawing itself (a layered layout in SVG) is the page's.
"""

from __future__ import annotations

from typing import Any

from rolegraph.compiler.ir import RETURN

from .catalog import ServedAgent


def _span(span: Any) -> dict[str, int] | None:
    return None if span is None else {"line": span.line, "column": span.column}


def graph_json(agent: ServedAgent) -> dict[str, Any]:
    from rolegraph.compiler.analyses import worst_case_firings
    from rolegraph.compiler.printer import to_source

    ir = agent.ir
    firings = worst_case_firings(ir)
    nodes = [
        {
            "name": node.name,
            "kind": node.kind,
            "callee": node.callee,
            "type": node.output_type,
            "entry": node.entry,
            "replicate": node.replicate,
            "map": None if node.map_max is None else {"var": node.map_var, "max": node.map_max},
            "model": node.model,
            "deps": list(node.deps),
            "firings": firings.get(node.name, 0),
            "calls": firings.get(node.name, 0) * node.calls_per_firing,
            "span": _span(node.span),
        }
        for node in ir.nodes.values()
    ]
    edges = []
    for edge in ir.edges:
        edges.append(
            {
                "kind": edge.kind,
                "source": edge.source,
                "target": "return" if edge.target == RETURN else edge.target,
                "condition": edge.condition,
                "guard": to_source(edge.guard) if edge.guard is not None else None,
                "max": edge.max,
                "loop": edge.loop,
                "ports": list(edge.ports),
                "value": to_source(edge.value) if edge.value is not None else None,
                "label": edge.label(),
                "span": _span(edge.span),
            }
        )
    returns = [
        {"value": to_source(ret.value), "deps": list(ret.deps), "span": _span(ret.span)}
        for ret in ir.returns_
    ]
    for ret in ir.returns_:  # (a return statement reads its nodes: edges to `return`)
        for dep in ret.deps:
            edges.append(
                {
                    "kind": "return",
                    "source": dep,
                    "target": "return",
                    "condition": "always",
                    "guard": None,
                    "max": None,
                    "loop": False,
                    "ports": [],
                    "value": to_source(ret.value),
                    "label": "",
                    "span": _span(ret.span),
                }
            )
    verdicts = {(c.mode, c.text): c for c in agent.constraints}
    constraints = []
    for constraint in ir.constraints:
        found = verdicts.get((constraint.mode, constraint.text))
        counterexample = None
        if found is not None and found.counterexample is not None:
            counterexample = {
                "steps": [sorted(step) for step in found.counterexample.trace],
                "story": list(found.counterexample.story),
            }
        constraints.append(
            {
                "mode": constraint.mode,
                "text": constraint.text,
                "status": found.status if found is not None else "unknown",
                "states": found.states if found is not None else 0,
                "counterexample": counterexample,
                "span": _span(constraint.span),
            }
        )
    return {
        "agent": agent.name,
        "name": ir.name,
        "file": str(agent.file.path),
        "params": dict(ir.param_types and {k: str(v) for k, v in ir.param_types.items()}),
        "returns": ir.returns,
        "nodes": nodes,
        "edges": edges,
        "returns_": returns,
        "constraints": constraints,
        "worst_case_calls": sum(n["calls"] for n in nodes),
    }
