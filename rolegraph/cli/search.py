"""`rolegraph search` and `rolegraph attribute`: better agents found by typed edits, and
what each node of one is worth, as typer declares them. What `search` does is
searching.py's (the fast path, fast.py, calls it too); its options are one record,
search_options.py's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from .exits import EXIT_DIAGNOSTICS, stdout_for_the_result
from .options import provider_params
from .params import (
    AllowImportOption,
    AllowToolOption,
    ApiBaseOption,
    ConcurrencyOption,
    ParamOption,
    RootOption,
    TimeoutOption,
)
from .render import print_shapley
from .search_options import SEARCH_STORE, SearchOptions
from .searching import OPTIMIZERS, evaluation_setup, search_file_command

__all__ = ["OPTIMIZERS", "commands", "evaluation_setup"]

commands = typer.Typer()


# Arguments and options that `search` and `attribute` share.
AgentArgument = Annotated[str | None, typer.Argument(help="The agent (default: the last one).")]
DataOption = Annotated[
    Path | None,
    typer.Option("--data", "-d", help='Examples as JSONL: {"inputs": {...}, "expected": ...}.'),
]
ScoreOption = Annotated[
    str, typer.Option("--score", help="exact, contains, field:NAME, or module:function.")
]
SeedsOption = Annotated[int, typer.Option("--seeds", help="Runs per example (seeds 0..N-1).")]
ModelOption = Annotated[
    str,
    typer.Option(
        "--model", "-m", help="The model of every role (mock: offline); declared: each role's own."
    ),
]
SearchStoreOption = Annotated[
    Path, typer.Option("--store", help="SQLite file of runs and candidates (a search resumes).")
]


@commands.command(name="search")
def search_command(
    file: Annotated[Path, typer.Argument(help="The .agent file to start from.")],
    agent: AgentArgument = None,
    data: DataOption = None,
    score: ScoreOption = "exact",
    evaluations: Annotated[
        int, typer.Option("--evaluations", "-n", help="Candidates to evaluate, the start included.")
    ] = 20,
    seeds: SeedsOption = 1,
    seed: Annotated[int, typer.Option("--seed", help="The search's random seed.")] = 0,
    cost: Annotated[str, typer.Option("--cost", help="tokens, dollars or calls.")] = "tokens",
    model: ModelOption = "mock",
    store: SearchStoreOption = SEARCH_STORE,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the Pareto front here as .agent files."),
    ] = None,
    optimizer: Annotated[
        str,
        typer.Option(
            "--optimizer",
            help="random; evolve (a quality-diversity archive, crossover); swarm (particles "
            "moving along edit scripts); mcts (a tree of edits); llm (a model proposes "
            "edits as JSON); or reflect (a model reads the failing runs' traces).",
        ),
    ] = "random",
    proposer: Annotated[
        str,
        typer.Option("--proposer", help="With --optimizer llm or reflect: the proposing model."),
    ] = "mock",
    proposal: Annotated[
        str,
        typer.Option(
            "--proposal",
            help="With --optimizer llm: structured (the operator from an enum, then its typed "
            "fields) or text (the edit's JSON as free text).",
        ),
    ] = "structured",
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a plot of score against evaluations (SVG).")
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", help="Where runs happen: local (asyncio), or ray.")
    ] = "local",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, no line per candidate.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="A line per candidate on a terminal too (above the bar)."
        ),
    ] = False,
    api_base: ApiBaseOption = None,
    param: ParamOption = None,
    timeout: TimeoutOption = None,
    concurrency: ConcurrencyOption = None,
    allow_tool: AllowToolOption = None,
    allow_import: AllowImportOption = None,
    root: RootOption = None,
    held_out: Annotated[
        Path | None,
        typer.Option(
            "--held-out",
            help="Examples (JSONL) the front is judged on after the search, apart from --data.",
        ),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(
            "--budget",
            help="A hard limit on the whole search: calls=N,tokens=N,cost=X (and prompt=N, "
            "the tokens a call's prompt may take; attempts=N per call). Each evaluation "
            "reserves its static worst case first (docs/search.md#budget).",
        ),
    ] = None,
) -> None:
    """Search for better agents by typed edits (random search, evolution, a particle
    swarm, tree search, or an LLM proposing edits that the checker accepts or refuses):
    every candidate checks, the Pareto front of score and cost is reported, and runs are
    cached, so a search resumes."""
    # (the parameters are SearchOptions' fields, name for name: tests/test_cli_fast.py)
    search_file_command(SearchOptions(**locals()))


@commands.command(name="attribute")
def attribute_command(
    file: Annotated[Path, typer.Argument(help="The .agent file.")],
    agent: AgentArgument = None,
    data: DataOption = None,
    score: ScoreOption = "exact",
    seeds: SeedsOption = 1,
    model: ModelOption = "mock",
    store: SearchStoreOption = SEARCH_STORE,
    samples: Annotated[
        int, typer.Option("--samples", help="Random orders, beyond 8 nodes (exact below).")
    ] = 64,
    api_base: ApiBaseOption = None,
    param: ParamOption = None,
    timeout: TimeoutOption = None,
    concurrency: ConcurrencyOption = None,
    root: RootOption = None,
) -> None:
    """What each node that calls a model is worth: its Shapley value for the score,
    from runs with nodes blanked (their calls answered with the empty value of their
    type)."""
    params = provider_params(api_base, param, timeout, concurrency)
    with stdout_for_the_result() as out:
        _attribute(file, agent, data, score, seeds, model, store, samples, params, out, root)


def _attribute(
    file: Path,
    agent: str | None,
    data: Path | None,
    score: str,
    seeds: int,
    model: str,
    store: Path,
    samples: int,
    params: dict[str, Any],
    out: TextIO,
    root: Path | None = None,
) -> None:
    from rolegraph.runtime import StoreError
    from rolegraph.runtime.sync import run_sync
    from rolegraph.search import ObjectiveError, shapley
    from rolegraph.search.evaluate import MAX_CALLS
    from rolegraph.search_view import SearchProgress

    shown = SearchProgress(
        0, "coalitions", bar=sys.stderr.isatty(), lines=False, max_calls=MAX_CALLS
    )
    module, _, evaluator = evaluation_setup(
        file,
        agent,
        data,
        score,
        seeds,
        "tokens",
        model,
        store,
        params,
        root=root,
        on_run=shown.run_ended,
    )
    try:
        with shown:
            found = run_sync(shapley(module, evaluator, samples=samples, progress=shown.coalition))
    except (ObjectiveError, StoreError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    print_shapley(found, samples, out)
