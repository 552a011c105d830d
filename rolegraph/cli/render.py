"""What the commands print beyond their result: diagnostics, JSON, and rich tables.

The compiler's modules load pydantic and jinja2, and rich tables load rich: each is
imported on first use, so that `rolegraph --help` and the commands that never print a
diagnostic or a table do without them.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .exits import echo

if TYPE_CHECKING:
    from rolegraph.compiler.diagnostics import Diagnostic
    from rolegraph.compiler.source import Source as SourceType


def printable(text: str) -> str:
    """`text` with its control characters escaped, safe to print on a terminal."""
    from rolegraph.compiler.diagnostics import printable

    return printable(text)


def source_of(file: str, text: str) -> SourceType:
    """The source a diagnostic points into."""
    from rolegraph.compiler.source import Source

    return Source(file, text)


def print_diagnostics(diagnostics: tuple[Diagnostic, ...], source: SourceType) -> None:
    """Each diagnostic rendered rustc-style on stderr (in colour on a terminal)."""
    for diagnostic in diagnostics:
        print_diagnostic(diagnostic, source)


def print_diagnostic(diagnostic: Diagnostic, source: SourceType) -> None:
    from rolegraph.compiler.diagnostics import render

    echo(render(diagnostic, source, color=sys.stderr.isatty()) + "\n", err=True)


def print_in_sources(diagnostics: Any, sources: dict[str, str]) -> None:
    """Diagnostics of several files, each shown in the text of its own file."""
    for diagnostic in diagnostics:
        print_diagnostic(diagnostic, source_of(diagnostic.file, sources.get(diagnostic.file, "")))


def diagnostic_json(diagnostic: Diagnostic) -> dict:
    data = diagnostic.model_dump(mode="json")
    data["line"] = diagnostic.line
    data["column"] = diagnostic.column
    return data


def json_text(value: Any) -> str:
    """`value` as indented JSON that can be written as UTF-8: non-ASCII text stays as it
    is, but a lone surrogate (a JSON input may hold one: `"\\ud800"`) has no UTF-8
    form, so it is written as its JSON escape, which reads back as the same value."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


# Surrogates appear in `json.dumps` output only inside strings, where an escape is valid.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def summary(errors: int, warnings: int) -> str:
    """`2 errors, 1 warning`."""
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)


def plain_console(**options: Any) -> Any:
    """A rich console that prints each cell as written: the tables' cells hold text from
    the user's file or from the search (a model's name, an edit, a prompt an LLM wrote),
    which is neither rich's markup nor an emoji code (one that reads as a closing tag,
    `[/b]`, would fail the command with rich's MarkupError)."""
    from rich.console import Console

    return Console(markup=False, emoji=False, **options)


def print_cost(checked: Any) -> None:
    """`check --cost`: each agent's worst case per run, node by node, as a table."""
    from rich.table import Table

    from rolegraph.compiler.analyses import cost_table

    console = plain_console()
    for name, ir in checked.irs.items():
        table = Table(title=f"{name}: worst case per run", title_justify="left")
        for column in ("node", "callee", "model", "firings", "model calls", "output tokens"):
            table.add_column(
                column,
                justify="right"
                if column in ("firings", "model calls", "output tokens")
                else "left",
            )
        rows = cost_table(ir)
        asks = any(r.questions for r in rows)  # human steps: a column of their own
        if asks:
            table.add_column("human steps", justify="right")
        for row in rows:
            tokens = "unbounded" if row.output_tokens is None else f"{row.output_tokens:,}"
            cells = [row.node, row.callee, row.model or "-", str(row.firings), str(row.calls)]
            table.add_row(*cells, tokens, *([str(row.questions)] if asks else []))
        total_calls = sum(r.calls for r in rows)
        token_values = [r.output_tokens for r in rows]
        total_tokens = (
            "unbounded"
            if any(t is None for t in token_values)
            else f"{sum(t for t in token_values if t is not None):,}"
        )
        table.add_section()
        total_questions = [str(sum(r.questions for r in rows))] if asks else []
        table.add_row("total", "", "", "", str(total_calls), total_tokens, *total_questions)
        console.print(table)


def print_front(cost: str, rows: Any) -> None:
    """`search`: the Pareto front as a table on stderr."""
    from rich.table import Table

    table = Table(title="Pareto front (score against cost)", title_justify="left")
    judged = any(row.held_out is not None for row in rows)
    columns = ["score", *(["held-out"] if judged else []), cost, "calls/run (worst)"]
    for column in (*columns, "nodes vs start", "failures", "made by", "fingerprint"):
        table.add_column(
            column, justify="left" if column in ("made by", "nodes vs start") else "right"
        )
    for row in rows:
        evaluation = row.scored.evaluation
        table.add_row(
            f"{evaluation.score:.3f}",
            *([f"{row.held_out:.3f}" if row.held_out is not None else "-"] if judged else []),
            f"{evaluation.cost:g}",
            str(row.calls_per_run),
            row.structure,
            str(evaluation.failures),
            row.scored.made_by,
            evaluation.fingerprint[:12],
        )
    plain_console(stderr=True, width=180).print(table)


def print_shapley(found: Any, samples: int, out: TextIO) -> None:
    """`attribute`: each node's Shapley value, as a table on `out`."""
    from rich.table import Table

    how = "exact" if found.exact else f"estimated from {samples} random orders"
    echo(f"{found.agent}: Shapley values ({how})", file=out)
    table = Table()
    table.add_column("node")
    table.add_column("value", justify="right")
    for player in sorted(found.players, key=lambda p: -found.values[p]):
        table.add_row(player, f"{found.values[player]:+.3f}")
    plain_console(width=100, file=out).print(table)
    echo(
        f"score {found.full:.3f} with every node, {found.empty:.3f} with all blanked; "
        f"{found.coalitions} coalitions evaluated",
        file=out,
    )
