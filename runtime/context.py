"""What every run (nested ones included) shares: the models, the tools, the observers, and
the stores and desks a run reads and writes (`Context`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rolegraph.compiler.ir import IRNode
from rolegraph.compiler.pyimport import import_callable, working_folder

from .budget import Budget
from .models import Model
from .providers import Provider
from .sink import EventSink
from .tools import HowCalled, how_called, tool_threads
from .trace import FiringRecord


@dataclass
class Context:
    """What every run (nested ones included) shares: models, tools, and observers."""

    model_for: Callable[[IRNode], Model]
    on_record: Callable[[FiringRecord], None] | None = None
    # told every event of the run as it happens (runtime/events.py)
    on_event: EventSink | None = None
    tools: dict[str, Callable[..., Any]] = field(default_factory=dict)
    budget: Budget | None = None
    # which model each role's calls go to, and the parameters laid over its own
    provider: Provider = field(default_factory=Provider)
    # the response cache of the run (a store), asked before any call
    cache: Any = None
    # Resuming: outputs of the top-level run's completed firings, by firing key, and where
    # to write new checkpoints (firings of the top-level run only: their keys are unique).
    replay: dict[str, Any] = field(default_factory=dict)
    checkpoint: Callable[[FiringRecord], None] | None = None
    # Worker threads for synchronous tools (runtime/tools.py); None: the default.
    tool_threads: int | None = None
    # Where human steps get their answers (runtime/human.py); None: nowhere, they pause.
    human: Any = None
    # The MCP sessions of the run (runtime/mcp_tools.py): opened at a first call, closed
    # by `run_agent` when the run ends.
    mcp: Any = None
    _how: dict[str, HowCalled] = field(default_factory=dict, repr=False)
    _threads: int = field(default=0, repr=False)

    def how_called(self, target: str, folder: str = "") -> HowCalled:
        """How a tool is called (runtime/tools.py `how_called`): in a worker thread, awaited
        on the loop, or inline on the loop (a `@nonblocking` plain function)."""
        found = self._how.get(target)
        if found is None:
            found = self._how[target] = how_called(self.tool(target, folder))
        return found

    def tool(self, target: str, folder: str = "") -> Callable[..., Any]:
        """The callable a tool names: given in `tools`, or imported (compiler/pyimport.py:
        beside the `.agent` file in `folder`, or in the working directory, too)."""
        found = self.tools.get(target)
        if found is None:
            found = self.tools[target] = _import_tool(target, folder, working_folder())
        return found

    def threads(self) -> int:
        """The size of the worker pool for synchronous tools."""
        if not self._threads:
            self._threads = tool_threads(self.tool_threads)
        return self._threads


@functools.lru_cache(maxsize=1024)
def _import_tool(target: str, folder: str, working: str) -> Callable[..., Any]:
    """The callable `module:attribute` names, imported once per process and place (the
    working directory is part of the key: the module may be found there)."""
    return import_callable(target, folder)  # type: ignore[no-any-return]
