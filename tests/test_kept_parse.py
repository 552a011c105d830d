"""A search's start file parsed once across processes (rolegraph/cli/kept_parse.py), held
to the parse it replaces: the module a kept parse gives back is the fresh parse's, node
for node (every field, the fields each node was made with, trivia and spans: compared
as data, not by the AST's equality, which leaves trivia out), on every example and file
of the standard library and on seeded random edit walks; a search given the kept parse
writes what a search that parsed writes (its report, its front, its store's rows); and a
kept file that is stale (another text, another name, other code), damaged, or made to
build something other than the AST's nodes is refused, with no traceback, and the file
parsed as if nothing had been kept."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rolegraph.cli import kept_parse
from rolegraph.compiler import ast
from rolegraph.compiler.printer import to_source
from rolegraph.grammar import parse_module

from .conftest import ROOT
from .edit_walks import edit_walk

AGENT_FILES = sorted(
    [*(ROOT / "examples").glob("**/*.agent"), *(ROOT / "stdlib").glob("**/*.agent")]
)
SELF_REFINE = ROOT / "examples" / "self_refine.agent"


@pytest.fixture(autouse=True)
def _cache_folder(tmp_path, monkeypatch):
    """A folder of caches of the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _as_data(value: Any) -> Any:
    """`value` as plain data: each node's class, every field (trivia and spans too), and
    the fields it was made with; a oracle apart from kept_parse's own encoding."""
    if isinstance(value, tuple):
        return ("tuple", [_as_data(item) for item in value])
    if hasattr(value, "__pydantic_fields_set__"):
        assert not value.__pydantic_private__ and not value.__pydantic_extra__
        return (
            type(value),
            sorted(value.model_fields_set),
            {name: _as_data(item) for name, item in vars(value).items()},
        )
    return (type(value), value)


def _parsed(path: Path, text: str | None = None) -> tuple[str, ast.Module]:
    text = path.read_text(encoding="utf-8") if text is None else text
    module = parse_module(text, str(path)).module
    assert module is not None
    return text, module


def _kept_file(text: str) -> Path:
    name = kept_parse._file_of(text)
    assert name is not None
    return Path(name)


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.name)
def test_a_kept_parse_is_the_fresh_parse_as_data(path):
    text, module = _parsed(path)
    kept_parse.save(path, text, module)
    loaded = kept_parse.load(path, text)
    assert loaded is not None and loaded is not module
    assert _as_data(loaded) == _as_data(module)
    assert to_source(loaded, trivia=True) == to_source(module, trivia=True)


@pytest.mark.parametrize("seed", range(3))
def test_kept_parses_of_an_edit_walk_are_the_fresh_parses(seed, tmp_path):
    """Programs an edit walk makes, printed with their trivia, parsed and kept."""
    rng = random.Random(seed)
    path = tmp_path / "walk.agent"
    for program in edit_walk(_parsed(SELF_REFINE)[1], rng, 6)[1:]:
        text, module = _parsed(path, to_source(program, trivia=True))
        kept_parse.save(path, text, module)
        loaded = kept_parse.load(path, text)
        assert loaded is not None
        assert _as_data(loaded) == _as_data(module)


def test_a_parse_is_kept_for_its_text_its_file_and_its_code(monkeypatch, tmp_path):
    text, module = _parsed(SELF_REFINE)
    kept_parse.save(SELF_REFINE, text, module)
    assert kept_parse.load(SELF_REFINE, text) is not None
    assert kept_parse.load(SELF_REFINE, text.replace("three times", "two times")) is None
    assert kept_parse.load(tmp_path / "self_refine.agent", text) is None  # (its name)
    made_by = kept_parse._code()
    monkeypatch.setattr(kept_parse, "_code", lambda: (*made_by[:-1], made_by[-1][1:]))
    assert kept_parse.load(SELF_REFINE, text) is None


