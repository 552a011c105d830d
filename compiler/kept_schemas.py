"""The AST's validator schemas, kept across processes (issue 15).

pydantic builds each node class's validator from a core schema that it generates from
the class's annotations: ~30 ms of every `check` and `run`, for the same schemas each
time. A core schema is data (dicts, lists, strings) holding functions and classes,
which pickle by name. So the schemas pydantic made are pickled beside the parser's
cache, and a later process hands them back to pydantic through the node classes' public
hook, `__get_pydantic_core_schema__` (compiler/ast.py); pydantic builds the validators
from them as from the schemas it would have generated (the same schemas:
tests/test_kept_schemas.py compares them).

A schema names each model class it holds by a `ref` ending in the class's `id()`, which
is another number in every process: the pickle writes those strings as references to
their classes, and loading writes them with this process's ids.

The file is keyed by pydantic's and pydantic-core's versions, the interpreter, and the
text of the modules that define the classes, their bases, the functions and classes the
schemas hold, and the modules those import (`_defining_modules`); it is read only when
this user wrote it, from a folder only this user may write to (grammar/lexer.py
`_cache_path`).
Whatever goes wrong (missing, damaged, stale) falls back to generating the schemas,
which are then written again.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
import sys
from typing import IO, Any

#: What the schemas depend on besides the modules' text.
_VERSIONS = ("pydantic", "pydantic_core")


def _fingerprint(modules: list[str]) -> str | None:
    """What the schemas of classes defined in `modules` depend on, hashed; None when a
    module has no file to read (a class made in `__main__` or by `exec`)."""
    digest = hashlib.sha256(sys.version.encode())
    for name in _VERSIONS:
        digest.update(str(getattr(sys.modules[name], "__version__", "")).encode())
    for name in modules:
        path = getattr(sys.modules.get(name), "__file__", None)
        if not path:
            return None
        try:
            with open(path, "rb") as file:
                digest.update(file.read())
        except OSError:
            return None
    return digest.hexdigest()


def kept_file(folder: str, classes: list[type]) -> str | None:
    """The file in `folder` for the schemas of `classes` as their modules are now (None:
    they cannot be kept)."""
    fingerprint = _fingerprint(sorted({cls.__module__ for cls in classes}))
    if fingerprint is None:
        return None
    return os.path.join(folder, f"ast-schemas-{fingerprint[:16]}.pickle")


def load(path: str, classes: list[type]) -> dict[type, Any] | None:
    """The schemas kept in `path` for `classes` (each class → its schema), or None."""
    from rolegraph.compiler.cache_files import open_kept

    try:
        with open_kept(path) as file:
            collecting = gc.isenabled()
            gc.disable()  # (thousands of new objects, no cycles)
            try:
                modules, fingerprint, referenced = pickle.Unpickler(file).load()
                if fingerprint is None or fingerprint != _fingerprint(modules):
                    return None
                refs = {i: f"{prefix}{id(cls)}" for i, (cls, prefix) in enumerate(referenced)}
                unpickler = pickle.Unpickler(file)  # (a pickle of its own: its own memo)
                unpickler.persistent_load = refs.__getitem__  # type: ignore[assignment,method-assign]
                schemas = unpickler.load()
            finally:
                if collecting:
                    gc.enable()
    except Exception:  # missing, damaged, or from other code: generated again
        return None
    if not isinstance(schemas, dict) or list(schemas) != classes:
        return None
    return schemas


def save(path: str, schemas: dict[type, Any]) -> None:
    """Keep `schemas` in `path` (atomically; a failure costs only the next process's time)."""
    from rolegraph.compiler.cache_files import write_atomically

    referenced = sorted(_model_classes(schemas), key=lambda cls: cls.__qualname__)
    modules = sorted(_defining_modules(schemas))
    refs = {f"{_prefix(cls)}{id(cls)}": i for i, cls in enumerate(referenced)}

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            return refs.get(obj) if type(obj) is str else None

    fingerprint = _fingerprint(modules)
    if fingerprint is None:
        return
    header = (modules, fingerprint, [(cls, _prefix(cls)) for cls in referenced])

    def write(file: IO[bytes]) -> None:
        pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL).dump(header)
        Pickler(file, protocol=pickle.HIGHEST_PROTOCOL).dump(schemas)

    write_atomically(path, write)


def _prefix(cls: type) -> str:
    """A model's `ref` less its `id()`, as pydantic writes it (tests/test_kept_schemas.py
    would see another form: the schemas would then keep another process's ids)."""
    return f"{cls.__module__}.{cls.__qualname__}:"


def _defining_modules(schemas: dict[type, Any]) -> set[str]:
    """The modules whose text the schemas depend on: those that define the classes, their
    bases, and every function and class the schemas hold (a validator defined in another
    module that changes its signature changes the schema that calls it), and the modules
    those import. pydantic's and the standard library's are keyed by their versions."""
    found: set[str] = set()
    stack: list[Any] = [schemas]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, str | bytes | int | float | bool | None):
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        else:
            for part in (item, getattr(item, "__func__", None), getattr(item, "func", None)):
                module = getattr(part, "__module__", None)
                if isinstance(module, str):
                    found.add(module)
            if isinstance(item, type):
                found.update(base.__module__ for base in item.__mro__)
            elif isinstance(getattr(item, "__self__", None), type):
                stack.append(item.__self__)
    found = {name for name in found if name.partition(".")[0] not in _KEYED_BY_VERSION}
    for name in list(found):  # (an annotated type imported from another module: its text)
        found.update(_imported_by(name))
    return {name for name in found if name.partition(".")[0] not in _KEYED_BY_VERSION}


#: `from X import a, b` and `import X, Y` at the start of a line (indented too).
_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import\b([^\n#;]*)|import[ \t]+([^\n#;]+))", re.M
)


def _imported_by(name: str) -> set[str]:
    """The modules that module `name` imports (as its text says) and that are loaded: an
    alias such as `Small = Annotated[int, Field(le=5)]` defined in one of them leaves no
    object of its module in a schema, only its constraint."""
    import importlib.util

    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if not path:
        return set()
    try:
        with open(path, "rb") as file:
            text = file.read()
    except OSError:
        return set()
    package = getattr(module, "__package__", None) or ""
    found: set[str] = set()
    for source, names, plain in _IMPORT.findall(text):
        if plain:
            found.update(part.split()[0] for part in plain.decode().split(",") if part.split())
            continue
        try:
            base = importlib.util.resolve_name(source.decode(), package)
        except (ImportError, ValueError):
            continue
        found.add(base)
        found.update(
            f"{base}.{part.split()[0]}"
            for part in names.decode().strip(" ()").split(",")
            if part.split()
        )
    return {imported for imported in found if imported in sys.modules and imported != name}


#: Modules whose text is not read: keyed by the interpreter's and pydantic's versions.
_KEYED_BY_VERSION = frozenset(sys.stdlib_module_names | {"builtins", *_VERSIONS})


def _model_classes(schema: Any) -> set[type]:
    """The model classes a schema holds (`{"type": "model", "cls": ...}`) and the other
    classes it names by a `ref` ending in their `id()` (a dataclass's), at any depth."""
    found: set[type] = set()
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("cls"), type) and ("ref" in item or item.get("type") == "model"):
                found.add(item["cls"])
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found
