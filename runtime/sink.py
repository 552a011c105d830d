"""What a run tells its events to (`EventSink`), named apart from runtime/events.py: a run
that is not told as events never loads that module, and an annotation naming the sink
(`Context.on_event`, `run_agent`'s `on_event`) resolves all the same
(`typing.get_type_hints` reads the names of the annotation's own module), for pydantic
too (a model or `validate_call` with an `EventSink` field).

A type checker reads it as a function of one `Event`; at run time it is a function of
one argument, whatever its type (what pydantic and `get_type_hints` can read without the
events' module: a callable's argument types are not validated either way)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias

    from .events import Event

    EventSink: TypeAlias = Callable[[Event], None]
else:
    EventSink = Callable[[Any], None]