@pytest.mark.parametrize(
    "module, name",
    [
        ("sys", "version"),
        ("lark", "__version__"),
        ("pydantic.version", "VERSION"),
        ("pydantic_core", "__version__"),
    ],
)
def test_a_parse_is_kept_for_the_versions_of_the_code_that_parses(monkeypatch, module, name):
    import importlib

    text, parsed = _parsed(SELF_REFINE)
    kept_parse.save(SELF_REFINE, text, parsed)
    assert kept_parse.load(SELF_REFINE, text) is not None
    monkeypatch.setattr(importlib.import_module(module), name, "another")
    assert kept_parse.load(SELF_REFINE, text) is None


def _spoiled(data: Any, spoil: str) -> Any:
    """The kept module's data with one thing made wrong."""
    if spoil == "a class not of the AST":
        data[0] = "BaseModel"
    elif spoil == "a name that is no class":
        data[0] = "os.system"
    elif spoil == "a field too many":
        data.append("more")
    elif spoil == "a field too few":
        data.pop()
    elif spoil == "fields made with beyond its own":
        data[1] = 1 << 40
    elif spoil == "a value that is no value of the AST":
        data[2] = {"kind": "Module"}
    elif spoil == "a class's name not text":
        data[0] = ["Module"]
    elif spoil == "a node that is no module":
        data[:] = ["Span", 0, 1, 1, 1, 1, 0, 0]
    return data


SPOILS = [
    "a class not of the AST",
    "a name that is no class",
    "a field too many",
    "a field too few",
    "fields made with beyond its own",
    "a value that is no value of the AST",
    "a class's name not text",
    "a node that is no module",
]


@pytest.mark.parametrize("spoil", [*SPOILS, "truncated", "not JSON", "empty", "a list"])
def test_a_damaged_or_hostile_kept_parse_is_refused(spoil):
    text, module = _parsed(SELF_REFINE)
    kept_parse.save(SELF_REFINE, text, module)
    kept = _kept_file(text)
    data = kept.read_bytes()
    if spoil == "truncated":
        data = data[: len(data) // 2]
    elif spoil == "not JSON":
        data = b"\x80\x04K\x01."  # (a pickle: never loaded as one)
    elif spoil == "empty":
        data = b""
    elif spoil == "a list":
        data = b"[]"
    else:
        found = json.loads(data)
        found["module"] = _spoiled(found["module"], spoil)
        data = json.dumps(found).encode()
    kept.write_bytes(data)
    assert kept_parse.load(SELF_REFINE, text) is None


def test_a_kept_parse_others_may_write_is_not_read():
    text, module = _parsed(SELF_REFINE)
    kept_parse.save(SELF_REFINE, text, module)
    kept = _kept_file(text)
    os.chmod(kept, 0o666)
    assert kept_parse.load(SELF_REFINE, text) is None
    os.chmod(kept, 0o600)
    assert kept_parse.load(SELF_REFINE, text) is not None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_kept_parse_that_is_no_plain_file_is_refused_at_once():
    """A pipe at the kept file's name (no writer): refused, not waited on."""
    import threading

    text, _ = _parsed(SELF_REFINE)
    kept = _kept_file(text)
    os.mkfifo(kept, 0o600)
    found: list[Any] = []
    reader = threading.Thread(target=lambda: found.append(kept_parse.load(SELF_REFINE, text)))
    reader.daemon = True
    reader.start()
    reader.join(10)
    if reader.is_alive():  # (let the reader go, then fail)
        with open(kept, "wb"):
            pass
        pytest.fail("a kept parse that is a pipe was waited on")
    assert found == [None]


def test_the_oldest_kept_parses_are_removed_beyond_the_most_kept():
    text, module = _parsed(SELF_REFINE)
    folder = _kept_file(text).parent
    old = [folder / f"parse-{i:024x}.json" for i in range(kept_parse.KEPT_MOST + 5)]
    for age, file in enumerate(old):
        file.write_bytes(b"")
        os.utime(file, ns=(10**18 + age, 10**18 + age))  # (the first the oldest)
    kept_parse.save(SELF_REFINE, text, module)
    kept = set(folder.glob("parse-*.json"))
    assert len(kept) == kept_parse.KEPT_MOST
    assert set(old) - kept == set(old[:6])  # (the six oldest)
    assert kept_parse.load(SELF_REFINE, text) is not None  # (the new one kept)


def _search(work: Path, out: str) -> tuple[int, str, dict[str, list[Any]]]:
    """`rolegraph search` of self_refine.agent in this process, as `main()` gives it:
    its exit status, its report, and its store's rows."""
    from rolegraph.cli.fast import run_fast

    data = work / "tasks.jsonl"
    rows = [{"inputs": {"task": f"task {i}"}, "expected": "fjord"} for i in range(3)]
    data.write_text("\n".join(json.dumps(row) for row in rows))
    store = work / f"{out}.sqlite"
    args = ["search", str(SELF_REFINE), "--data", str(data), "--model", "mock", "-n", "6"]
    args += ["--seed", "3", "--store", str(store), "-o", str(work / out), "--quiet"]
    sink = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            run_fast(args)
        except SystemExit as ended:
            code = int(ended.code or 0)
    report = (work / out / "search.json").read_text(encoding="utf-8")
    with contextlib.closing(sqlite3.connect(store)) as db:
        tables = {
            table: sorted(
                tuple(value for name, value in zip(columns, row, strict=True) if name != "created")
                for row in db.execute(f"SELECT * FROM {table}")
                for columns in [[c[0] for c in db.execute(f"SELECT * FROM {table}").description]]
            )
            for table in ("runs", "candidates", "tests")
        }
    return code, report, tables


def test_a_search_from_a_kept_parse_writes_what_a_search_that_parsed_writes(tmp_path, monkeypatch):
    fresh = _search(tmp_path, "fresh")  # (parses, and keeps the parse)
    assert fresh[0] == 0
    text = SELF_REFINE.read_text(encoding="utf-8")
    assert _kept_file(text).exists()

    def no_parse(*_: Any, **__: Any) -> Any:
        raise AssertionError("parsed again")

    monkeypatch.setattr("rolegraph.grammar.parse_module", no_parse)
    kept = _search(tmp_path, "kept")
    assert kept[0] == 0
    assert kept[1].replace(str(tmp_path / "kept"), "OUT") == fresh[1].replace(
        str(tmp_path / "fresh"), "OUT"
    )
    assert kept[2] == fresh[2]
    written = sorted(p.name for p in (tmp_path / "kept").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "fresh").iterdir())
    for name in written:
        if name.endswith(".agent"):
            assert (tmp_path / "kept" / name).read_text() == (tmp_path / "fresh" / name).read_text()


