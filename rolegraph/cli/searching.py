"""What `rolegraph search` does once its options are read, the same whether typer read
them (search.py) or the fast path did (fast.py): nothing here imports typer. And what
`search` and `attribute` share: the checked program, the objective, the evaluator."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .exits import EXIT_DIAGNOSTICS, echo, keep_until_exit, stdout_for_the_result, usage_error
from .files import check_output, checked_or_exit, open_store, write_output
from .options import check_model_option, provider_params, trust_policy, warm_up_litellm
from .render import print_front
from .search_options import SearchOptions


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


def search_file_command(options: SearchOptions) -> None:
    """`rolegraph search`: the search, its front and report; ends with `SystemExit` on a
    usage error or a fault (under typer, root.py turns that into typer's `Exit`)."""
    (
        file,
        agent,
        data,
        score,
        evaluations,
        seeds,
        seed,
        cost,
        model,
        store,
        output,
        optimizer,
        proposer,
        proposal,
        plot,
        backend,
        quiet,
        verbose,
        api_base,
        param,
        timeout,
        concurrency,
        allow_tool,
        allow_import,
        root,
        held_out,
        budget,
    ) = (
        options.file,
        options.agent,
        options.data,
        options.score,
        options.evaluations,
        options.seeds,
        options.seed,
        options.cost,
        options.model,
        options.store,
        options.output,
        options.optimizer,
        options.proposer,
        options.proposal,
        options.plot,
        options.backend,
        options.quiet,
        options.verbose,
        options.api_base,
        options.param,
        options.timeout,
        options.concurrency,
        options.allow_tool,
        options.allow_import,
        options.root,
        options.held_out,
        options.budget,
    )
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
        echo(f"error: {error}", err=True)
        raise SystemExit(EXIT_DIAGNOSTICS) from None
    if limits is not None and not quiet:
        from rolegraph.search_budget_view import spent_line

        echo(spent_line(limits, result), err=True)
    elif result.stopped and not quiet:
        echo(f"the search stopped early: {result.stopped}", err=True)
    if result.refused and not quiet:
        echo(f"{len(result.refused)} proposals refused by the checker; the last:", err=True)
        text, why = result.refused[-1]
        echo(f"  {text[:200]}\n  {why.splitlines()[0]}", err=True)
    if result.archive and not quiet:
        echo(f"archive: {len(result.archive)} cells (nodes, calls per run)", err=True)
    print_front(objective.cost, _front_rows(result, evaluator, held_out))
    best = result.best.evaluation
    start = result.start.evaluation
    echo(
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
            echo(f"error: cannot write the front to {output}: {error}", err=True)
            raise SystemExit(EXIT_DIAGNOSTICS) from None
        for path in written:
            echo(f"wrote {path}", err=True)
    if plot is not None:
        from rolegraph.search import score_plot

        write_output(plot, score_plot(result, f"{file.name}: {optimizer} search"))
        echo(f"wrote {plot}", err=True)


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
            echo(f"error: --held-out: {error}", err=True)
            raise SystemExit(EXIT_DIAGNOSTICS) from None
    try:
        return run_sync(front_rows(result, evaluator, judge))
    except BudgetSpent as error:
        echo(f"the front is not judged on --held-out: {error}", err=True)
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
    # (the scorer may be the user's module, whose code runs as it is imported: the
    # collector on again first, as through typer; start-up's objects kept, exits.py)
    keep_until_exit()
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
    checked = checked_or_exit(file, root, keep_parse=True)  # (a file searched again)
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
