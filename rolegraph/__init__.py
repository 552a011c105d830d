"""rolegraph: a typed, declarative language for LLM agent systems, and its compiler.

    >>> import rolegraph
    >>> module = rolegraph.parse_file("examples/self_refine.agent")
    >>> print(rolegraph.to_source(module))          # canonical source
    >>> rolegraph.fingerprint(module)               # stable hash of the program

Parsing raises `DiagnosticError` (with every diagnostic in `.diagnostics`) on bad input.

The names below are imported on first use, so `import rolegraph` stays cheap for
programs (and the CLI) that need only part of it.

Longer than ~500 lines because it is the whole public API in one place, each name with
its docstring; it holds no logic of its own (each function calls into the packages).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

PYFRONT = ("model", "mcp", "role", "tool", "human", "agent", "named")
PYBODY = (
    "node", "replicate", "each", "pattern", "edge", "to", "to_return", "returns", "ensure",
    "enforce", "graph", "declared", "ref", "lit", "error", "not_", "and_", "or_", "in_",
    "not_in", "fn", "START", "RETURN", "next_", "wnext", "eventually", "always", "once",
    "historically", "yesterday", "implies", "until", "release", "since", "failed",
)  # fmt: skip

_LAZY = {
    "ast": ("rolegraph.compiler.ast", None),
    "Diagnostic": ("rolegraph.compiler.diagnostics", "Diagnostic"),
    "DiagnosticError": ("rolegraph.compiler.diagnostics", "DiagnosticError"),
    "Severity": ("rolegraph.compiler.diagnostics", "Severity"),
    "fingerprint": ("rolegraph.compiler.printer", "fingerprint"),
    "to_source": ("rolegraph.compiler.printer", "to_source"),
    "TrustPolicy": ("rolegraph.compiler.edits.trust", "TrustPolicy"),
    # human steps (docs/human.md)
    "Paused": ("rolegraph.runtime.human", "Paused"),
    "AnswerError": ("rolegraph.runtime.questions", "AnswerError"),
    "nonblocking": ("rolegraph.runtime.tools", "nonblocking"),  # docs/runtime.md, tools
    # the Python front end: what `rolegraph compile` writes (docs/python.md)
    **{name: ("rolegraph.compiler.pyfront", name) for name in PYFRONT},
    **{name: ("rolegraph.compiler.pybody", name) for name in PYBODY},
}

__all__ = [
    "RETURN",
    "START",
    "AnswerError",
    "Diagnostic",
    "DiagnosticError",
    "Paused",
    "Severity",
    "TrustPolicy",
    "__version__",
    "agent",
    "always",
    "and_",
    "answer",
    "ast",
    "compile_python",
    "declared",
    "each",
    "edge",
    "enforce",
    "ensure",
    "error",
    "eventually",
    "failed",
    "fingerprint",
    "fn",
    "format_source",
    "graph",
    "historically",
    "human",
    "implies",
    "in_",
    "langgraph",
    "lit",
    "mcp",
    "model",
    "named",
    "next_",
    "node",
    "nonblocking",
    "not_",
    "not_in",
    "once",
    "or_",
    "parse",
    "parse_file",
    "pattern",
    "pending",
    "program",
    "read_agent_file",
    "ref",
    "release",
    "replicate",
    "resume",
    "returns",
    "role",
    "since",
    "stream",
    "to",
    "to_return",
    "to_source",
    "tool",
    "until",
    "wnext",
    "yesterday",
]

if TYPE_CHECKING:
    from rolegraph.compiler import ast
    from rolegraph.compiler.diagnostics import Diagnostic, DiagnosticError, Severity
    from rolegraph.compiler.edits.trust import TrustPolicy
    from rolegraph.compiler.printer import fingerprint, to_source
    from rolegraph.compiler.pybody import (
        RETURN,
        START,
        always,
        and_,
        declared,
        each,
        edge,
        enforce,
        ensure,
        error,
        eventually,
        failed,
        fn,
        graph,
        historically,
        implies,
        in_,
        lit,
        next_,
        node,
        not_,
        not_in,
        once,
        or_,
        pattern,
        ref,
        release,
        replicate,
        returns,
        since,
        to,
        to_return,
        until,
        wnext,
        yesterday,
    )
    from rolegraph.compiler.pyfront import agent, human, mcp, model, named, role, tool
    from rolegraph.runtime.human import Paused
    from rolegraph.runtime.questions import AnswerError
    from rolegraph.runtime.tools import nonblocking


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'rolegraph' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def parse(text: str, filename: str = "<string>") -> ast.Module:
    """Parse `.agent` source into a `Module`; raise `DiagnosticError` listing every error."""
    from rolegraph.compiler.diagnostics import DiagnosticError
    from rolegraph.grammar import parse_module

    result = parse_module(text, filename)
    if result.module is None:
        raise DiagnosticError(result.diagnostics, result.source)
    return result.module


def parse_file(path: str | Path) -> ast.Module:
    path = Path(path)
    return parse(read_agent_file(path), filename=str(path))


def read_agent_file(path: str | Path) -> str:
    """The text of a `.agent` file; `DiagnosticError` (E0114, with its place) when the
    file is not UTF-8 text."""
    from rolegraph.compiler.diagnostics import DiagnosticError
    from rolegraph.compiler.source import Source
    from rolegraph.grammar.encoding import decode_source

    text, problem = decode_source(Path(path).read_bytes(), str(path))
    if problem is not None:
        raise DiagnosticError([problem], Source(str(path), text))
    return text


def format_source(text: str, filename: str = "<string>") -> str:
    """`rolegraph fmt` as a function: canonical layout, comments and blank lines kept."""
    from rolegraph.compiler.printer import to_source

    return to_source(parse(text, filename), trivia=True)


def check_source(text: str, filename: str = "<string>", *, root: str | Path | None = None):
    """Parse and check `.agent` source: every diagnostic of every stage.

    Returns a `CheckedModule` (or raises `DiagnosticError` on syntax errors). File imports
    must stay inside `root` (default: the directory of `filename`; docs/language.md).
    """
    from rolegraph.compiler.check import check_module
    from rolegraph.grammar.imports import parse_import

    module = parse(text, filename)
    return check_module(module, filename, parse_import, text, root=root)


def load_agent(
    source: str | Path,
    agent: str | None = None,
    *,
    text: str | None = None,
    root: str | Path | None = None,
):
    """Check a `.agent` file (or `text`) and return the IR of one agent (default: the last).

    Raises `DiagnosticError` when the file has errors. `root`: as for `check_source`.
    """
    from rolegraph.compiler.diagnostics import DiagnosticError
    from rolegraph.compiler.source import Source

    filename = str(source)
    if text is None:
        text = read_agent_file(source)
    checked = check_source(text, filename, root=root)
    if checked.errors:
        raise DiagnosticError(checked.errors, Source(filename, text))
    if not checked.irs:
        raise ValueError(f"{filename} declares no agent")
    if agent is None:
        return list(checked.irs.values())[-1]
    if agent not in checked.irs:
        raise ValueError(f"no agent {agent!r} in {filename}; agents: {', '.join(checked.irs)}")
    return checked.irs[agent]


async def arun(
    source: str | Path,
    inputs: dict | None = None,
    *,
    agent: str | None = None,
    model=None,
    text: str | None = None,
    root: str | Path | None = None,
    store: str | Path | None = None,
    **options: Any,
):
    """Run an agent of a `.agent` file: `await rolegraph.arun("x.agent", {"task": "..."})`.

    Returns a `RunResult` (`.result`, `.trace`). `model="mock"` runs offline. With a
    `store` (a SQLite file) the run is checkpointed, and a run that waits for answers
    from people raises `Paused` and can be continued with `resume` (docs/human.md).
    `options` are `run_agent`'s (`budget`, `answers`, `on_event`, ...).
    """
    from rolegraph.compiler.printer import fingerprint
    from rolegraph.runtime import Store, run_agent

    ir = load_agent(source, agent, text=text, root=root)
    if store is None:
        return await run_agent(ir, inputs or {}, model=model, **options)
    database = Store(store)
    try:
        stamp = None
        if text is None:
            stamp = (str(source), fingerprint(parse_file(source)))
        return await run_agent(
            ir, inputs or {}, model=model, store=database, source=stamp, **options
        )
    finally:
        database.close()


def run(
    source: str | Path,
    inputs: dict | None = None,
    *,
    agent: str | None = None,
    model=None,
    text: str | None = None,
    root: str | Path | None = None,
    store: str | Path | None = None,
    **options: Any,
):
    """`arun`, for code that is not async."""
    from rolegraph.runtime.sync import run_sync

    return run_sync(
        arun(
            source,
            inputs,
            agent=agent,
            model=model,
            text=text,
            root=root,
            store=store,
            **options,
        )
    )


DEFAULT_STORE = ".rolegraph/store.sqlite"


def pending(run_id: str | None = None, *, store: str | Path = DEFAULT_STORE) -> list:
    """The questions human steps asked that wait for answers (`Question`s: `.run`,
    `.id`, `.step`, `.text`, `.schema`, `.deadline`): of one run, or of every run of the
    store (docs/human.md)."""
    from rolegraph.runtime import Store, pending_questions

    database = Store(store)
    try:
        return pending_questions(database, run_id)
    finally:
        database.close()


def answer(
    run_id: str,
    value: Any,
    *,
    question: str | None = None,
    store: str | Path = DEFAULT_STORE,
):
    """Answer a question of a paused run without continuing it (another process may):
    `value` is validated against the step's type; an `AnswerError` (with `.code`) says
    why one is refused, and leaves the run as it was. `question` may be left out when
    the run waits for one answer. Returns the `Question`, answered."""
    from rolegraph.runtime import Store, answer_question

    database = Store(store)
    try:
        return answer_question(database, run_id, question, value)
    finally:
        database.close()


_UNSET: Any = object()


async def aresume(
    run_id: str,
    value: Any = _UNSET,
    *,
    question: str | None = None,
    store: str | Path = DEFAULT_STORE,
    model=None,
    **options: Any,
):
    """`resume`, for async code."""
    from rolegraph.compiler.printer import fingerprint
    from rolegraph.runtime import Store, answer_question, run_agent

    database = Store(store)
    try:
        info = database.run_info(run_id)
        if info is None:
            raise ValueError(f"no run {run_id!r} in {store}")
        if value is not _UNSET:
            answer_question(database, run_id, question, value)
        ir = load_agent(info.file, info.agent)
        source = (info.file, fingerprint(parse_file(info.file)))
        return await run_agent(
            ir, {}, model=model, store=database, resume=run_id, source=source, **options
        )
    finally:
        database.close()


def resume(
    run_id: str,
    value: Any = _UNSET,
    *,
    question: str | None = None,
    store: str | Path = DEFAULT_STORE,
    model=None,
    **options: Any,
):
    """Continue a paused (or killed) run of `store`, after answering its question with
    `value` when one is given (validated first: a bad answer raises `AnswerError` and
    the run stays paused). Completed firings are replayed, so no model call is made
    again. Returns a `RunResult`; raises `Paused` (with `.questions`) when the run
    waits for more answers, or the run's `RunError`.

        try:
            outcome = rolegraph.run("refund.agent", {...}, store=".rolegraph/store.sqlite")
        except rolegraph.runtime.Paused as paused:
            rolegraph.resume(paused.run_id, {"approved": True, "note": "ok"})
    """
    from rolegraph.runtime.sync import run_sync

    return run_sync(aresume(run_id, value, question=question, store=store, model=model, **options))


async def stream(
    source: Any,
    inputs: dict | None = None,
    *,
    agent: str | None = None,
    model=None,
    text: str | None = None,
    root: str | Path | None = None,
    **options: Any,
) -> AsyncIterator[Any]:
    """The events of a run, as they happen (docs/streaming.md):

        async for event in rolegraph.stream("x.agent", {"task": "..."}, model="mock"):
            print(event.kind, event.to_json())

    `source` is a `.agent` file (with `agent`, `text`, `root` as for `arun`) or an
    agent's IR (`load_agent`). `options` are `run_agent`'s (`params`, `budget`, `store`,
    ...). Firings are told as they start and end, model replies as their text arrives;
    the last event is the `result` (with the trace) or the run's `error`."""
    from rolegraph.runtime import stream_agent

    ir = (
        load_agent(source, agent, text=text, root=root)
        if isinstance(source, str | Path)
        else source
    )
    async for event in stream_agent(ir, inputs or {}, model=model, **options):
        yield event


