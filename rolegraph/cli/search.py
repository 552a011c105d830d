"""`rolegraph search` and `rolegraph attribute`: better agents found by typed edits, and
what each node of one is worth. The optimizers are a table, name to starter."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from .exits import EXIT_DIAGNOSTICS, keep_until_exit, stdout_for_the_result, usage_error
from .files import check_output, checked_or_exit, open_store, write_output
from .options import check_model_option, provider_params, trust_policy, warm_up_litellm
from .params import (
    AllowImportOption,
    AllowToolOption,
    ApiBaseOption,
    ConcurrencyOption,
    ParamOption,
    RootOption,
    TimeoutOption,
)
from .render import print_front, print_shapley

commands = typer.Typer()


@dataclass(frozen=True)
class _Start:
    """What an optimizer starts from: the program, its evaluator and editor, and the
    search's options."""

    module: Any
    evaluator: Any
    editor: Any
    evaluations: int
    seed: int
    progress: Any
    proposer: str
    proposer_params: dict[str, Any]
    proposal: str


def _walking(name: str) -> Callable[[_Start], Any]:
    """An optimizer of `rolegraph.search` that walks typed edits from a seed."""

    def start(given: _Start) -> Any:
        import rolegraph.search

        optimize = getattr(rolegraph.search, name)
        return optimize(
            given.module,
            given.evaluator,
            evaluations=given.evaluations,
            seed=given.seed,
            progress=given.progress,
            editor=given.editor,
        )

    return start


def _proposed(given: _Start) -> Any:
    """`llm`: a model proposes edits as JSON, the checker accepts or refuses them."""
    from rolegraph.search import meta_search

    return meta_search(
        given.module,
        given.evaluator,
        proposer=given.proposer,
        proposer_params=given.proposer_params,
        evaluations=given.evaluations,
        progress=given.progress,
        editor=given.editor,
        proposal="text" if given.proposal == "text" else "structured",
    )


def _reflected(given: _Start) -> Any:
    """`reflect`: the `--proposer` model reads the failing runs' traces and says, node by
    node, what went wrong; its notes become typed edits, checked like any proposal."""
    from rolegraph.search.reflect import reflect_search

    return reflect_search(
        given.module,
        given.evaluator,
        critic=given.proposer,
        critic_params=given.proposer_params,
        evaluations=given.evaluations,
        progress=given.progress,
        editor=given.editor,
    )


