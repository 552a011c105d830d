"""Python callables named `"module:function"`, found beside the `.agent` file too.

A `tool` declaration (and a `module:function` scorer) names a callable that the
compiler imports to check it and the runtime imports to call it. The module is looked
for as Python would look for it (`sys.modules`, then `sys.path`), then in the folder of
the `.agent` file that declares it, then in the working directory, the way
`python script.py` finds the script's neighbours — so a `tools.py` next to
`agent.agent` needs no `PYTHONPATH`.

Those folders are searched only while rolegraph imports or calls a tool: a finder at
the end of `sys.meta_path` answers for them within that scope (a context variable), and
stays silent for every other import. So `sys.path` is never changed, an installed module
is never shadowed by a file of the same name beside an agent, and an import that
failed before still fails elsewhere in the process. A tool module's own imports of its
neighbours work, while it is imported and while its tools run.

Only running a tool imports it. Checking one finds its module's file the same way,
without running it (`find_module_spec`): compiler/pysource.py reads that file.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

# the folder of the `.agent` file whose tool is being imported or called ("" for none),
# or None outside that scope
_FOLDER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "rolegraph_tool_folder", default=None
)


class _BesideTheAgent(importlib.abc.MetaPathFinder):
    """Finds a top-level module in the folders of the current scope; only consulted
    when every finder before it (`sys.path` included) has found nothing."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        folder = _FOLDER.get()
        if path is not None or folder is None:  # (a submodule is found through its package)
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, list(search_folders(folder)))


_FINDER = _BesideTheAgent()


def folder_of(filename: str) -> str:
    """The absolute folder of a source file; "" for a source with no file (`<string>`)."""
    if not filename or filename.startswith("<"):
        return ""
    return str(Path(filename).resolve().parent)


def working_folder() -> str:
    """The working directory, or "" when there is none (it was removed): a tool is then
    looked for beside its `.agent` file and on `sys.path` only."""
    try:
        return os.getcwd()
    except OSError:
        return ""


def search_folders(folder: str) -> tuple[str, ...]:
    """Where a tool declared in `folder` is looked for after `sys.path`: that folder,
    then the working directory (if there is one)."""
    found = [folder] if folder else []
    working = working_folder()
    if working and working not in found:
        found.append(working)
    return tuple(found)


class beside:  # (named as a function: `with beside(folder):`)
    """Within this block (this thread or task, and what it starts), imports that
    `sys.path` cannot satisfy are looked for in `search_folders(folder)`.

    (A class rather than a generator: the runtime enters it at every tool call. The
    folders are listed when an import asks, not at every entry.)"""

    __slots__ = ("folder", "token")

    def __init__(self, folder: str):
        self.folder = folder

    def __enter__(self) -> None:
        self.token = enter_folder(self.folder)

    def __exit__(self, *exc_info: object) -> None:
        _FOLDER.reset(self.token)


def enter_folder(folder: str) -> contextvars.Token[str | None]:
    """What `beside(folder)` does on entry, for a caller that leaves with
    `leave_folder(token)`: no object to make (an `async def` tool's call)."""
    # (the finder is looked for at the end of `sys.meta_path` first, where it was put:
    # `in` compares it with each finder before it, ~1,000 machine instructions a call, a
    # fiftieth of an inline firing's; in the whole list only when a finder was added after
    # it; added again only when it is gone)
    finders = sys.meta_path
    if not finders or (finders[-1] is not _FINDER and _FINDER not in finders):
        finders.append(_FINDER)
    return _FOLDER.set(folder)


#: What `beside` does on exit, given `enter_folder`'s token.
leave_folder = _FOLDER.reset


def call_beside(folder: str, function: Any, args: dict[str, Any]) -> Any:
    """`with beside(folder): return function(**args)`, in one frame: the call of every
    inline tool firing (runtime/firing.py)."""
    finders = sys.meta_path  # (`enter_folder`, one frame fewer)
    if not finders or (finders[-1] is not _FINDER and _FINDER not in finders):
        finders.append(_FINDER)
    token = _FOLDER.set(folder)
    try:
        return function(**args)
    finally:
        _FOLDER.reset(token)


