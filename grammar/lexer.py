"""The lexer and the Lark parser: the grammar loaded (its LALR tables cached on disk by
Lark, its lexer's compiled patterns by grammar/patterns.py), and the lexer patched to read
a keyword as a name where only a name fits. Comments go to a per-thread sink as they are
lexed, for grammar/comments.py to attach."""

from __future__ import annotations

import gc
import importlib
import os
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token
from lark.lexer import ContextualLexer
from lark.parsers.lalr_analysis import Reduce, Shift

from rolegraph.compiler import ast

from .patterns import PatternCache, cache_file

GRAMMAR_PATH = Path(__file__).with_name("rolegraph.lark")


@cache
def grammar_parser() -> Lark:
    """The Lark parser, built once per process: loaded whole from the last process's
    pickle when there is one (a third of the time of Lark's own cache), else from Lark's
    cache of its tables, else from the grammar."""
    built = _built_path()
    # the parser makes nodes of most classes: build them in order (their schemas kept
    # beside the parser)
    ast.build_validators(keep=os.path.dirname(built) if built else None)
    parser = _load_built(built) if built else None
    if parser is None:
        parser = _build()
        if built:
            _save_built(parser, built)
    return parser


def _build() -> Lark:
    parser = Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _collect_comment},
        cache=_cache_path(),
    )
    lexer = parser.parser.lexer
    assert isinstance(lexer, ContextualLexer)
    lexer.__class__ = _KeywordAwareLexer
    # the lexers' patterns compile on first use: from the codes a former process kept
    for state_lexer in (lexer.root_lexer, *lexer.lexers.values()):
        state_lexer.re = pattern_cache()  # type: ignore[attr-defined]
    return parser


# The built parser, pickled whole. Lark's cache keeps its tables in a serialized form
# that it turns back into objects in Python (~30 ms); a pickle of the objects themselves
# loads in C. What cannot be pickled or is compared by identity (the `re` module and the
# pattern cache that stands in for it, the parse table's two actions) is written as a
# reference and put back on loading. The file is keyed like Lark's (grammar hash, Lark's
# version), and by the interpreter and this module's size and date, since the pickle
# names its classes and functions; whatever goes wrong falls back to Lark.


def _built_path() -> str | None:
    lark_cache = _cache_path()
    if not isinstance(lark_cache, str):
        return None
    import sys

    # (`_cache_path`: a folder only this user may write to)
    here = Path(__file__).stat()
    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return f"{lark_cache}.{version}-{here.st_size}-{here.st_mtime_ns}.parser.pickle"


def _load_built(path: str) -> Lark | None:
    import pickle

    from rolegraph.compiler.cache_files import open_kept

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            kind, name = pid
            if kind == "module" and name in ("re", "regex"):
                return importlib.import_module(name)
            if kind == "patterns":
                return pattern_cache()
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")

    try:
        with open_kept(path) as file:
            collecting = gc.isenabled()
            gc.disable()  # (thousands of new objects, no cycles: collections would double it)
            try:
                parser = Unpickler(file).load()
            finally:
                if collecting:
                    gc.enable()
    except Exception:  # missing, damaged, or from other code: build it again
        return None
    if not isinstance(parser, Lark) or not isinstance(parser.parser.lexer, _KeywordAwareLexer):
        return None
    return parser


def _save_built(parser: Lark, path: str) -> None:
    import pickle
    import types

    from rolegraph.compiler.cache_files import write_atomically

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            if isinstance(obj, types.ModuleType):
                return ("module", obj.__name__)
            if isinstance(obj, PatternCache):
                return ("patterns", "")
            return None

        def reducer_override(self, obj: Any) -> Any:
            if obj is Shift or obj is Reduce:  # by name: loaded as the same object
                return str(obj)
            return NotImplemented

    write_atomically(
        path, lambda file: Pickler(file, protocol=pickle.HIGHEST_PROTOCOL).dump(parser)
    )


@cache
def pattern_cache() -> PatternCache:
    """The lexers' compiled patterns, kept across processes beside Lark's cache."""
    return PatternCache(cache_file(_cache_path()))


class _KeywordAwareLexer(ContextualLexer):
    """Reads a keyword as a name where only a name fits.

    Record fields and enum members may be keywords (`type Job { type: str }`). Lark's
    contextual lexer chooses terminals by the LALR state, whose lookaheads merge every
    context the state serves, so after `x: str` it would read `agent` as the keyword.
    Here a keyword token that the real parser stack cannot shift, where a field name
    (or, for a temporal letter like `F`, a plain name) can, is retyped.
    """

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Token]:
        for token in super().lex(lexer_state, parser_state):
            if token.type in _RETYPABLE:
                token = _retype(token, parser_state)
            yield token


_RETYPABLE = frozenset(
    {word.upper() for word in ast.KEYWORDS | ast.TEST_KEYWORDS | ast.DECL_KEYWORDS}
    | {"LTL_UNARY", "LTL_BINARY", "CONSTRAINT_MODE"}
)


def _retype(token: Token, parser_state: Any) -> Token:
    states = parser_state.parse_conf.parse_table.states
    stack = parser_state.state_stack
    if _can_shift(states, stack, token.type):
        return token
    text = str(token)
    alternative = "KEYWORD_AS_FIELD" if text in ast.KEYWORDS else "NAME"
    if _can_shift(states, stack, alternative):
        return Token.new_borrow_pos(alternative, text, token)
    return token


def _can_shift(states: dict, state_stack: list, terminal: str) -> bool:
    """Whether `terminal` is shifted next from this exact stack (reductions simulated).

    The real stack is not copied (it is as deep as the input nests): reductions pop a
    view of it, and the states they push go on a small stack of their own.
    """
    depth = len(state_stack)  # entries of the real stack still in the simulated one
    pushed: list[Any] = []

    def top() -> Any:
        return pushed[-1] if pushed else state_stack[depth - 1]

    while True:
        action = states[top()].get(terminal)
        if action is None:
            return False
        kind, argument = action
        if kind is Shift:
            return True
        size = len(argument.expansion)
        popped_own = min(size, len(pushed))
        if popped_own:
            del pushed[-popped_own:]
        depth -= size - popped_own
        _, goto = states[top()][argument.origin.name]
        pushed.append(goto)


@cache
def _cache_path() -> str | bool:
    # Building the LALR tables takes ~100 ms; Lark can cache them. Use a per-user
    # cache file keyed by the grammar's hash and Lark's version, or skip caching.
    import hashlib

    import lark

    from rolegraph.compiler.cache_files import cache_folder

    folder = cache_folder()
    if folder is None:
        return False
    digest = hashlib.sha256(GRAMMAR_PATH.read_bytes()).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}-lark{lark.__version__}.cache")


#: The comments this thread's parse has lexed, in order (None outside a parse).
comment_sink = threading.local()


def _collect_comment(token: Token) -> Token:
    sink = getattr(comment_sink, "tokens", None)
    if sink is not None:
        sink.append(token)
    return token
