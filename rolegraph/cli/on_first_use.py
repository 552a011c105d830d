"""Modules whose code runs when they are first used, not when they are imported.

lark imports `regex` and `interegular` at its top (`lark.lark`, `lark.utils`,
`lark.lexer`) and uses them only to build a parser: `regex` for `Lark(regex=True)` and
the widths of Unicode-category patterns, `interegular` for the terminals' collision
check. rolegraph loads its parser whole (grammar/lexer.py), so every `check` and `run`
paid for two modules it never used (~15-20 ms of ~270, bench/RESULTS.md "startup-s9").
Imported through `imported_on_first_use`, each is in `sys.modules` and bound where lark
imports it, as before, and runs its code the first time one of its attributes is read
(by lark building a parser, or by anyone else): what they then see is the module as an
eager import makes it. Nothing is hidden: lark's `_has_regex` and `has_interegular` are
true as before.

Code rolegraph did not write (a tool's module, a model provider's library) meets both
modules run: `run_deferred` runs them before the first such module is imported (a tool
may import a submodule before its package, read the module from several threads, or fall
back to `re` when `import regex` fails, each of which a module not run yet would get
wrong). So a check, and a run of tools declared only in `.agent` files on the mock,
never run them.

`importlib.util.LazyLoader` does the same, but on Python 3.11 its first use is not
thread-safe (a second thread may read the module while the first runs it) and a later
`import` statement of the module already runs it (the interpreter reads `__spec__`);
here a lock holds other threads until the module has run, and `__spec__` is read
without running it.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

#: The modules deferred, run on first use or by `run_deferred`
_DEFERRED: list[types.ModuleType] = []

#: Held while a module runs its code on first use: other threads wait; the thread that
#: runs it reads its attributes as they are made (a package's own imports).
_LOCK = threading.RLock()
_RUNNING: set[int] = set()


class _OnFirstUse(types.ModuleType):
    """A module not run yet: reading an attribute (but `__spec__`) runs it first."""

    def __getattribute__(self, name: str) -> Any:
        if name != "__spec__":
            _run(self)
        return types.ModuleType.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        _run(self)
        types.ModuleType.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        _run(self)
        types.ModuleType.__delattr__(self, name)


def _run(module: types.ModuleType) -> None:
    with _LOCK:
        if type(module) is not _OnFirstUse or id(module) in _RUNNING:
            return  # (run already, or running in this thread: its own attributes)
        _RUNNING.add(id(module))
        spec = types.ModuleType.__getattribute__(module, "__spec__")
        try:
            spec.loader.exec_module(module)
        except BaseException:
            if sys.modules.get(spec.name) is module:  # (as a failed import leaves it)
                del sys.modules[spec.name]
            raise
        else:  # (a plain module from now on: reading it costs what it always did)
            types.ModuleType.__setattr__(module, "__class__", types.ModuleType)
        finally:
            _RUNNING.discard(id(module))


def imported_on_first_use(*names: str) -> None:
    """Put each top-level module of `names` in `sys.modules`, to run its code when first
    used; one already imported, or not installed, is left alone (an `import` of it then
    finds it, or fails, as it would)."""
    for name in names:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            continue
        module = importlib.util.module_from_spec(spec)
        module.__class__ = _OnFirstUse
        sys.modules[name] = module
        _DEFERRED.append(module)
    if _DEFERRED:
        from rolegraph.compiler.pyimport import before_other_code

        if run_deferred not in before_other_code:
            before_other_code.append(run_deferred)


def run_deferred() -> None:
    """Each module deferred and not run yet, run now: called before code rolegraph did not
    write is imported (compiler/pyimport.py `before_other_code`). Such code may import a
    submodule before its package has run, read a module from several threads at once, or
    fall back when `import regex` fails: all as with an eager import. A module that fails
    to run is no longer in `sys.modules`, so an `import` of it fails where it is written."""
    while _DEFERRED:
        try:
            _run(_DEFERRED.pop())
        except Exception:  # (as an eager import that failed: lark's own `try` saw it)
            continue
