"""A file's check kept across processes, for `rolegraph check` and `run` (issue 15).

Parsing and checking a file loads the grammar, lark and the checker's modules (~80 ms of
a run on the mock) to make the same result for the same file each time. So the
command line keeps what it reads of a clean check (no errors: the agents' IRs, the
warnings, the sources they quote, each constraint's verdict, the program's fingerprint
that a store keeps) in a pickle beside the parser's (compiler/cache_files.py
`cache_folder`: a folder only this user may write to), and a later check of the same
file loads it instead, as long as every answer the check was built on still holds:

- the text of every `.agent` file it read (the file, its imports, the standard
  library's), by the bytes' hash;
- where the file, its project's root (`--root` or the file's folder) and each path
  import lead once symbolic links are followed;
- where each Python tool's module is found now (`sys.path`, the agent's folder, the
  working directory) and the hash of the bytes of every Python source as the check read
  them (compiler/reads.py);
- the interpreter's, pydantic's and pydantic-core's versions, rolegraph's compiler,
  grammar, standard library and command line as files (each one's name, size and time),
  and every third-party package loaded by the process that checked (jinja2's globals
  and lark's parser make answers): where an import finds it, its file's size and time,
  and its distribution's `.dist-info` folder, whose name says its version;
- the command: the interpreter and its install, where rolegraph itself is found, the path
  as given, the working directory, `--root`, and whether runs are explored (`check`) or
  not (`run`).

The file's name is made of the command's part, so that an edit of the file writes its
one file again; at most `KEPT_MOST` files are kept, the oldest removed. It is read only
when this user wrote it and no one else may write to it; whatever is wrong with it
(missing, damaged, truncated, stale, another version's) falls back to the check, which
writes it again; whatever fails while keeping a check leaves the command its fresh
check. A check with errors is not kept.

Only the command line keeps checks: a program that imports rolegraph checks as before.
The cached and the fresh check hand the commands the same object (`KeptCheck`), made
the same way (`kept`).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rolegraph.compiler.reads import Read

#: The layout of the file: another one is another file.
_LAYOUT = 1

#: The packages whose code makes the check and what is kept of it (their files' names,
#: sizes and times).
_CODE = ("rolegraph.compiler", "rolegraph.grammar", "rolegraph.stdlib", "rolegraph.cli")

_ROLEGRAPH_FILE = sys.modules["rolegraph"].__file__ or ""


@dataclass(frozen=True)
class Verdict:
    """A temporal constraint's verdict, as `check` prints it."""

    agent: str
    mode: str
    text: str
    status: str
    states: int


@dataclass(frozen=True)
class KeptCheck:
    """What `check` and `run` read of a clean check."""

    irs: dict[str, Any]  # each agent's IR, by name
    diagnostics: list[Any]  # the warnings (compiler/diagnostics.py `Diagnostic`)
    sources: dict[str, str]  # the text of each file a diagnostic may point into
    constraints: list[Verdict]
    fingerprint: str  # the main module's (compiler/printer.py), which a run's store keeps


def kept(checked: Any) -> KeptCheck:
    """What the commands read of a clean `CheckedModule`."""
    from rolegraph.compiler.printer import fingerprint

    return KeptCheck(
        irs=checked.irs,
        diagnostics=list(checked.diagnostics),
        sources=dict(checked.program.sources),
        constraints=[
            Verdict(c.agent, c.mode, c.text, c.status, c.states) for c in checked.constraints
        ],
        fingerprint=fingerprint(checked.program.main.module),
    )


def load(path: Path, *, explore: bool, root: Path | None) -> KeptCheck | None:
    """The check of `path` kept by an earlier process, if every answer it was built on
    still holds; else None."""
    from rolegraph.compiler.cache_files import open_kept

    try:
        file_path = _file_of(path, explore, root)
        if file_path is None:
            return None
        with open_kept(file_path) as file:
            code, reads = pickle.load(file)
            if code != _code() or not all(_holds(read) for read in reads):
                return None
            collecting = gc.isenabled()
            gc.disable()  # (many new objects, no cycles)
            try:
                found = pickle.load(file)
            finally:
                if collecting:
                    gc.enable()
    except Exception:  # missing, damaged, stale, or from other code: checked again
        return None
    return found if isinstance(found, KeptCheck) else None


