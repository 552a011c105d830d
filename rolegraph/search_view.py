"""What `rolegraph search` and `rolegraph attribute` show on stderr while they work.

On a terminal, a progress bar: evaluations done of the total, the best score so far,
the model calls spent (counted run by run, so a long evaluation moves it too), the
time spent and an estimate of the time left. Off a terminal (piped, CI), no bar: a
search prints a line per candidate instead, as a log does; on a terminal those lines
come with `-v`, above the bar. `-q`: neither.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class SearchProgress:
    """A bar for `total` evaluations (`what`: "candidates", "coalitions"), drawn on
    stderr when `bar`; per-candidate lines there when `lines`.

        with SearchProgress(20, "candidates", bar=True, lines=False) as shown:
            evaluator.on_run = shown.run_ended
            await random_search(..., progress=shown.candidate)
    """

    def __init__(self, total: int, what: str, *, bar: bool, lines: bool, max_calls: int = 0):
        self.total, self.what, self.lines = total, what, lines
        self.calls = 0  # model calls made (runs the store held cost none)
        self.runs = 0
        self.best: float | None = None
        self.max_calls = max_calls  # a bound per run, when there is one
        self.console = Console(stderr=True)
        self.bar = (
            Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[best]}"),
                TextColumn("{task.fields[spent]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
            )
            if bar
            else None
        )
        self.task = (  # (a total of 0: not known yet)
            self.bar.add_task(what, total=total or None, best="", spent=self._spent())
            if self.bar is not None
            else None
        )

    def __enter__(self) -> SearchProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()

    def run_ended(self, record: Any, cached: bool) -> None:
        """One run of an example ended (`Evaluator.on_run`)."""
        self.runs += 1
        if not cached:
            self.calls += record.calls
        self._update()

    def candidate(self, done: int, total: int, scored: Any) -> None:
        """A search scored a candidate (an optimizer's `progress`)."""
        evaluation = scored.evaluation
        self._scored(done, total, evaluation.score)
        if self.lines:
            made = (
                "start"
                if scored.parent is None
                else scored.edit.op
                if scored.edit is not None
                else f"a move of {len(scored.script)} edits"
            )
            self._line(
                f"[{done}/{total}] score {evaluation.score:.3f}  cost {evaluation.cost:g}  "
                f"{made}  ({evaluation.fresh_calls} calls)"
            )

    def coalition(self, done: int, most: int, score: float) -> None:
        """Attribution evaluated a coalition (`shapley`'s `progress`): no best score there,
        a coalition is not a candidate."""
        self.total = most
        self._update(completed=done)
        if self.bar is not None:
            self.bar.refresh()

    def _scored(self, done: int, total: int, score: float) -> None:
        self.best = score if self.best is None else max(self.best, score)
        self.total = total
        self._update(completed=done)
        if self.bar is not None:  # each candidate is drawn, however quick (one a frame)
            self.bar.refresh()

    def _update(self, completed: int | None = None) -> None:
        if self.bar is None or self.task is None:
            return
        best = "" if self.best is None else f"best {self.best:.3f}"
        fields: dict[str, Any] = {"best": best, "spent": self._spent()}
        if self.total:
            fields["total"] = self.total
        if completed is not None:
            fields["completed"] = completed
        self.bar.update(self.task, **fields)

    def _spent(self) -> str:
        bound = f" (at most {self.max_calls} a run)" if self.max_calls else ""
        return f"{self.calls} calls{bound}, {self.runs} runs"

    def _line(self, text: str) -> None:
        # above the bar when there is one; as a plain line otherwise (a log, a pipe)
        if self.bar is not None:
            self.bar.console.print(text, highlight=False, markup=False)
        else:
            self.console.print(text, highlight=False, markup=False, soft_wrap=True)