def editor(
    filename: str = "<edited>",
    *,
    trust: TrustPolicy | None = None,
    root: str | Path | None = None,
    session: Any = None,
):
    """An `Editor` whose edits are validated by the full checker (imports resolved
    relative to `filename`, inside `root`). See `rolegraph.compiler.edits`. Candidates
    are checked incrementally (`rolegraph.compiler.incremental`): pass `session` (a
    `CheckSession`) to share what is learnt with other checks of the same programs.

    No edit may bring in a tool target, an import or a model endpoint that the edited
    program does not have, unless `trust` allows it:
    `rolegraph.editor("x.agent", trust=rolegraph.TrustPolicy(tools={"mypkg.tools:*"}))`."""
    from rolegraph.compiler.check import refused_before_checking
    from rolegraph.compiler.edits import Editor
    from rolegraph.compiler.edits.trust import NOTHING_NEW
    from rolegraph.compiler.incremental import CheckSession

    # one session: each candidate is checked incrementally against those checked before
    if session is None:
        session = CheckSession(filename, root=root)

    def check(module: ast.Module) -> list:
        return session.check(module, errors_only=True).diagnostics

    return Editor(check, NOTHING_NEW if trust is None else trust, refuses=refused_before_checking)


def program(*members: Any, filename: str = "<python>"):
    """A program declared in Python (models, records, enums, roles, tools, agents, in
    declaration order): checked by the compiler on first use, run by the runtime.

    `await SomeAgent(x=..., model="mock")` runs an agent of it; see docs/python.md."""
    from rolegraph.compiler.pyfront import Program

    async def runner(ir, inputs, **options):
        from rolegraph.runtime import run_agent

        return await run_agent(ir, inputs, **options)

    return Program(members, runner, filename)


