"""A check says the same thing in every process: its diagnostics (their order included)
and its verdicts do not follow Python's hash seed, which differs from one process to the
next (`PYTHONHASHSEED`). The oracle is the same check in processes of other seeds.

Found by a review: E0414's order followed the iteration of a frozenset of node names."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta")

# eight `x.error` reads, each not proven: eight E0414s, reported in the source's order
READS = (
    'tool f(value: int) -> int = "t:f"\n'
    'tool show(value: int, note: str) -> int = "t:show"\n'
    "agent A(task: str) -> int {\n"
    + "".join(f"  {name} = f(1)\n" for name in NAMES)
    + "".join(f"  r{i} = show({i}, {name}.error)\n" for i, name in enumerate(NAMES))
    + "  return r0\n}\n"
)

TOOLS = (
    "def f(value: int) -> int:\n    return value\n\n\n"
    "def show(value: int, note: str) -> int:\n    return value\n"
)

SCRIPT = """
import json, sys
import rolegraph
from rolegraph.compiler.diagnostics import DiagnosticError
said = {}
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    try:
        checked = rolegraph.check_source(text, path)
    except DiagnosticError as error:
        said[path] = [d.model_dump_json() for d in error.diagnostics]
        continue
    said[path] = [d.model_dump_json() for d in checked.diagnostics]
    said[path] += [repr(c) for c in checked.constraints]
print(json.dumps(said))
"""


def _said(seed: int, paths: list[str]) -> dict[str, list[str]]:
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *paths],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout)


def test_every_check_says_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    (tmp_path / "reads.agent").write_text(READS, encoding="utf-8")
    (tmp_path / "t.py").write_text(TOOLS, encoding="utf-8")
    paths = [str(tmp_path / "reads.agent")]
    paths += sorted(str(p) for p in (ROOT / "examples").glob("*.agent"))
    paths += sorted(str(p) for p in (ROOT / "stdlib").glob("*.agent"))
    first = _said(0, paths)
    reads = first[paths[0]]
    found = [json.loads(d) for d in reads]
    lines = [d["span"]["line"] for d in found if d["code"] == "E0414"]
    assert len(lines) == len(NAMES) and lines == sorted(lines)
    for seed in (1, 2, 3):
        assert _said(seed, paths) == first
