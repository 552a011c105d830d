"""What `rolegraph check` does once its options are read, by typer (check.py) or by the
fast path (fast.py): it imports no typer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

from .exits import EXIT_DIAGNOSTICS, EXIT_OK, echo
from .files import agent_files, check_file
from .render import diagnostic_json, print_cost, print_in_sources, printable, summary


def check_files(
    files: list[Path], *, as_json: bool, strict: bool, cost: bool, root: Path | None, connect: bool
) -> NoReturn:
    """Check files and folders of them: diagnostics on stderr (or JSON on stdout), each
    constraint proven, the cost tables (`cost`); exits 1 on errors (and warnings when
    `strict`), else 0."""
    all_diagnostics: list[dict] = []
    errors = warnings = 0
    for path in agent_files(files):
        checked, diagnostics, sources = check_file(path, root=root, keep=not connect)
        if connect and checked is not None:
            from rolegraph.runtime.mcp_check import connected_diagnostics

            diagnostics = [*diagnostics, *connected_diagnostics(checked)]
        for diagnostic in diagnostics:
            if diagnostic.is_error:
                errors += 1
            else:
                warnings += 1
        if as_json:
            all_diagnostics.extend(diagnostic_json(d) for d in diagnostics)
            continue
        print_in_sources(diagnostics, sources)
        if checked is not None:
            for result in checked.constraints:
                if result.status == "proven":
                    echo(
                        printable(
                            f"{path}: {result.agent}: `{result.mode} {result.text}` proven "
                            f"on every run ({result.states} states explored)"
                        ),
                        err=True,
                    )
            if cost:
                print_cost(checked)
    failed = errors > 0 or (strict and warnings > 0)
    if as_json:
        echo(json.dumps(all_diagnostics, indent=2))
    elif errors or warnings:
        echo(summary(errors, warnings), err=True)
    raise SystemExit(EXIT_DIAGNOSTICS if failed else EXIT_OK)
