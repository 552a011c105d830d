"""Modules run on first use (rolegraph/cli/on_first_use.py): what lark and anyone else see of
`regex` and `interegular` is what an eager import gives them. Each case runs in a fresh
interpreter (what a process has imported cannot be taken back), and the oracle is the
same code in an interpreter that imported both modules eagerly before lark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

_GRAMMARS = r"""
import json, logging, sys, lark
from lark import Lark
logging.getLogger("lark").setLevel(logging.DEBUG)
seen = []
handler = logging.Handler()
handler.emit = lambda record: seen.append(record.getMessage())
logging.getLogger("lark").addHandler(handler)
out = {}
# `regex=True`: the `regex` module compiles the terminals (Unicode classes)
words = Lark(r'''start: WORD+
WORD: /\p{Lu}\p{Ll}+/
%ignore " "
''', regex=True, parser="lalr")
out["regex"] = str(words.parse("Ab Cd"))
# two terminals that can match the same text: interegular finds the collision
collide = Lark(r'''start: A | B
A: /a+b?/
B: /ab*/
''', parser="lalr", lexer="basic")
out["collision logged"] = seen
try:
    Lark(r'''start: A | B
A: /a+b?/
B: /ab*/
''', parser="lalr", lexer="basic", strict=True)
except Exception as error:
    out["strict"] = f"{type(error).__name__}: {error}"
out["flags"] = [lark.lark._has_regex, lark.utils._has_regex, lark.lexer.has_interegular]
print(json.dumps(out))
"""


# what the `rolegraph` command does first (rolegraph/cli `main`): a library imported by
# another program leaves its imports alone (test_a_library_import_leaves_them_alone)
_AS_THE_COMMAND = (
    "from rolegraph.cli.on_first_use import imported_on_first_use\n"
    "imported_on_first_use('regex', 'interegular')\n"
)


def _python(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_lark_builds_parsers_as_with_both_modules_imported_eagerly():
    on_first_use = _python(
        _AS_THE_COMMAND + "import rolegraph.grammar, sys\n"
        "assert type(sys.modules['regex']).__name__ == '_OnFirstUse'\n"
        "assert type(sys.modules['interegular']).__name__ == '_OnFirstUse'\n" + _GRAMMARS
    )
    eager = _python("import regex, interegular\n" + _GRAMMARS)
    assert json.loads(on_first_use) == json.loads(eager)
    assert json.loads(eager)["collision logged"]  # (the case exercises interegular)
    assert "strict" in json.loads(eager)


def test_a_library_import_leaves_them_alone():
    code = "import sys, rolegraph.grammar\nprint(type(sys.modules['regex']).__name__)"
    assert _python(code) == "module"


def test_parsing_and_checking_run_neither_module():
    code = (
        _AS_THE_COMMAND + "import sys, json\n"
        "from rolegraph.grammar import parse_module\n"
        "from rolegraph.compiler.check import check_module\n"
        "text = open(sys.argv[1], encoding='utf-8').read()\n"
        "parsed = parse_module(text, sys.argv[1])\n"
        "check_module(parsed.module, sys.argv[1], lambda s, n: (None, []), text)\n"
        "print(json.dumps([type(sys.modules[n]).__name__ for n in ('regex', 'interegular')]))"
    )
    example = Path(__file__).resolve().parent.parent / "examples" / "self_refine.agent"
    assert json.loads(_python(code, str(example))) == ["_OnFirstUse", "_OnFirstUse"]


# A package whose code takes a while and counts its runs: made lazy, then read by
# several threads at once, each must see it whole, and it runs once.
_SLOW_PACKAGE = """
import time
RUNS.append(1)
time.sleep(0.2)
from .part import VALUE
"""


def _package(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "slowpkg"
    folder.mkdir()
    (folder / "__init__.py").write_text(
        "import builtins\nRUNS = builtins.__dict__.setdefault('slowpkg_runs', [])\n" + body
    )
    (folder / "part.py").write_text("VALUE = 42\n")
    return tmp_path


def _lazy(tmp_path: Path, code: str) -> str:
    return _python(
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from rolegraph.cli.on_first_use import imported_on_first_use\n"
        "imported_on_first_use('slowpkg')\n" + textwrap.dedent(code)
    )


def test_threads_that_read_it_at_once_all_see_it_whole(tmp_path):
    root = _package(tmp_path, _SLOW_PACKAGE)
    code = """
    import builtins, json, threading
    import slowpkg
    assert not hasattr(builtins, "slowpkg_runs")  # (the import statement did not run it)
    seen = []
    def read():
        try:
            seen.append(slowpkg.VALUE)
        except Exception as error:
            seen.append(repr(error))
    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps([seen, len(builtins.slowpkg_runs), type(slowpkg).__name__]))
    """
    assert json.loads(_lazy(root, code)) == [[42] * 8, 1, "module"]


def test_a_module_that_fails_fails_where_it_is_used_and_leaves_no_module(tmp_path):
    root = _package(tmp_path, "raise ImportError('broken install')\n")
    code = """
    import json, sys
    import slowpkg
    try:
        slowpkg.VALUE
    except ImportError as error:
        first = str(error)
    try:
        import slowpkg as again
    except ImportError as error:
        second = str(error)
    print(json.dumps([first, second, "slowpkg" in sys.modules]))
    """
    assert json.loads(_lazy(root, code)) == ["broken install", "broken install", False]


def test_a_module_imported_already_or_not_installed_is_left_alone():
    code = (
        "import json, sys, re\n"
        "from rolegraph.cli.on_first_use import imported_on_first_use\n"
        "before = sys.modules['re']\n"
        "imported_on_first_use('re', 'no_such_module_here')\n"
        "print(json.dumps([sys.modules['re'] is before, 'no_such_module_here' in sys.modules]))"
    )
    assert json.loads(_python(code)) == [True, False]


# A tool's module, run by `rolegraph run` (its main() defers both modules): what it meets
# when imported, then a library that imports a submodule before its package (as outlines
# imports `interegular.fsm`) and the usual fallback to `re` (review of this pass: with the
# modules not run yet, the submodule was loaded twice and the fallback never taken).
_TOOL_AGENT = """
tool probe(x: str) -> str = "probe_tool:probe"

