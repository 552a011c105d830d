"""The rolegraph runtime: executes the IR built by the compiler."""
