"""typer's help and error panels without rich's Markdown and Traceback (issue 15).

typer prints help and usage errors with `typer.rich_utils`, which imports at its top
`rich.markdown` (and markdown-it with it) and `rich.traceback` (rich.pretty, rich.syntax):
more than a quarter of `rolegraph --help`'s CPU, for two classes that rolegraph's help
never uses (its markup mode is "rich", not "markdown"; pretty exceptions are off).

`install()` puts an import hook first on `sys.meta_path` that, while `typer.rich_utils`
itself is imported (once), lets it find stand-ins for those two modules: a stand-in class
imports the real one as soon as it is called or any of its attributes is read, so a use
the help does not make today still gets rich's own. Once `typer.rich_utils` is
imported, the stand-ins are gone from `sys.modules` (a later `import rich.markdown` gets
rich's module), and so is the hook. If anything is not as expected (typer imports other
names from them), `typer.rich_utils` is imported as it would be without the hook.
tests/test_cli_fast.py compares the help and errors of every command both ways.

A limit, for programs that import `rolegraph.cli` in-process with threads: while
`typer.rich_utils` is being imported, another thread importing `rich.markdown` or
`rich.traceback` at that moment gets the stand-in module, which holds only the one class.
The `rolegraph` command has one thread then.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

_TARGET = "typer.rich_utils"
#: The modules stood in for, and the one name `typer.rich_utils` imports from each.
_STAND_INS = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


class _Deferred(type):
    """The class of a stand-in: calling it, or reading an attribute it does not have,
    imports the real class and defers to it."""

    _module: str

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(cls._real(), name)

    def _real(cls) -> Any:
        return getattr(importlib.import_module(cls._module), cls.__name__)


def _stand_in(module: str, name: str) -> types.ModuleType:
    stand_in = types.ModuleType(module)
    setattr(stand_in, name, _Deferred(name, (), {"_module": module}))
    return stand_in


class _Loader(importlib.abc.Loader):
    """`typer.rich_utils`'s own loader, run with the stand-ins in `sys.modules`."""

    def __init__(self, loader: Any):
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # (get_source, get_filename...: the real one's)
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: types.ModuleType) -> None:
        missing = {name: cls for name, cls in _STAND_INS.items() if name not in sys.modules}
        placed = {name: _stand_in(name, cls) for name, cls in missing.items()}
        sys.modules.update(placed)
        try:
            self.loader.exec_module(module)
        except ImportError:
            _remove(placed)
            self.loader.exec_module(module)  # (as it would be: typer changed)
        finally:
            _remove(placed)


def _remove(placed: dict[str, types.ModuleType]) -> None:
    for name, stand_in in placed.items():
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TARGET:
            return None
        uninstall()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _Loader(spec.loader)
        return spec


_FINDER = _Finder()


def install() -> None:
    """From now on, `typer.rich_utils` is imported without rich's Markdown and Traceback
    (unless it is imported already)."""
    if _TARGET not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
