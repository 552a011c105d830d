"""The options several commands share, as typer declares them: where imports may reach,
how models are reached (run, search, attribute, serve, mcp), what edits may bring in.
What each turns into is options.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Where a program's file imports may reach (compiler/resolve.py; docs/language.md).
RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="The project directory file imports must stay in (default: the file's directory).",
    ),
]

# How every command that calls models reaches them (run, search, attribute).
ApiBaseOption = Annotated[
    str | None,
    typer.Option("--api-base", help="An OpenAI-compatible server's URL, for every model called."),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="A model parameter NAME=VALUE laid over every role's own (repeatable), "
        "e.g. temperature=0, structured_output=schema_in_json_object, cost_per_input_token=0.",
    ),
]
TimeoutOption = Annotated[
    float | None, typer.Option("--timeout", help="Seconds each model call may take.")
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option("--concurrency", help="Calls in flight at once, per model and server."),
]

# What edits may bring in beyond what the program has (compiler/edits/trust.py).
AllowToolOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-tool",
        help='A tool target edits may declare: "module:function" or "module:*" (repeatable).',
    ),
]
AllowImportOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-import",
        help='A module edits may import: std.NAME, std.*, or a path "./x.agent" (repeatable).',
    ),
]
