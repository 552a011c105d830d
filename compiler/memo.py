"""The incremental memo: checks reused by later checks of programs that share their parts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from itertools import compress
from operator import not_
from typing import Any
from weakref import WeakValueDictionary

from . import ast
from .checked import Callee, NodeInfo, Signature
from .diagnostics import Diagnostic
from .identity import IdentityTable
from .resolve import ModuleInfo, Program


@dataclass
class AgentSnapshot:
    """An agent's body as it last checked clean, for the check of the next edit of it: what
    each node declared (by the identity of its statement, and its node table), the ports
    each edge binds, and the ports bound on each node. Its node infos are that check's,
    carried over to the next checks while their callees stand for the same declarations
    (check_agents.py `carried`, `_shared`): a callee holds the symbol of the program that
    made it (not its module: resolve.py `Symbol`). Nodes unchanged since the snapshot
    before share its entries."""

    decl: ast.AgentDecl
    nodes: dict[int, NodeInfo] = field(default_factory=dict)  # id(NodeDecl) → as declared
    by_name: dict[str, NodeInfo] = field(default_factory=dict)
    edges: dict[int, tuple[ast.Node, Any]] = field(default_factory=dict)  # id → (edge, ports)
    port_bound: dict[str, list[frozenset[str]]] = field(default_factory=dict)
    statements: set[int] = field(default_factory=set)  # ids of every statement of the body
    # the node infos' callees, one for each name called, kind, name and signature (by its
    # identity: the callee holds it alive), the last made
    callees: dict[tuple[str, str, str, int], Callee] = field(default_factory=dict)
    # the check's node table (its `AgentInfo.nodes`, in body order), the names in it, and
    # every callee its nodes call (at least), by identity, with the name called
    table: dict[str, NodeInfo] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    used: dict[int, tuple[str, Callee]] = field(default_factory=dict)
    # what stands for each statement in the key of the agent's graph (check.py's
    # `_graph_shape`), by its id: a node's part of the key, any other statement itself;
    # `unshaped`: the nodes (as here) whose part is not made yet (then not in `shape`)
    shape: dict[int, Any] = field(default_factory=dict)
    unshaped: dict[int, NodeInfo] = field(default_factory=dict)
    environment: int = -1  # the number of the environment it is stored for (`store_agent`)
    # the parameters and the statements other than nodes new since the snapshot before
    # (all of them when there was none): what the graph's entry is kept for (`store_graph`)
    fresh: list[Any] = field(default_factory=list)


@dataclass
class Declared:
    """What the checks of programs of the same declarations (`declarations_key`) share,
    from one whose type check reported nothing: each module's environment (by number, in
    the program's order), the roles' signatures, and the callees met since that
    `same_callee` gives back as they are from the main module (by identity, with the name
    called; what it reads, the name's meaning and the signature, these declarations fix:
    check_agents.py `carried`)."""

    environments: list[int]
    signatures: dict[str, Signature]
    same: dict[int, tuple[str, Callee]] = field(default_factory=dict)


_REF, _FIRED = ast.Ref, ast.LtlFired


def _sources(module: ModuleInfo) -> list[ModuleInfo]:
    """The modules `module` imports names or namespaces from, and theirs, in the order
    first met (not `module` itself)."""
    found: dict[int, ModuleInfo] = {id(module): module}
    waiting = [module]
    while waiting:
        current = waiting.pop()
        for other in (
            *(symbol.module for symbol in current.imported.values()),
            *current.namespaces.values(),
        ):
            if id(other) not in found:
                found[id(other)] = other
                waiting.append(other)
    del found[id(module)]
    return list(found.values())


_AGENT = ast.AgentDecl


def declarations_key(program: Program) -> tuple[Any, ...]:
    """A program's declarations but its agents' bodies, by identity: the main module's
    declarations (each agent by its name), every other module's parsed file, with each
    module's key and file. Programs of the same key have the same modules, the same names
    of the same kinds and declarations, so each module the same environment
    (`CheckMemo.environment`), and each role the same declaration: an edit of an agent's
    body (an editor replaces that agent's declaration) leaves it as it was."""
    main = program.main
    return tuple(
        (
            module.key,
            module.filename,
            tuple(
                decl.name if type(decl) is _AGENT else id(decl)  # type: ignore[attr-defined]
                for decl in module.module.decls
            )
            if module is main
            else id(module.module),
        )
        for module in program.modules.values()
    )


def _declarations(program: Program) -> list[Any]:
    """The objects `declarations_key(program)` names by identity."""
    main = program.main
    return [
        *(decl for decl in main.module.decls if type(decl) is not _AGENT),
        *(module.module for module in program.modules.values() if module is not main),
    ]


class _Environment:
    """An environment of the memo (`CheckMemo.environment`), alive while every object its
    key names by identity is (the table of environments holds it for them): the entries
    made for it are kept for it (identity.py), and go with it."""

    __slots__ = ("__weakref__", "number")

    def __init__(self, number: int):
        self.number = number


class CheckMemo:
    """Checks reused by later checks of programs that share their parts.

    An editor checks many programs that differ from one another in a declaration or a
    statement. What the checker reads to judge a part is its key; a part whose key was
    seen before is not checked again:

    - a role whose declaration and environment (the declarations its module sees) are
      the same objects as in an earlier check: its diagnostics and signature replay;
    - the record types of a program whose modules all have the same environments as in
      an earlier check (every type and enum declaration, and what each name means, the
      same): their types and diagnostics replay (`records`); a model or an enum that is
      the same declaration: its diagnostics replay (its check reads nothing else);
    - an agent statement (a node, an edge, a return, a constraint) that is the same
      object, in the same environment, whose names mean the same (each node it reads
      gives the same type, each parameter has the same type) and, for a node, whose
      callee has the same signature and whose incoming ports are the same: when it
      checked clean before, it checks clean again (statements with errors are checked
      afresh, so their messages name what is there now).

    - an agent whose last clean check (`AgentSnapshot`, by qualified name and
      environment) had the same parameters and result: only the statements the edit
      touched are checked again — those that are new, and those that read a name whose
      meaning changed (a node added, removed, or with another output type) or call a
      callee whose signature changed; the others checked clean then and read nothing
      that changed since.

    - a program whose declarations, but its agents' bodies, are the same objects as those
      of a program that type-checked without a report (`declarations_key`: an edit of an
      agent replaces that agent's declaration alone): each module's environment, the
      roles' signatures and the checks of its roles, models and enums replay at once, and
      the callees an agent's last clean check called are known to be as they were
      (`Declared`).

    Keys hold identities. An entry goes when what it was made for goes (identity.py): a
    statement's with the statement; a model's or an enum's with its declaration; the
    others (roles, records, agents, graphs, `test` blocks) with their environment, which
    lives while the declarations and files its key names do (`environment`), and with
    the declarations, statements and blocks their own keys name. So the
    programs an editor lets go take their entries with them, while the candidates of a
    program alive share its entries (a program parsed again is all new objects: nothing
    of the last parse's entries can serve it). No identity is reused while an entry
    keyed by it lives. Environments are numbered once, so keys stay short.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        # each environment, by its key while the objects it names live, and by its number
        self._environments: IdentityTable[tuple[Any, ...], _Environment] = IdentityTable(size)
        self._numbered: WeakValueDictionary[int, _Environment] = WeakValueDictionary()
        self._numbers = itertools.count()
        # a role's check, by its declaration and environment (while they live)
        self.roles: IdentityTable[tuple[int, int], tuple[list[Diagnostic], Signature]] = (
            IdentityTable(size)
        )
        # the record types of a program, by each module's key and environment: each type
        # symbol's record (module by module, in declaration order), and the diagnostics
        self.records: IdentityTable[tuple[Any, ...], tuple[list[Any], list[Diagnostic]]] = (
            IdentityTable(size)
        )
        # a model's or an enum's diagnostics, by its declaration (while it lives) and file
        self.declarations: IdentityTable[tuple[int, str], list[Diagnostic]] = IdentityTable(size)
        self.statements: IdentityTable[tuple[Any, ...], tuple[Any, Any]] = IdentityTable(size * 8)
        self._heads: IdentityTable[int, tuple[str, ...]] = IdentityTable(size * 8)
        # the graph errors of agents, by the shape of their graph (check.py), while the
        # environment and the statements new to the agent then live (`store_graph`)
        self.graphs: IdentityTable[tuple[Any, ...], tuple[Any, list[Diagnostic]]] = IdentityTable(
            size
        )
        # each agent as it last checked clean, by (qualified name, environment)
        self.agents: IdentityTable[tuple[str, int], AgentSnapshot] = IdentityTable(size)
        # the `test` blocks of a module that checked clean, by what they read (check.py)
        self.tests: IdentityTable[tuple[Any, ...], bool] = IdentityTable(size)
        # what a check of the same declarations replays at once (check_decls.py `run`): each
        # module's environment, and the roles' signatures, by `declarations_key`
        self.declared: IdentityTable[tuple[Any, ...], Declared] = IdentityTable(size)

    def environment(self, module: ModuleInfo) -> int:
        """The number of a module's environment: its key and file, every name it sees
        with its kind, and the declarations of its types, enums, models and tools (by
        identity) — what a check may read besides the part it checks."""
        objects: list[Any] = []
        # (its key names its record types and qualifies its names: the same file is
        # `__main__` when checked alone, its path when imported)
        key: list[Any] = [module.key, module.filename]
        for name, symbol in module.visible().items():
            key += (name, symbol.kind)
            if symbol.kind not in ("role", "agent"):
                key.append(id(symbol.decl))
                objects.append(symbol.decl)
        for alias, info in module.namespaces.items():
            key += (alias, id(info.module))
        # the files it reads names from, directly or not, as parsed: a file changed on
        # disk is parsed anew, and each module that reads it sees another environment (a
        # role's signature names record types by name only; a record declared in one
        # file may name a type of another that changed while it did not)
        for source in _sources(module):
            key.append(id(source.module))
            objects.append(source.module)
        found = self._environments.get(tuple(key))
        if found is None:
            if len(self._environments) >= self.size:
                self.clear()
            found = _Environment(next(self._numbers))
            self._environments.keep(tuple(key), found, *objects)
            self._numbered[found.number] = found
        return found.number

    def heads(self, statement: ast.Node) -> tuple[str, ...]:
        """The names a statement reads: the heads of its references, the nodes its
        formulas name, an edge's source and target."""
        found = self._heads.get(id(statement))
        if found is None:
            names = set()
            for node in statement.walk():  # (one walk: what `ref_heads` and `find_all` find)
                kind = type(node)
                if kind is _REF or (kind is not _FIRED and isinstance(node, _REF)):
                    names.add(node.head)  # type: ignore[attr-defined]
                elif kind is _FIRED or isinstance(node, _FIRED):
                    names.add(node.node)  # type: ignore[attr-defined]
            if isinstance(statement, ast.EdgeDecl):
                names.add(statement.source)
                if isinstance(statement.target, ast.NodeTarget):
                    names.add(statement.target.node)
            found = self._heads.keep(id(statement), tuple(sorted(names)), statement)
        return found

    def _living(self, *numbers: int) -> list[_Environment] | None:
        """The environments numbered `numbers`, or None if one of them is gone (then an
        entry for them could never be met again)."""
        found = [self._numbered.get(number) for number in numbers]
        return None if None in found else found  # type: ignore[return-value]

    def store_role(
        self, key: tuple[int, int], decl: ast.Node, value: tuple[list[Diagnostic], Signature]
    ) -> None:
        """`value` for `key`: a role's declaration `decl` (by identity) and environment,
        while both live."""
        environments = self._living(key[1])
        if environments is not None:
            self.roles.keep(key, value, decl, *environments)

    def store_records(
        self, key: tuple[Any, ...], value: tuple[list[Any], list[Diagnostic]]
    ) -> None:
        """`value` for `key`: each module's key and environment."""
        environments = self._living(*(number for _, number in key))
        if environments is not None:
            self.records.keep(key, value, *environments)

    def store_declaration(
        self, key: tuple[int, str], decl: ast.Node, diagnostics: list[Diagnostic]
    ) -> None:
        """`diagnostics` for `key`: the identity of `decl` and its file, while `decl`
        lives."""
        self.declarations.keep(key, diagnostics, decl)

    def store_statement(
        self, key: tuple[Any, ...], statement: ast.Node, keep: Any, result: Any
    ) -> None:
        """`result` for `key`, while `statement` (named in it) lives; `keep`: the other
        objects it names, kept alive with the entry."""
        self.statements.keep(key, (keep, result), statement)

    def store_graph(
        self,
        shape: tuple[tuple[Any, ...], list[Any]],
        diagnostics: list[Diagnostic],
        snapshot: AgentSnapshot,
    ) -> None:
        """The errors of an agent's graph, for its shape (`check._graph_shape`: its key,
        and the objects it names by identity: parameters, statements, nodes' parts),
        while the environment of the agent's snapshot lives, and those of the named objects
        new since the snapshot before (`AgentSnapshot.fresh`: a candidate's own); the other
        objects it names are kept alive with it (those a parent shares, which its siblings
        may meet again)."""
        environments = self._living(snapshot.environment)
        if environments is not None:
            key, named = shape
            fresh = snapshot.fresh
            if fresh:
                new = set(map(id, fresh))
                held = list(compress(named, map(not_, map(new.__contains__, map(id, named)))))
            else:
                held = named
            errors = [d for d in diagnostics if d.is_error]
            self.graphs.keep(key, (held, errors), *fresh, *environments)

    def store_agent(self, key: tuple[str, int], snapshot: AgentSnapshot) -> None:
        """`snapshot` for `key`: the agent's qualified name and environment."""
        snapshot.environment = key[1]
        environments = self._living(key[1])
        if environments is not None:
            self.agents.keep(key, snapshot, *environments)

    def store_declared(self, key: tuple[Any, ...], value: Declared, program: Program) -> None:
        """`value` for `key` (`declarations_key(program)`), while its environments and the
        objects the key names live."""
        environments = self._living(*value.environments)
        if environments is not None:
            self.declared.keep(key, value, *_declarations(program), *environments)

    def store_tests(self, key: tuple[Any, ...], objects: list[Any]) -> None:
        """`test` blocks that checked clean, for `key` (`check._tests_key`: the main
        module's environment first), while it and the objects it names live."""
        environments = self._living(key[0])
        if environments is not None:
            self.tests.keep(key, True, *objects, *environments)

    def clear(self) -> None:
        """Forget everything (numbers are never reused, so no key can come back wrong)."""
        self._environments.clear()
        self._numbered.clear()
        self.roles.clear()
        self.records.clear()
        self.declarations.clear()
        self.statements.clear()
        self._heads.clear()
        self.graphs.clear()
        self.agents.clear()
        self.declared.clear()
        self.tests.clear()