agent Probe(x: str) -> str {
  p = probe(x: x)
  return p
}
"""
_TOOL = """
import sys
MET = [type(sys.modules.get(n)).__name__ for n in ("regex", "interegular")]
from interegular.fsm import FSM, anything_else
import interegular
try:
    import regex as rx
except ImportError:
    import re as rx


def probe(x: str) -> str:
    fsm = interegular.parse_pattern(x).to_fsm()
    return f"{MET} {isinstance(fsm, FSM)} {anything_else in fsm.alphabet} {rx.__name__}"
"""


_RUN = (sys.executable, "-m", "rolegraph", "run")


def _run_probe(tmp_path: Path, *path: str) -> str:
    (tmp_path / "probe.agent").write_text(_TOOL_AGENT)
    (tmp_path / "probe_tool.py").write_text(_TOOL)
    done = subprocess.run(
        [*_RUN, "probe.agent", "-i", '{"x": "a."}', "--model", "mock", "-q", "--no-store"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_tool_s_module_meets_both_modules_run(tmp_path):
    assert _run_probe(tmp_path) == "['module', 'module'] True True regex"


def test_a_tool_falls_back_to_re_where_regex_is_installed_but_fails_to_run(tmp_path):
    broken = tmp_path / "broken" / "regex"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('its C extension does not load')\n")
    assert _run_probe(tmp_path, str(tmp_path / "broken")) == ("['NoneType', 'module'] True True re")


def test_the_runtime_s_modules_loaded_when_first_used_are_its_attributes():
    code = (
        "import json, rolegraph.runtime as rt\n"
        "from rolegraph.runtime import events, streaming\n"
        "print(json.dumps([rt.events is events, rt.streaming is streaming,\n"
        "    rt.RunEnded is events.RunEnded, rt.stream_agent is streaming.stream_agent,\n"
        "    {'events', 'streaming', 'stream_agent', 'RunEnded'} <= set(dir(rt))]))"
    )
    assert json.loads(_python(code)) == [True] * 5