def save(
    path: Path, *, explore: bool, root: Path | None, checked: KeptCheck, noted: list[Read]
) -> None:
    """Keep `checked`, the check of `path`, with the answers it was built on: the bytes of
    the files in its sources, the answers `noted` (compiler/reads.py) and the third-party
    code loaded. Not kept when a file or an answer changed while it was checked, nor when
    anything goes wrong: a check not kept costs only the next process's time."""
    try:
        _save(path, explore=explore, root=root, checked=checked, noted=noted)
    except Exception:  # (say, the working directory was removed)
        return


def _save(
    path: Path, *, explore: bool, root: Path | None, checked: KeptCheck, noted: list[Read]
) -> None:
    from rolegraph.compiler.cache_files import write_atomically

    file_path = _file_of(path, explore, root)
    if file_path is None:
        return
    reads: list[Read] = [("real", str(path), os.path.realpath(path))]
    if root is not None:
        reads.append(("real", str(root), os.path.realpath(root)))
    for name, text in checked.sources.items():
        data = _bytes(name)
        if data is None or not _reads_as(data, text):
            return  # (changed since the check read it)
        reads.append(("text", name, hashlib.sha256(data).hexdigest()))
    for kind, *what in noted:
        if kind == "source":  # (a Python file read: the hash of the bytes as read)
            if not what[1]:
                return  # (unreadable)
            reads.append(("text", *what))
        else:
            reads.append((kind, *what))
    reads.extend(_third_party())
    if not all(_holds(read) for read in reads):
        return  # (an answer changed while the file was checked)

    def write(file: IO[bytes]) -> None:
        pickle.dump((_code(), reads), file, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(checked, file, protocol=pickle.HIGHEST_PROTOCOL)

    write_atomically(file_path, write)
    prune(os.path.dirname(file_path), "check-", ".pickle")


#: The most kept checks in the folder: writing one more removes the oldest.
KEPT_MOST = 256


def prune(folder: str, prefix: str, suffix: str, most: int | None = None) -> None:
    """Remove the oldest files named `prefix`...`suffix` in `folder` (by time written)
    beyond `most` (`KEPT_MOST` when None). Another process may prune at the same time: a
    file gone already is no matter."""
    most = KEPT_MOST if most is None else most
    found: list[tuple[int, str]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(suffix):
                with contextlib.suppress(OSError):
                    found.append((entry.stat().st_mtime_ns, entry.path))
    found.sort()
    for _, name in found[: max(0, len(found) - most)]:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _third_party() -> list[Read]:
    """Each package loaded in this process from outside the standard library and
    rolegraph (the check's code uses them: jinja2's globals, lark's parser, pydantic...):
    where it is found, its file's time and size, and its distribution's metadata folder
    (named by its version) when one beside it is named by the package."""
    import sysconfig

    places = sysconfig.get_paths()
    own = os.path.dirname(_ROLEGRAPH_FILE) + os.sep
    standard = tuple(places[key] + os.sep for key in ("stdlib", "platstdlib"))
    local = tuple(places[key] + os.sep for key in ("purelib", "platlib"))
    metadata: dict[str, dict[str, str]] = {}
    reads: list[Read] = []
    for name, module in sorted(sys.modules.items()):
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        if "." in name or name == "__main__" or not isinstance(origin, str):
            continue
        if not os.path.isabs(origin) or origin.startswith(own):
            continue  # (built in, frozen; rolegraph's own: `_code`)
        if origin.startswith(standard) and not origin.startswith(local):
            continue
        package = os.path.dirname(origin) if origin.endswith("__init__.py") else origin
        site = os.path.dirname(package)
        if site not in metadata:
            metadata[site] = _distributions(site)
        reads.append(
            ("package", name, origin, _time_and_size(origin), metadata[site].get(name.lower(), ""))
        )
    return reads


def _distributions(site: str) -> dict[str, str]:
    """The `.dist-info` folders in `site` by their distribution's name (lower case; each
    folder's name says its version too)."""
    found: dict[str, str] = {}
    with contextlib.suppress(OSError), os.scandir(site) as entries:
        for entry in entries:
            if entry.name.endswith(".dist-info"):
                found[entry.name.partition("-")[0].lower()] = entry.path
    return found


def _file_of(path: Path, explore: bool, root: Path | None) -> str | None:
    """The file that keeps the check of `path` by this command, or None (no cache folder,
    or the file is stdin)."""
    from rolegraph.compiler.cache_files import cache_folder

    if str(path) == "-":
        return None
    folder = cache_folder()
    if folder is None:
        return None
    command = repr(
        (
            _LAYOUT,
            sys.executable,  # (each interpreter and install has its own files)
            sys.prefix,
            _ROLEGRAPH_FILE,  # (two trees on one interpreter keep their own files)
            str(path),
            os.getcwd(),
            None if root is None else str(root),
            explore,
        )
    )
    return os.path.join(folder, f"check-{hashlib.sha256(command.encode()).hexdigest()[:24]}.pickle")


def _code() -> tuple[Any, ...]:
    """The interpreter's and pydantic's versions, and rolegraph's code that checks
    (`code_of`)."""
    return code_of(_CODE)


def code_of(packages: tuple[str, ...], *versions: str) -> tuple[Any, ...]:
    """What a cache kept across processes was made by: the interpreter's and pydantic's
    versions, `versions`, and the files of `packages`, each one's name, size and time
    (any edit, install or removal changes it)."""
    import importlib.util

    import pydantic_core
    from pydantic.version import VERSION

    files: list[tuple[str, int, int]] = []
    for package in packages:
        spec = importlib.util.find_spec(package)
        for folder in spec.submodule_search_locations or () if spec else ():
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_file():
                        status = entry.stat()
                        files.append((entry.path, status.st_size, status.st_mtime_ns))
    return (sys.version, VERSION, pydantic_core.__version__, *versions, sorted(files))


def _holds(read: Read) -> bool:
    """Whether an answer a check was built on is still the answer."""
    kind, *what = read
    if kind == "text":
        data = _bytes(what[0])
        return data is not None and hashlib.sha256(data).hexdigest() == what[1]
    if kind == "real":
        return os.path.realpath(what[0]) == what[1]
    if kind == "path":  # (as compiler/resolve.py follows it)
        return str(Path(what[0]).resolve()) == what[1]
    if kind == "module":  # (as compiler/pysource.py looks for it)
        from rolegraph.compiler.pyimport import find_module_spec, spec_answer

        return spec_answer(find_module_spec(what[0], what[1])) == what[2]
    if kind == "package":  # (as an import would find it)
        import importlib.util

        spec = importlib.util.find_spec(what[0])
        return (
            spec is not None
            and spec.origin == what[1]
            and _time_and_size(what[1]) == what[2]
            and (not what[3] or os.path.isdir(what[3]))
        )
    return False


def _time_and_size(name: str) -> str:
    try:
        status = os.stat(name)
    except OSError:
        return ""
    return f"{status.st_mtime_ns} {status.st_size}"


def _bytes(name: str) -> bytes | None:
    try:
        with open(name, "rb") as file:
            return file.read()
    except OSError:
        return None


def _reads_as(data: bytes, text: str) -> bool:
    """Whether a file's bytes read as `text`, as the check read it: the main file by
    grammar/encoding.py's rule, an imported one as UTF-8 with its line ends made `\\n`
    (compiler/resolve.py `Path.read_text`)."""
    from rolegraph.grammar.encoding import decode_source

    try:
        imported = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        imported = None
    return text == imported or decode_source(data, "")[0] == text
