"""The rolegraph compiler: the AST and its printer, the resolver and type checker, the
graph analyses and the explorer of runs, lowering to the IR, the backends (Python,
LangGraph, Mermaid, DOT) and the typed edit operators.

Importing this package is cheap: submodules are imported where they are used, and the
runtime imports only the IR and what evaluating it needs (never the checker).
"""
