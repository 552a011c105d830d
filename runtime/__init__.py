"""The rolegraph runtime: executes the IR built by the compiler.

    result = await run_agent(ir, {"task": "..."}, model="mock")

It imports the compiler's IR and semantics, never the front end (`rolegraph.grammar`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .budget import Budget, BudgetExceeded
from .errors import (
    ConstraintViolation,
    FiringFailed,
    ModelCallError,
    ModelOutputError,
    RunError,
    Stalled,
)
from .executor import AgentRun, Context
from .mock import MockModel
from .models import Model, ModelReply, ModelRequest, ToolCall
from .trace import FiringRecord, Trace

__all__ = [
    "AgentRun",
    "Budget",
    "BudgetExceeded",
    "ConstraintViolation",
    "Context",
    "FiringFailed",
    "FiringRecord",
    "MockModel",
    "Model",
    "ModelCallError",
    "ModelOutputError",
    "ModelReply",
    "ModelRequest",
    "RunError",
    "RunResult",
    "Stalled",
    "ToolCall",
    "Trace",
    "run_agent",
]


@dataclass
class RunResult:
    result: Any
    trace: Trace


def model_router(model: str | Model | None = None) -> Callable[[Any], Model]:
    """Which model serves a node: `model` for every node when given ("mock", or any Model),
    else the node's own provider (`mock`, or litellm for everything else)."""
    shared: dict[str, Model] = {}
    override = model

    def route(node: Any) -> Model:
        choice = override if override is not None else (node.model or "mock")
        if not isinstance(choice, str):
            return choice
        if choice not in shared:
            if choice == "mock":
                shared[choice] = MockModel()
            else:
                from .litellm_model import LiteLLMModel

                shared[choice] = LiteLLMModel()
        return shared[choice]

    return route


async def run_agent(
    ir: Any,
    inputs: Mapping[str, Any],
    *,
    model: str | Model | None = None,
    on_record: Callable[[FiringRecord], None] | None = None,
    budget: Budget | None = None,
) -> RunResult:
    """Run one agent's IR on `inputs`. Raises a `RunError` (with `.trace`) on failure.

    A `budget` bounds the run's calls, tokens and cost; it is never exceeded."""
    run = AgentRun(ir, inputs, Context(model_router(model), on_record, budget=budget))
    result = await run.execute()
    return RunResult(result, run.trace)
