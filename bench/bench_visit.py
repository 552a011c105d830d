"""Tree walks: the CPU time of walking and rebuilding the ASTs of `examples/*.agent` and
of a generated file of ~2,000 nodes (`large_program(40, 205)`), with the walks of
`compiler/ast.py` (`find_all`, `transform`) and, where the tree has them, `compiler/visit.py`'s
Visitor and Transformer.

    python bench/bench_visit.py                        # this checkout
    python bench/bench_visit.py --baseline /tmp/base   # against another tree, A/B

`--baseline` names a folder that holds a `rolegraph` package laid out as installed (as
for bench/bench_startup.py). Each tree runs in its own process; each figure is the best
of `--repeat` rounds of `--loops` walks (CPU time per walk).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import large_program

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, os, sys, time
from pathlib import Path
if os.environ.get("BENCH_TREE"):  # the editable install's finder would win over sys.path
    sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__]
    sys.path.insert(0, os.environ["BENCH_TREE"])
from rolegraph.grammar import parse_module
from rolegraph.compiler import ast

texts = json.loads(Path(sys.argv[1]).read_text())
loops, repeat = int(sys.argv[2]), int(sys.argv[3])
trees = {}
for name, text in texts.items():
    result = parse_module(text)
    assert result.module is not None, name
    trees[name] = result.module

def best(fn, module):
    times = []
    for _ in range(repeat):
        began = time.process_time()
        for _ in range(loops):
            fn(module)
        times.append((time.process_time() - began) / loops)
    return min(times)

walks = {
    "find_all(Ref) heads": lambda m: [r.head for r in m.find_all(ast.Ref)],
    "walk() every node": lambda m: sum(1 for _ in m.walk()),
}
import rolegraph.compiler
if not (Path(rolegraph.compiler.__file__).parent / "visit.py").exists():  # before visit.py
    walks["transform, identity"] = lambda m: m.transform(lambda n: None)
else:
    from rolegraph.compiler.visit import Transformer, Visitor

    class Heads(Visitor):
        def __init__(self):
            self.heads = []
        def visit_Ref(self, node):
            self.heads.append(node.head)

    class Rename(Transformer):
        def leave_Ref(self, original, updated):
            return updated.with_changes(parts=("x_" + updated.parts[0], *updated.parts[1:]))

    walks["transform, identity"] = lambda m: m.transform(lambda o, n: None)
    walks["Visitor: Ref heads"] = lambda m: Heads().visit(m)
    walks["Transformer: identity"] = lambda m: Transformer().transform(m)
    walks["Transformer: rename every Ref"] = lambda m: Rename().transform(m)

if "transform, rename every Ref" not in walks:
    def rename(*nodes):
        node = nodes[-1]
        if isinstance(node, ast.Ref):
            return node.with_changes(parts=("x_" + node.parts[0], *node.parts[1:]))
        return None
    walks["transform, rename every Ref"] = lambda m: m.transform(rename)

tree = os.environ.get("BENCH_TREE")
assert not tree or rolegraph.compiler.__file__.startswith(tree)
out = {}
for name, module in trees.items():
    nodes = sum(1 for _ in module.walk())
    out[name] = {"nodes": nodes, **{w: best(fn, module) for w, fn in walks.items()}}
print(json.dumps(out))
"""


def measure(tree: Path | None, texts: dict[str, str], loops: int, repeat: int) -> dict:
    env = dict(os.environ)
    if tree is not None:
        env["BENCH_TREE"] = str(tree.resolve())
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(texts, file)
        file.flush()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, file.name, str(loops), str(repeat)],
            env=env,
            capture_output=True,
            text=True,
        )
    if done.returncode:
        sys.exit(done.stderr)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    examples = sorted((ROOT / "examples").glob("*.agent"))
    texts = {f"examples/{p.name}": p.read_text() for p in examples}
    texts["generated"] = large_program(40, 205)
    trees: dict[str, Path | None] = {"this tree": None}
    if args.baseline is not None:
        trees["baseline"] = args.baseline
    results = {name: measure(path, texts, args.loops, args.repeat) for name, path in trees.items()}
    for tree, per_file in results.items():
        generated = next(v for k, v in per_file.items() if k.startswith("generated"))
        examples_ = [v for k, v in per_file.items() if k.startswith("examples/")]
        print(f"## {tree}")
        nodes = sum(e["nodes"] for e in examples_)
        print(f"| walk | examples ({nodes} nodes) | generated ({generated['nodes']} nodes) |")
        print("|---|---|---|")
        for walk in generated:
            if walk == "nodes":
                continue
            total = sum(e[walk] for e in examples_)
            print(f"| {walk} | {total * 1e3:.2f} ms | {generated[walk] * 1e3:.2f} ms |")


if __name__ == "__main__":
    main()
