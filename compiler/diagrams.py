"""Diagrams of an agent's IR: Mermaid flowcharts and Graphviz DOT.

Nodes show their name, callee and output type (`x N` and maps included); data edges
are solid, control edges dashed and labelled with their guard and bound, and return
edges point at a `return` node.
"""

from __future__ import annotations

from .ir import RETURN, AgentIR, IREdge, IRNode


def _node_label(node: IRNode) -> str:
    shape = ""
    if node.replicate:
        shape = f" x {node.replicate}"
    elif node.map_max:
        shape = f" for {node.map_var} ... max {node.map_max}"
    kind = "" if node.kind == "role" else f" ({node.kind})"
    return f"{node.name}\n{node.callee}{shape}{kind} → {node.output_type}"


def _edge_label(edge: IREdge) -> str:
    label = edge.label()
    if edge.ports:
        label = (label + " " if label else "") + "(" + ", ".join(edge.ports) + ")"
    return label


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def _mermaid_id(name: str) -> str:
    return "return_" if name == RETURN else f"n_{name}"


def to_mermaid(ir: AgentIR) -> str:
    lines = ["flowchart TD"]
    for node in ir.nodes.values():
        lines.append(f'  {_mermaid_id(node.name)}["{_mermaid_text(_node_label(node))}"]')
    lines.append(f'  {_mermaid_id(RETURN)}(["return"])')
    for edge in ir.edges:
        source, target = _mermaid_id(edge.source), _mermaid_id(edge.target)
        label = _mermaid_text(_edge_label(edge))
        if edge.kind == "data":
            lines.append(f"  {source} --> {target}")
        elif label:
            lines.append(f'  {source} -. "{label}" .-> {target}')
        else:
            lines.append(f"  {source} -.-> {target}")
    for ret in ir.returns_:
        for dep in ret.deps:
            lines.append(f"  {_mermaid_id(dep)} --> {_mermaid_id(RETURN)}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(ir: AgentIR) -> str:
    lines = [
        f'digraph "{_dot_text(ir.name)}" {{',
        "  rankdir=TB;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for node in ir.nodes.values():
        lines.append(f'  "{_dot_text(node.name)}" [label="{_dot_text(_node_label(node))}"];')
    lines.append(f'  "{RETURN}" [label="return", shape=oval];')
    for edge in ir.edges:
        attributes = []
        if edge.kind != "data":
            attributes.append("style=dashed")
        label = _edge_label(edge)
        if label:
            attributes.append(f'label="{_dot_text(label)}"')
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f'  "{_dot_text(edge.source)}" -> "{_dot_text(edge.target)}"{suffix};')
    for ret in ir.returns_:
        for dep in ret.deps:
            lines.append(f'  "{_dot_text(dep)}" -> "{RETURN}";')
    lines.append("}")
    return "\n".join(lines) + "\n"
