"""What a run can fail with. Every error says what happened in words, and carries the
partial trace of the run."""

from __future__ import annotations

from typing import Any


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
        super().__init__(f"node `{node}` failed: {error}", trace)


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
