"""Two pieces of a search's compiler work, each with its memo and without, in one process
(issue 15 item 7; results in bench/RESULTS.md, section `search-s5b`):

- printing edited programs: 54 programs each made from examples/self_refine.agent by a
  seeded random site, printed after their parent (as a search fingerprints them), with
  the printer's statement memo (`Printer._piece`) and without it (the declaration memo
  in both);
- parsing the examples: the transformer's rule methods looked up once per parse
  (`ToAst._call_userfunc`) and Lark's look-up on every tree.

    python bench/bench_search_pieces.py --rounds 30

The two ways alternate within each round; CPU medians with ranges and the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lark.visitors import Transformer

import rolegraph
import rolegraph.grammar.parser as parser
from rolegraph.compiler import ast, printer
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.grammar import parse_module
from rolegraph.grammar.to_ast import ToAst

ROOT = Path(__file__).resolve().parent.parent


def edited_programs(count: int = 54) -> tuple[ast.Module, list[ast.Module]]:
    module = rolegraph.parse_file(ROOT / "examples" / "self_refine.agent")
    rng = random.Random(0)
    children: list[ast.Module] = []
    while len(children) < count:
        sites = [site for op in OPERATORS for site in op.sites(module)]
        with contextlib.suppress(EditError, ValueError):
            children.append(rng.choice(sites).apply(module))
    return module, children


def printing(on: bool, parent: ast.Module, children: list[ast.Module]) -> float:
    remembered = printer.Printer._piece

    def plain(self: Any, node: Any, depth: int, *, blank: bool, annotation_column: Any = None):
        return self._new_piece(node, depth, blank, annotation_column)

    printer.Printer._piece = remembered if on else plain  # type: ignore[method-assign]
    try:
        printer._PRINTED.clear()
        printer._PIECES.clear()
        rolegraph.to_source(parent)  # (the parent printed, as in a search)
        start = time.process_time()
        for child in children:
            rolegraph.to_source(child)
        return time.process_time() - start
    finally:
        printer.Printer._piece = remembered  # type: ignore[method-assign]


class _LarkLookUp(ToAst):
    _call_userfunc = Transformer._call_userfunc


def parsing(on: bool, texts: list[str]) -> float:
    parser.ToAst = ToAst if on else _LarkLookUp  # type: ignore[misc]
    try:
        start = time.process_time()
        for text in texts:
            parse_module(text, "bench.agent")
        return time.process_time() - start
    finally:
        parser.ToAst = ToAst  # type: ignore[misc]


def row(name: str, measure: Callable[[bool], float], rounds: int, scale: float, unit: str) -> str:
    measure(True), measure(False)  # (warm-up)
    without, with_ = [], []
    for _ in range(rounds):
        without.append(measure(False) * scale)
        with_.append(measure(True) * scale)

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"

    ratio = statistics.median(with_) / statistics.median(without)
    return f"| {name}, {unit} | {cell(without)} | {cell(with_)} | {ratio:.2f}x |"


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--rounds", type=int, default=30)
    rounds = options.parse_args().rounds
    parent, children = edited_programs()
    texts = [path.read_text() for path in sorted((ROOT / "examples").glob("*.agent"))]
    print("| piece | without the memo: CPU (range) | with it | ratio |")
    print("|---|---|---|---|")
    print(
        row(
            f"printing {len(children)} edited programs",
            lambda on: printing(on, parent, children),
            rounds,
            1e3,
            "ms",
        )
    )
    print(
        row(
            f"parsing an example (mean of the {len(texts)})",
            lambda on: parsing(on, texts),
            rounds,
            1e3 / len(texts),
            "ms",
        )
    )


if __name__ == "__main__":
    main()
