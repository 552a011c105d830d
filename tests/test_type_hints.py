"""The public API's annotations resolve: `typing.get_type_hints` of every class and
function that `rolegraph` and `rolegraph.runtime` export, in a fresh interpreter that
imported nothing else first (a name imported only for the type checker, as
`EventSink` was for `Context` and `run_agent`, is a NameError there: pydantic,
dataclass tools and documentation generators read annotations this way)."""

from __future__ import annotations

import subprocess
import sys

# `Context` and `run_agent` first: asking the runtime for its other names may load a
# module whose names then hide what is missing.
_PROBE = """
import inspect, typing
import rolegraph, rolegraph.runtime
from rolegraph.runtime.context import Context

def exported(module):
    for name in getattr(module, "__all__", ()):
        yield f"{module.__name__}.{name}", getattr(module, name)

def unresolved(named):
    for name, value in named:
        if inspect.isclass(value) or inspect.isfunction(value):
            try:
                typing.get_type_hints(value)
            except Exception as error:
                yield f"{name}: {type(error).__name__}: {error}"

first = [
    ("rolegraph.runtime.context.Context", Context),
    ("rolegraph.runtime.run_agent", rolegraph.runtime.run_agent),
]
for line in unresolved(first):
    print(line)
for line in unresolved([*exported(rolegraph.runtime), *exported(rolegraph)]):
    print(line)
"""


def test_every_exported_class_and_function_s_annotations_resolve():
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_a_users_model_may_hold_an_event_sink():
    """(pydantic reads `EventSink` at run time: a model field, `validate_call`.)"""
    import pydantic

    from rolegraph.runtime import EventSink

    class Options(pydantic.BaseModel):
        on_event: EventSink | None = None

    assert Options(on_event=print).on_event is print

    @pydantic.validate_call
    def start(on_event: EventSink) -> None:
        on_event("an event")

    seen: list[object] = []
    start(seen.append)
    assert seen == ["an event"]
