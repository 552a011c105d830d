"""What a run tells its events to (`EventSink`), named apart from runtime/events.py: a run
that is not told as events never loads that module, and an annotation naming the sink
(`Context.on_event`, `run_agent`'s `on_event`) resolves all the same
(`typing.get_type_hints` reads the names of the annotation's own module)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .events import Event


class EventSink(Protocol):
    """Told each event of a run as it happens (runtime/events.py): any function of one
    argument that takes an `Event`."""

    def __call__(self, event: Event, /) -> None: ...
