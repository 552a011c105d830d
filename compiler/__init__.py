"""The rolegraph compiler: AST, printer, and (in later stages) checker, IR and backends.

Importing this package is cheap: submodules are imported where they are used.
"""
