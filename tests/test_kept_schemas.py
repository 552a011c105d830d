"""The AST's validator schemas kept across processes (compiler/kept_schemas.py) are the
schemas pydantic generates, and the validators built from them parse alike.

The oracle is pydantic itself: a process that keeps nothing (`keep=None`) generates
every schema as before. Each case runs in a fresh interpreter (a class's validator is
built once per process) and prints the node classes' schemas, written as plain data
(functions and classes by name, a class's `id()` in a `ref` by the class's name, or
STALE when it is another process's), what the parser makes of every example, standard
library file and malformed snippet, the errors of nodes made with invalid fields, and
the JSON schemas of a few classes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

_PROBE = r"""
import json, os, re, sys
folder = sys.argv[1] or None
kept_before = bool(folder and os.listdir(folder))
from rolegraph.compiler import ast
ast.build_validators(keep=folder)

schemas = {c.__qualname__: c.__pydantic_core_schema__ for c in ast._NODE_CLASSES}
names = {}
stack = list(schemas.values())
while stack:
    item = stack.pop()
    if isinstance(item, dict):
        if item.get("type") == "model":
            names[str(id(item["cls"]))] = item["cls"].__qualname__
        stack.extend(item.values())
    elif isinstance(item, (list, tuple)):
        stack.extend(item)

def plain(value):
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return re.sub(r":(\d{6,})$", lambda m: ":" + names.get(m.group(1), "STALE"), value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    owner = getattr(value, "__self__", None)
    name = getattr(value, "__qualname__", None) or repr(value)
    return f"{getattr(value, '__module__', '')}.{name}" + (
        f" of {owner.__qualname__}" if isinstance(owner, type) else ""
    )

from rolegraph.grammar import parse_module
from tests.conftest import EXAMPLES, STDLIB
from tests.test_syntax_errors import CASES
sources = {str(p): p.read_text() for p in EXAMPLES + STDLIB}
sources.update({name: source for name, source, *_ in CASES})
parsed = {}
for name, text in sources.items():
    result = parse_module(text, name)
    parsed[name] = [
        result.module.model_dump(mode="json") if result.module is not None else None,
        [d.model_dump(mode="json") for d in result.diagnostics],
    ]

errors = []
for make in (
    lambda: ast.Ref(parts=("agent",)),
    lambda: ast.Ref(parts=()),
    lambda: ast.NodeDecl(name="F", role="W"),
    lambda: ast.NodeDecl(name="w", role="W", replicate=0),
    lambda: ast.IntLit(value="3"),
    lambda: ast.FloatLit(value=float("inf")),
    lambda: ast.Module(decls=[ast.Ref.of("x")]),
):
    try:
        make()
        errors.append(None)
    except Exception as error:
        errors.append(str(error))
json_schemas = [c.model_json_schema() for c in (ast.Module, ast.AgentDecl, ast.Ref)]
print(json.dumps({"kept_before": kept_before, "schemas": plain(schemas), "parsed": parsed,
                  "errors": errors, "json_schemas": json_schemas}))
"""


def _probe(folder: Path | None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "" if folder is None else str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def generated() -> dict:
    return _probe(None)


def test_kept_schemas_are_the_schemas_pydantic_generates(generated, tmp_path):
    written = _probe(tmp_path)  # (none kept yet: generated, then written)
    assert not written["kept_before"] and [p.name for p in tmp_path.iterdir()]
    loaded = _probe(tmp_path)
    assert loaded["kept_before"]
    assert "STALE" not in json.dumps(loaded["schemas"])  # (refs name this process's classes)
    assert written["schemas"] == generated["schemas"]
    assert loaded["schemas"] == generated["schemas"]


def test_validators_built_from_kept_schemas_parse_alike(generated, tmp_path):
    _probe(tmp_path)
    loaded = _probe(tmp_path)
    assert loaded["kept_before"]
    assert loaded["parsed"] == generated["parsed"]
    assert loaded["errors"] == generated["errors"]
    assert loaded["json_schemas"] == generated["json_schemas"]
    assert all(generated["errors"])  # (every invalid node refused)
    assert any(d for _, diagnostics in generated["parsed"].values() for d in diagnostics)


def _kept_file(folder: Path) -> Path:
    (path,) = folder.glob("ast-schemas-*.pickle")
    return path


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_file_is_generated_again(generated, tmp_path, damage):
    _probe(tmp_path)
    path = _kept_file(tmp_path)
    data = path.read_bytes()
    path.write_bytes(
        {"garbage": b"not a pickle", "truncated": data[: len(data) // 2]}.get(damage, b"")
    )
    again = _probe(tmp_path)
    assert again["schemas"] == generated["schemas"] and again["parsed"] == generated["parsed"]
    assert _kept_file(tmp_path).read_bytes() == data  # (written again, whole)


def test_a_file_from_other_code_is_not_used(generated, tmp_path):
    """The file names the modules' text: a header whose fingerprint differs (another
    version of the classes) is refused, and its schemas not used."""
    import pickle

    _probe(tmp_path)
    path = _kept_file(tmp_path)
    with path.open("rb") as file:
        modules, _, referenced = pickle.load(file)
        rest = file.read()
    with path.open("wb") as file:
        pickle.dump((modules, "another fingerprint", referenced), file)
        file.write(rest)
    again = _probe(tmp_path)
    assert again["schemas"] == generated["schemas"]
    with path.open("rb") as file:
        assert pickle.load(file)[1] != "another fingerprint"  # (written again)


def test_no_file_is_kept_without_a_folder(tmp_path, monkeypatch):
    """`build_validators()` alone (a program that makes nodes without parsing) keeps
    nothing anywhere: only the parser names a folder."""
    done = subprocess.run(
        [sys.executable, "-c", "from rolegraph.compiler import ast; ast.build_validators()"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.rglob("ast-schemas-*"))


def test_a_node_class_without_a_module_file_is_built_and_nothing_kept(tmp_path):
    """A node class made where no file says what it is (by `exec`, in `__main__`): its
    schemas cannot be keyed, so they are generated and not kept."""
    code = (
        "import sys\n"
        "from rolegraph.compiler import ast\n"
        "exec('from rolegraph.compiler.ast import Node\\nclass Extra(Node):\\n    x: int = 0',"
        " {'__name__': 'made_by_exec'})\n"
        "ast.build_validators(keep=sys.argv[1])\n"
        "(extra,) = [c for c in ast._NODE_CLASSES if c.__name__ == 'Extra']\n"
        "assert extra(x=1).x == 1 and ast.Ref.of('a').head == 'a'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.iterdir())


_PLUGIN_TYPES = """
def scaled(value):
    return value