def test_a_search_given_a_spoiled_kept_parse_parses_and_says_nothing(tmp_path):
    text, module = _parsed(SELF_REFINE)
    kept_parse.save(SELF_REFINE, text, module)
    kept = _kept_file(text)
    found = json.loads(kept.read_bytes())
    found["module"] = _spoiled(found["module"], "a class not of the AST")
    kept.write_text(json.dumps(found))
    code, report, _ = _search(tmp_path, "spoiled")
    assert code == 0
    assert "Traceback" not in report
    assert kept_parse.load(SELF_REFINE, text) is not None  # (kept anew by that search)


def test_a_kept_parse_loads_the_parser_a_parse_would_have_loaded(tmp_path):
    """A search's edits parse fragments: the parser is loaded with the start file's
    module (among start-up's objects, rolegraph/cli/exits.py `keep_until_exit`), from a
    kept parse as from a parse."""
    text, module = _parsed(SELF_REFINE)
    kept_parse.save(SELF_REFINE, text, module)
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "import rolegraph.grammar\n"
        "from rolegraph.cli.files import _parsed\n"
        "from rolegraph.grammar.lexer import grammar_parser\n"
        "def no_parse(*_):\n"
        "    raise AssertionError('parsed again')\n"
        "rolegraph.grammar.parse_module = no_parse\n"
        "module, _ = _parsed(Path(sys.argv[1]), Path(sys.argv[1]).read_text(), True)\n"
        "print(type(module).__name__, grammar_parser.cache_info().currsize)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(SELF_REFINE)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Module", "1"]
