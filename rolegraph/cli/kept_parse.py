"""A file's parse kept across processes, for `rolegraph search` and `attribute` (issue 15).

A search parses its start file once, and the parse is a fixed cost of every search
(~6 ms of a 57-line file, a few percent of what a search of 40 candidates does outside
its runs); searching a file again is the usual way of working. So the command line keeps
the module a clean parse made, as plain data (JSON: text, numbers, lists; loading it
runs no code but this module's), in the folder of rolegraph's caches
(compiler/cache_files.py `cache_folder`: a folder only this user may write to), and a
later search of the same text loads it instead of parsing, when:

- the text is the same (its hash, and the file's name, which the module holds), and
- so is the code that made the module: the interpreter's, pydantic's and lark's
  versions, and rolegraph's grammar, compiler and command line (this module, so its
  layout, among them) as files: each one's name, size and time (kept_checks.py
  `code_of`, as the kept checks are keyed).

The module is rebuilt node by node, each node of a class of the AST (compiler/ast.py,
and its spans) by name, with the fields its class has, in order, and the fields it was
made with: the same objects a parse makes, not validated again. Anything else in the
file (another layout, a class the AST does not have, a field too many or too few, a
value that is not text, a number, a boolean or null) is refused, and the file is parsed
as if nothing had been kept. The file is read as every cache file is
(compiler/cache_files.py `open_kept`): a plain file, this user's, that no one else may
write to, opened without waiting. A parse with errors is not kept.
At most `KEPT_MOST` parses are kept, the oldest removed.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.source import Span

#: The layout of the file: another one is another file.
_LAYOUT = 1

#: The most kept parses in the folder: writing one more removes the oldest.
KEPT_MOST = 64

#: The packages whose code makes a parse, or reads and writes it (this module: its layout).
_CODE = ("rolegraph.grammar", "rolegraph.compiler", "rolegraph.cli")


def _node_classes() -> dict[str, type[Any]]:
    """The classes a kept module may hold, by name: the AST's nodes and their spans."""
    found: dict[str, type[Any]] = {"Span": Span}
    for value in vars(ast).values():
        if isinstance(value, type) and issubclass(value, ast.Node):
            found[value.__name__] = value
    return found


_CLASSES = _node_classes()
_FIELDS = {cls: tuple(cls.model_fields) for cls in _CLASSES.values()}
_LEAVES = (str, int, float, bool, type(None))


def load(path: Path, text: str) -> ast.Module | None:
    """The module a former process parsed from `text` (read from `path`), if it kept
    one that still holds; else None."""
    from rolegraph.compiler.cache_files import open_kept

    try:
        name = _file_of(text)
        if name is None:
            return None
        with open_kept(name) as file:
            data = file.read()
        collecting = gc.isenabled()
        gc.disable()  # (many new objects, no cycles)
        try:
            kept = json.loads(data)
            if kept.get("key") != _key(path, text):
                return None
            module = _node(kept["module"])
        finally:
            if collecting:
                gc.enable()
    except Exception:  # missing, damaged, stale, from other code: parsed again
        return None
    return module if isinstance(module, ast.Module) else None


def save(path: Path, text: str, module: ast.Module) -> None:
    """Keep `module`, the clean parse of `text` (read from `path`). Whatever goes wrong
    leaves nothing kept: a parse not kept costs only the next search's time."""
    from rolegraph.compiler.cache_files import write_atomically

    from .kept_checks import prune

    try:
        name = _file_of(text)
        if name is None:
            return
        data = json.dumps({"key": _key(path, text), "module": _data(module)}).encode()
    except Exception:
        return
    write_atomically(name, lambda file: file.write(data))
    try:
        prune(os.path.dirname(name), "parse-", ".json", KEPT_MOST)
    except OSError:
        return


def _file_of(text: str) -> str | None:
    """The file that keeps the parse of `text` (None: no folder of caches)."""
    from rolegraph.compiler.cache_files import cache_folder

    folder = cache_folder()
    if folder is None:
        return None
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return os.path.join(folder, f"parse-{digest[:24]}.json")


def _key(path: Path, text: str) -> str:
    """What a kept parse must have been made from: the text, the file's name, the code."""
    made_by = repr((_LAYOUT, str(path), _code()))
    digest = hashlib.sha256(made_by.encode("utf-8", "surrogatepass"))
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _code() -> tuple[Any, ...]:
    """The interpreter's, pydantic's and lark's versions, and the files of the grammar,
    the compiler and the command line (this module's layout among them): `code_of`."""
    import lark

    from .kept_checks import code_of

    return code_of(_CODE, lark.__version__)


# -- the module as data, and back --------------------------------------------------------
#
# A node: [its class's name, the fields it was made with (a bit each, in field order),
# each field's value]; a tuple: [null, its items]; text, numbers, booleans and null as
# themselves.


def _data(value: Any) -> Any:
    if isinstance(value, tuple):
        return [None, *map(_data, value)]
    if isinstance(value, _LEAVES):
        return value
    cls = type(value)
    if _CLASSES.get(cls.__name__) is not cls:
        raise TypeError(f"not a node of the AST: {cls.__name__}")
    fields = _FIELDS[cls]
    made_with = value.model_fields_set
    mask = sum(1 << place for place, name in enumerate(fields) if name in made_with)
    extra = getattr(value, "__pydantic_extra__", None)
    private = getattr(value, "__pydantic_private__", None)
    if extra or private or set(value.__dict__) != set(fields):
        raise TypeError(f"a {cls.__name__} with more than its fields")
    return [cls.__name__, mask, *(_data(value.__dict__[name]) for name in fields)]


_new = object.__new__
_set = object.__setattr__


def _node(data: Any) -> Any:
    kind = type(data)
    if kind is list:
        head = data[0]
        if head is None:
            return tuple([_node(item) for item in data[1:]])
        cls = _CLASSES[head]
        fields = _FIELDS[cls]
        mask = data[1]
        if type(mask) is not int or not 0 <= mask < 1 << len(fields):
            raise ValueError("not a set of fields")
        node = _new(cls)  # (a field too many or too few: `zip` raises)
        _set(node, "__dict__", dict(zip(fields, [_node(v) for v in data[2:]], strict=True)))
        made_with = {name for place, name in enumerate(fields) if mask >> place & 1}
        _set(node, "__pydantic_fields_set__", made_with)
        _set(node, "__pydantic_extra__", None)
        _set(node, "__pydantic_private__", None)
        return node
    if kind in _LEAVES:
        return data
    raise ValueError(f"not a value of the AST: {kind.__name__}")