#: `--optimizer NAME` → the coroutine of its search (in the order `--help` names them).
OPTIMIZERS: dict[str, Callable[[_Start], Any]] = {
    "random": _walking("random_search"),
    "evolve": _walking("evolve"),
    "swarm": _walking("swarm"),
    "mcts": _walking("mcts"),
    "llm": _proposed,
    "reflect": _reflected,
}


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
SEARCH_STORE = Path(".rolegraph/search.sqlite")


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
    from rolegraph.runtime import StoreError
    from rolegraph.runtime.sync import run_sync
    from rolegraph.search import (
        BudgetSpent,
        ObjectiveError,
        SearchBudget,
        SearchBudgetError,
        write_front,
        write_report,
    )

    if optimizer not in OPTIMIZERS:
        raise usage_error(f"--optimizer is one of {', '.join(OPTIMIZERS)}, not {optimizer!r}")
    if evaluations < 1:
        raise usage_error("--evaluations is at least 1")
    if proposal not in ("structured", "text"):
        raise usage_error(f"--proposal is structured or text, not {proposal!r}")
    if backend not in ("local", "ray"):
        raise usage_error(f"--backend is local or ray, not {backend!r}")
    check_output(output, "-o", folder=True)
    check_output(plot, "--plot")
    params = provider_params(api_base, param, timeout, concurrency)
    trust = trust_policy(allow_tool, allow_import)
    try:
        limits = SearchBudget.parse(budget) if budget is not None else None
    except SearchBudgetError as error:
        raise usage_error(str(error)) from None
    from rolegraph.search.evaluate import MAX_CALLS
    from rolegraph.search_view import SearchProgress

    terminal = sys.stderr.isatty()
    shown = SearchProgress(
        evaluations,
        "candidates",
        bar=terminal and not quiet,
        lines=not quiet and (verbose or not terminal),
        max_calls=MAX_CALLS,
    )
    module, objective, evaluator = evaluation_setup(
        file,
        agent,
        data,
        score,
        seeds,
        cost,
        model,
        store,
        params,
        backend,
        root,
        budget=limits,
        on_run=shown.run_ended,
    )
    if limits is not None:
        from rolegraph.search_budget_view import preflight

        try:
            preflight(module, evaluator, limits, quiet=quiet)
        except (SearchBudgetError, BudgetSpent, ObjectiveError) as error:
            raise usage_error(str(error)) from None  # (refused before any model call)
    editor = evaluator.editor(trust)
    keep_until_exit()  # (start-up's objects: the runs' own are collected as always)
    progress = shown.candidate
    given = _Start(
        module, evaluator, editor, evaluations, seed, progress, proposer, params, proposal
    )
    try:
        search = OPTIMIZERS[optimizer](given)
        with stdout_for_the_result(), shown:  # no result on stdout: all goes to stderr
            result = run_sync(search)
    except (ObjectiveError, StoreError, BudgetSpent, SearchBudgetError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    if limits is not None and not quiet:
        from rolegraph.search_budget_view import spent_line

        typer.echo(spent_line(limits, result), err=True)
    elif result.stopped and not quiet:
        typer.echo(f"the search stopped early: {result.stopped}", err=True)
    if result.refused and not quiet:
        typer.echo(f"{len(result.refused)} proposals refused by the checker; the last:", err=True)
        text, why = result.refused[-1]
        typer.echo(f"  {text[:200]}\n  {why.splitlines()[0]}", err=True)
    if result.archive and not quiet:
        typer.echo(f"archive: {len(result.archive)} cells (nodes, calls per run)", err=True)
    print_front(objective.cost, _front_rows(result, evaluator, held_out))
    best = result.best.evaluation
    start = result.start.evaluation
    typer.echo(
        f"best score {best.score:.3f} (start {start.score:.3f}) after "
        f"{len(result.evaluated)} candidates; {result.calls} model calls made"
        + (f", and {result.proposer_calls} by the proposer" if result.proposer_calls else "")
        + f" (store: {store})",
        err=True,
    )
    if output is not None:
        try:
            written = write_front(result, output, stem=file.stem)
            written.append(write_report(result, output, file, objective))
        except OSError as error:  # (checked before the search: only a fault now, a full disk)
            typer.echo(f"error: cannot write the front to {output}: {error}", err=True)
            raise typer.Exit(EXIT_DIAGNOSTICS) from None
        for path in written:
            typer.echo(f"wrote {path}", err=True)
    if plot is not None:
        from rolegraph.search import score_plot

        write_output(plot, score_plot(result, f"{file.name}: {optimizer} search"))
        typer.echo(f"wrote {plot}", err=True)


def _front_rows(result, evaluator, held_out: Path | None):
    """The front with its structure against the start, and its held-out scores (the
    search's budget pays for those runs too; what it cannot pay for is left unscored)."""
    from rolegraph.runtime.sync import run_sync
    from rolegraph.search import (
        BudgetSpent,
        Objective,
        ObjectiveError,
        front_rows,
        load_examples,
    )

    judge = None
    if held_out is not None:
        try:
            objective = evaluator.objective
            judge = evaluator.judging(
                Objective(
                    load_examples(held_out),
                    objective.score,
                    agent=objective.agent,
                    seeds=objective.seeds,
                    cost=objective.cost,
                )
            )
        except ObjectiveError as error:
            typer.echo(f"error: --held-out: {error}", err=True)
            raise typer.Exit(EXIT_DIAGNOSTICS) from None
    try:
        return run_sync(front_rows(result, evaluator, judge))
    except BudgetSpent as error:
        typer.echo(f"the front is not judged on --held-out: {error}", err=True)
        return run_sync(front_rows(result, evaluator, None))


def evaluation_setup(
    file: Path,
    agent: str | None,
    data: Path | None,
    score: str,
    seeds: int,
    cost: str,
    model: str,
    store: Path,
    params: dict[str, Any],
    backend: str = "local",
    root: Path | None = None,
    *,
    budget: Any = None,
    on_run: Any = None,
):
    """What `search` and `attribute` share: the checked program, the objective, and an
    evaluator on the store (usage errors and diagnostics end the command); `budget` (a
    `SearchBudget`) and `on_run` (called as each run ends) are the evaluator's."""
    from rolegraph.compiler.pyimport import folder_of
    from rolegraph.search import (
        Evaluator,
        Objective,
        ObjectiveError,
        SearchStore,
        load_examples,
        scorer,
    )
    from rolegraph.search.run import backend_named

    if data is None:
        raise usage_error("--data DATA.jsonl is needed: the examples to score candidates on")
    check_model_option(None if model == "declared" else model)
    if seeds < 1:
        raise usage_error("--seeds is at least 1")
    try:
        objective = Objective(
            load_examples(data),
            scorer(score, folder_of(str(file))),  # (a scorer may sit beside the agent)
            agent=agent,
            seeds=tuple(range(seeds)),
            cost=cost,  # type: ignore[arg-type]
        )
    except ObjectiveError as error:
        raise usage_error(str(error)) from None
    checked = checked_or_exit(file, root)
    if agent is not None and agent not in checked.irs:
        raise usage_error(f"no agent {agent!r} in {file}; agents: {', '.join(checked.irs)}")
    warm_up_litellm(None if model == "declared" else model, checked)
    evaluator = Evaluator(
        objective,
        model=None if model == "declared" else model,
        params=params,
        store=open_store(SearchStore, store),
        filename=str(file),
        backend=backend_named(backend),  # (checked above: local or ray)
        root=str(root) if root is not None else None,
        budget=budget,
        on_run=on_run,
    )
    return checked.program.main.module, objective, evaluator


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
