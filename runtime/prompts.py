"""Rendering a role's prompt for a model call: the one place the runtime renders one.

The template runs in the compiler's bounded, immutable sandbox (compiler/sandbox.py):
it cannot change the values it reads, and it stops at `RenderLimits` (characters, loop
steps and calls, seconds). A template that fails says which role's prompt failed and
why, as a `RunError` (`PromptTooLarge` past a bound, `RenderError` otherwise), so a
run fails, or takes its `on error` edge, with a message instead of hanging or
allocating without end.

The limits hold for every render in the current context; `prompt_limits(...)` sets
others for the runs started inside it:

    with prompt_limits(RenderLimits(chars=4_000_000)):
        await run_agent(ir, inputs)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rolegraph.compiler.sandbox import (
    DEFAULT_LIMITS,
    RenderLimitExceeded,
    RenderLimits,
    compiled,
)

from .errors import PromptTooLarge, RenderError

_LIMITS: ContextVar[RenderLimits] = ContextVar("rolegraph_prompt_limits", default=DEFAULT_LIMITS)


@contextmanager
def prompt_limits(limits: RenderLimits) -> Iterator[RenderLimits]:
    """Render prompts under `limits` inside the `with` block (tasks started in it too)."""
    token = _LIMITS.set(limits)
    try:
        yield limits
    finally:
        _LIMITS.reset(token)


def render_prompt(text: str, args: Mapping[str, Any], role: str, part: str = "prompt") -> str:
    """`text` rendered with `args`, for role `role`; raises `PromptTooLarge` past a bound
    and `RenderError` when the template fails."""
    try:
        return compiled(text).render(_LIMITS.get(), **args)
    except RenderLimitExceeded as error:
        raise PromptTooLarge(role, part, str(error)) from None
    except Exception as error:  # what the template raised: undefined, forbidden, a bad call
        raise RenderError(role, part, f"{type(error).__name__}: {error}") from None
