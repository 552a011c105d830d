"""What a run can fail with. Every error says what happened in words, and carries the
partial trace of the run."""

from __future__ import annotations

from typing import Any


def describe_error(error: BaseException) -> str:
    """`Kind: message`, never empty-handed: `MemoryError()` carries no message at all."""
    words = str(error) or ("out of memory" if isinstance(error, MemoryError) else "(no message)")
    return f"{type(error).__name__}: {words}"


class CancelledItself(Exception):
    """A firing's own code (a tool, or a library it called) raised `CancelledError`
    though nothing cancelled the firing: a failure of the firing, as any other error it
    raises (an `on error` edge may handle it), not a cancel of the run."""

    def __init__(self) -> None:
        super().__init__(
            "it raised asyncio.CancelledError, though nothing cancelled it (not the run, "
            "not a return): taken as the firing's failure"
        )


class RunError(Exception):
    """Base of the errors a run ends with."""

    def __init__(self, message: str, trace: Any = None):
        super().__init__(message)
        self.trace = trace


class Stalled(RunError):
    """Nothing can fire and no return was taken."""

    def __init__(self, waiting: list[str], trace: Any = None):
        self.waiting = waiting
        lines = "\n".join(f"  - {w}" for w in waiting) or "  (no node waits)"
        super().__init__(
            f"the run stalled: nothing can fire and no return was taken\n{lines}", trace
        )


class FiringFailed(RunError):
    """A firing failed (after its retries) and no `on error` edge handles it."""

    def __init__(self, node: str, error: BaseException, trace: Any = None):
        self.node = node
        self.error = error
        super().__init__(f"node `{node}` failed: {str(error) or describe_error(error)}", trace)


class ConstraintViolation(RunError):
    """The run's trace violates an `ensure` constraint."""

    def __init__(self, formula: str, steps: list[list[str]], trace: Any = None):
        self.formula = formula
        self.steps = steps
        shown = "\n".join(f"  step {i}: {', '.join(s) or '-'}" for i, s in enumerate(steps, 1))
        super().__init__(f"the run violates `ensure {formula}`:\n{shown}", trace)


class ModelOutputError(RunError):
    """A model's reply did not validate against the result type, after repairs."""


class ModelCallError(RunError):
    """A model call failed: transient errors retried and still failing, or a hard error."""


class RenderError(RunError):
    """A role's prompt (or system) template failed to render: it raised, or it touched
    what the sandbox forbids (changing an input, a private attribute)."""

    def __init__(self, role: str, part: str, reason: str, trace: Any = None):
        self.role = role
        self.part = part
        self.reason = reason
        super().__init__(f"the {part} of role `{role}` cannot be rendered: {reason}", trace)


class PromptTooLarge(RenderError):
    """A role's template went past a render bound (characters, steps or time): a loop
    nested over its inputs, or an input too large for any model."""


RUN_STORE_KEEPS = "every reply and checkpoint saved before"  # (a full store keeps them)


class StoreError(RunError):
    """The SQLite store failed: its file is damaged, or its disk is full. Says what it
    was doing, what the store still holds, and what to do — in one line.

    `kind` is "full" (what was committed before is kept: free space, then resume),
    "damaged" (the file cannot be trusted: move it away), "failed" (any other fault
    of the database: locked by another process, an I/O error), "newer" (the file was
    written by a newer rolegraph, in a format this one does not read), or "older" (a run
    of an older format, which this version cannot resume)."""

    def __init__(
        self,
        path: str,
        kind: str,
        reason: str,
        doing: str,
        kept: str = RUN_STORE_KEEPS,
        trace: Any = None,
    ):
        self.path = path
        self.kind = kind
        self.reason = reason
        self.doing = doing
        self.kept = kept  # what a store that is full (or failed otherwise) still holds
        self.run_id: str | None = None  # set by the run that met it: how to resume
        super().__init__(self.describe(), trace)

    def describe(self) -> str:
        if self.kind in ("newer", "older"):  # (the file is whole: the versions differ)
            advice = (
                "use that version of rolegraph, or give another --store (or --no-store)"
                if self.kind == "newer"
                else "run the agent again with its inputs, or resume it with the version "
                "that started it"
            )
            head = f"the store {self.path} cannot be used while {self.doing}"
            return f"{head}: {self.reason}; {advice}"
        what = {"full": "is full", "damaged": "is damaged", "failed": "failed"}[self.kind]
        head = f"the store {self.path} {what} ({self.reason}) while {self.doing}"
        if self.kind == "damaged":
            return (
                f"{head}: what it holds cannot be read back; move it away and run again, "
                "or give another --store (or --no-store)"
            )
        again = (
            f"resume with --resume {self.run_id}"
            if self.run_id
            else "run again (what the store kept is not repeated)"
        )
        advice = (
            f"free some space, then {again}"
            if self.kind == "full"
            else f"when it can be written again (another process may hold it), {again}"
        )
        return f"{head}: {self.kept} is kept; {advice}"

    def __str__(self) -> str:  # (the run's id is known only once the error reaches the run)
        return self.describe()