def compile_python(
    source: str | Path,
    *,
    text: str | None = None,
    langgraph: bool = False,
    root: str | Path | None = None,
) -> str:
    """The Python module of a `.agent` file (what `rolegraph compile` writes).

    Raises `DiagnosticError` when the file has errors."""
    from rolegraph.compiler.diagnostics import DiagnosticError
    from rolegraph.compiler.pycodegen import compile_to_python
    from rolegraph.compiler.source import Source

    filename = str(source)
    if text is None:
        text = read_agent_file(source)
    checked = check_source(text, filename, root=root)
    if checked.errors:
        raise DiagnosticError(checked.errors, Source(filename, text))
    if langgraph:  # a LangGraph program, standalone (compiler/langgraph_codegen.py)
        from rolegraph.compiler.langgraph_codegen import compile_to_langgraph

        return compile_to_langgraph(checked.irs, Path(filename).name, __version__)
    return compile_to_python(checked.program, Path(filename).name, __version__)


def langgraph(source: Any, agent: str | None = None, *, model: Any = "mock"):
    """An agent as a compiled LangGraph graph (needs the `langgraph` extra).

    `source` is a `.agent` path or a program declared in Python (`rolegraph.program`).
    Invoke it with `{"params": inputs}`; the final state's `result` is the agent's."""
    from rolegraph.runtime.langgraph_export import to_langgraph

    if hasattr(source, "ir") and hasattr(source, "check"):  # a Python program
        irs = source.check().irs
        ir = irs[agent] if agent is not None else list(irs.values())[-1]
    else:
        ir = load_agent(source, agent)
    return to_langgraph(ir, model=model)