#: Each called once, before the first module of code rolegraph did not write is imported
#: (a tool's, a model provider's library): the `rolegraph` command's process defers
#: modules it may never use (rolegraph/cli/on_first_use.py), and such code meets them as
#: an eager import would have left them.
before_other_code: list[Callable[[], None]] = []


def ready_for_other_code() -> None:
    """What `before_other_code` holds, run (once)."""
    while before_other_code:
        before_other_code.pop()()


def import_callable(target: str, folder: str = "") -> Any:
    """The object `"package.module:attribute.path"` names, imported as the module
    docstring says. Raises what the import raises (ImportError, AttributeError, or any
    error of the module's own code)."""
    ready_for_other_code()
    module_name, _, attribute = target.partition(":")
    with beside(folder):
        try:
            value: Any = importlib.import_module(module_name)
        except ModuleNotFoundError:
            importlib.invalidate_caches()  # (a file written since a folder was last listed)
            value = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def find_module_spec(module_name: str, folder: str = "") -> importlib.machinery.ModuleSpec | None:
    """Where `import_callable` would find a module, found without running any of its code
    or its packages' (`importlib.util.find_spec("a.b")` imports `a`, running its
    `__init__`). Each package on the way is found the same way and its submodule search
    path used as it stands before any `__init__` runs; one already imported is used as
    it is. None when no finder knows the module."""
    with beside(folder):
        found = _spec_without_running(module_name)
        if found is None:
            importlib.invalidate_caches()  # (a file written since a folder was last listed)
            found = _spec_without_running(module_name)
    return found


def spec_answer(spec: importlib.machinery.ModuleSpec | None) -> str:
    """What a checker reads of a module's spec (`find_module_spec`'s answer), as text:
    where its source is, and whether it is a package ("" for no module)."""
    if spec is None:
        return ""
    frozen_file = getattr(spec.loader_state, "filename", None)
    package = spec.submodule_search_locations is not None
    return f"{spec.origin}|{frozen_file}|{package}"


def _spec_without_running(module_name: str) -> importlib.machinery.ModuleSpec | None:
    loaded = sys.modules.get(module_name)
    if loaded is not None:
        return _spec_of_loaded(module_name, loaded)
    package_name, _, _ = module_name.rpartition(".")
    search_path: list[str] | None = None
    if package_name:
        package = _spec_without_running(package_name)
        loaded_package = sys.modules.get(package_name)
        if loaded_package is not None and hasattr(loaded_package, "__path__"):
            search_path = list(loaded_package.__path__)
        elif package is not None and package.submodule_search_locations is not None:
            search_path = list(package.submodule_search_locations)
        else:
            return None  # (no such package, or a module that is not a package)
    # The finders the import system itself asks, in its order (an editable install's
    # included): they only look for files, and run no code of the module they find.
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(module_name, search_path)
        except (ImportError, ValueError, OSError):  # (this finder cannot look here)
            continue
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None


def _spec_of_loaded(module_name: str, module: ModuleType) -> importlib.machinery.ModuleSpec:
    spec = getattr(module, "__spec__", None)
    if isinstance(spec, importlib.machinery.ModuleSpec):
        return spec
    file = getattr(module, "__file__", None)  # (`__main__` run as a script has no spec)
    return importlib.machinery.ModuleSpec(module_name, None, origin=file)


def where_looked(target: str, folder: str = "") -> str:
    """Where `import_callable` looked for a target's module, for a hint."""
    module_name = target.partition(":")[0]
    found = sys.modules.get(module_name)
    if found is not None:
        place = getattr(found, "__file__", None) or "a built-in module"
        return f"module `{module_name}` was imported from {place}"
    folders = " and ".join(search_folders(folder))
    return f"looked for module `{module_name}` on sys.path, then in {folders}"