"""

_PLUGIN_ALIASES = """
from typing import Annotated
from pydantic import Field

Small = Annotated[int, Field(le=5)]
"""

_PLUGIN_NODES = """
from typing import Annotated
from pydantic import AfterValidator
from rolegraph.compiler.ast import Node
from plugin_aliases import Small
from plugin_types import scaled

class Extra(Node):
    n: Annotated[int, AfterValidator(scaled)] = 0
    small: Small = 0
"""

_PLUGIN_PROBE = r"""
import json, os, re, sys
sys.path.insert(0, sys.argv[1])
import plugin_nodes
from rolegraph.compiler import ast
ast.build_validators(keep=sys.argv[2])
extra = plugin_nodes.Extra
refs = re.findall(r"'ref': '([^']*:(\d+))'", repr(extra.__pydantic_core_schema__))
try:
    small = extra(small=30).small
except ValueError:
    small = None
print(json.dumps({"n": extra(n=3).n, "small": small, "kept": bool(os.listdir(sys.argv[2])),
                  "stale": sorted(r for r, i in refs if "plugin" in r and i != str(id(extra)))}))
"""


def _plugin_probe(code: Path, cache: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PLUGIN_PROBE, str(code), str(cache)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "change, changed",
    [
        # (the validator now takes pydantic's `info`: a kept schema would call it without)
        (
            ("plugin_types", "def scaled(value):\n    return value"),
            ("def scaled(value, info):\n    return value * 10", {"n": 30}),
        ),
        # (an alias whose constraint changed: the kept schema would hold the old one)
        (("plugin_aliases", "le=5"), ("le=50", {"small": 30})),
    ],
    ids=["validator", "alias"],
)
def test_a_node_class_of_a_program_sees_changes_to_the_modules_its_schema_names(
    tmp_path, change, changed
):
    """A program's node class (a plugin's) whose validator or annotated type is defined
    in another module: once that module changes, the schema kept before is not used."""
    code, cache = tmp_path / "code", tmp_path / "cache"
    code.mkdir()
    cache.mkdir()
    texts = {"plugin_types": _PLUGIN_TYPES, "plugin_aliases": _PLUGIN_ALIASES}
    for name, text in {**texts, "plugin_nodes": _PLUGIN_NODES}.items():
        (code / f"{name}.py").write_text(text)
    before = {"n": 3, "small": None, "kept": True, "stale": []}
    assert _plugin_probe(code, cache) == before
    assert _plugin_probe(code, cache) == before  # (kept)
    (module, old), (new, after) = change, changed
    assert old in texts[module]
    (code / f"{module}.py").write_text(texts[module].replace(old, new))
    assert _plugin_probe(code, cache) == {**before, **after}


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o707, 0o770])
def test_nothing_is_kept_or_read_in_a_folder_others_may_write(tmp_path, mode):
    """The parser's cache folder (`$XDG_CACHE_HOME/rolegraph`) is where pickles are
    read from (the kept schemas, the kept parser, Lark's own cache): one that other users
    may write to (a shared `XDG_CACHE_HOME`) is not used at all; the parse works alike."""
    shared = tmp_path / "shared" / "rolegraph"
    shared.mkdir(parents=True)
    shared.chmod(mode)
    (tmp_path / "temp").mkdir()
    code = (
        "from rolegraph.grammar import parse_module\n"
        "print(len(parse_module('agent A() -> str {\\n  return \"x\"\\n}\\n', 'a').diagnostics))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "XDG_CACHE_HOME": str(shared.parent), "TMPDIR": str(tmp_path / "temp")},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
    assert not list(shared.iterdir())
    (own,) = (tmp_path / "temp").iterdir()  # (the cache went to this user's own folder)
    assert own.name == f"rolegraph-{os.getuid()}" and list(own.glob("ast-schemas-*"))


@pytest.mark.parametrize("made_by_another", [False, True])
def test_without_a_cache_folder_the_temp_folder_gets_one_of_this_users_own(
    tmp_path, made_by_another
):
    """When the cache folder cannot be made, the cache goes to a folder made for this
    user alone in the temp folder (never the shared temp folder itself, where another
    user could leave a Lark cache to be unpickled); one that others may write to there
    is not used."""
    temp = tmp_path / "temp"
    temp.mkdir()
    temp.chmod(0o1777)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    own = temp / f"rolegraph-{os.getuid()}"
    if made_by_another:
        own.mkdir()
        own.chmod(0o777)
    code = "from rolegraph.grammar import parse_module\nparse_module('agent A', 'a')\n"
    env = {**os.environ, "XDG_CACHE_HOME": str(not_a_folder), "TMPDIR": str(temp)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in temp.iterdir()] == [own.name]
    if made_by_another:
        assert not list(own.iterdir())
    else:
        assert own.stat().st_mode & 0o777 == 0o700
        assert {p.suffix for p in own.iterdir()} >= {".cache", ".pickle"}


_DATACLASS_NODES = """
import dataclasses
from rolegraph.compiler.ast import Node

@dataclasses.dataclass
class Point:
    x: int = 0

class WithPoint(Node):
    p: Point = dataclasses.field(default_factory=Point)
"""

_DATACLASS_PROBE = r"""
import json, os, re, sys
sys.path.insert(0, sys.argv[1])
import dataclass_nodes as made
from rolegraph.compiler import ast
ast.build_validators(keep=sys.argv[2])
refs = re.findall(r"'ref': '([^']*:(\d+))'", repr(made.WithPoint.__pydantic_core_schema__))
ids = {str(id(made.Point)), str(id(made.WithPoint))}
print(json.dumps({"x": made.WithPoint(p={"x": 3}).p.x, "kept": bool(os.listdir(sys.argv[2])),
                  "stale": sorted(r for r, i in refs if "dataclass_nodes" in r and i not in ids)}))
"""


def test_a_kept_schema_names_a_dataclass_by_this_processs_id(tmp_path):
    """A node class holding a dataclass: its schema's `ref` for the dataclass ends in
    the dataclass's `id()`, written with this process's id as a model's is."""
    code, cache = tmp_path / "code", tmp_path / "cache"
    code.mkdir()
    cache.mkdir()
    (code / "dataclass_nodes.py").write_text(_DATACLASS_NODES)
    for _ in range(2):  # (generated and kept, then loaded)
        done = subprocess.run(
            [sys.executable, "-c", _DATACLASS_PROBE, str(code), str(cache)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"x": 3, "kept": True, "stale": []}
