"""The type checker's agent bodies: nodes, arguments, ports, edges, guards, returns and
constraints.

Every node is declared first (edges and arguments may refer to later nodes), then each
statement is checked. With the memo (memo.py), a statement that checked clean before in
the same context is not checked again, and an agent edited since its last clean check
has only the statements the edit touched checked again (`previous_check`, `touched`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from operator import attrgetter, is_
from typing import Any, TypeVar

from . import ast, codes, ltl
from .check_decls import DeclChecker
from .check_patterns import check_bound_names, check_ct_args
from .checked import AgentInfo, Callee, NodeInfo, Signature
from .dataflow import error_reads
from .diagnostics import Label
from .memo import AgentSnapshot
from .resolve import ModuleInfo, Symbol, did_you_mean
from .scope import Scope, bool_hint, has_error_field
from .types import ANY, BOOL, AnyType, ListT, Type, assignable, strip_optional

T = TypeVar("T")


class AgentChecker(DeclChecker):
    """The whole type checker: declarations (`DeclChecker`) and agent bodies."""

    # -- agents -------------------------------------------------------------------------------

    def check_agent(self, symbol: Symbol) -> None:
        decl = symbol.decl
        assert isinstance(decl, ast.AgentDecl)
        module = symbol.module
        start = len(self.diagnostics)
        previous = self.previous_check(symbol)
        info = AgentInfo(
            symbol,
            decl,
            {n: t for n, t, _ in self.params_of(module, decl.params)},
            self.resolve_type(module, decl.returns),
            module=module,
        )
        self.agents[symbol.qualified] = info
        for ct in decl.ct_params:
            info.ct_params[ct.name] = ct
            if isinstance(ct.type, ast.RoleSig):
                if ct.type.params is not None:
                    self.params_of(module, ct.type.params)
                    self.resolve_type(module, ct.type.returns)  # type: ignore[arg-type]
            else:
                self.resolve_type(module, ct.type)
        body = decl.body
        nodes = [s for s in body if type(s) is _NODE]  # (see `_partition`)
        # the ids of the body's statements; those new since the last clean check
        positions = list(map(id, body))
        ids: set[int] = set(positions)
        added: set[int] = set()
        fresh: list[ast.Node] = []  # (those, in body order)
        if previous is None:
            check_bound_names(self, module, decl)
        else:  # (the statements the last clean check saw, with the same constants, passed)
            added = ids - previous.statements
            if added:
                fresh = _in_body_order(body, positions, added, len(ids) == len(positions))
                check_bound_names(self, module, decl, fresh)
        scope = Scope(self, module, info)
        declared_nodes = info.nodes
        before_nodes = previous.nodes if previous is not None else {}
        # Declare every node first: edges and arguments may refer to later nodes. The nodes
        # whose callee and output are known to be as before (`same_callee`): `same`.
        names = list(map(_NAME, nodes))
        self._made = {}
        if previous is not None and self.carried(module, previous, names):
            same = self.carry_nodes(module, info, fresh, names, previous)
        elif (
            previous is not None
            and len(set(names)) == len(names)
            and info.params.keys().isdisjoint(names)
        ):
            same = self.declare_kept(module, info, nodes, names, previous)
        else:
            same = self.declare_nodes(module, info, nodes, previous)
        touched = self.touched(info, previous, same) if previous is not None else None
        # the nodes some edge now binds other ports of than at the last clean check
        rebound: set[str] = set()
        if previous is not None and not touched:  # (only the statements added are checked)
            _, edges, others = _partition(fresh)
            port_bound = self.rebind_edges(info, scope, previous, ids, edges, rebound)
        else:
            _, edges, others = _partition(body)
            port_bound = self.edge_bindings(module, info, scope, previous, touched, edges, rebound)
        if previous is not None and touched:
            for gone in previous.statements - ids:  # (edges removed since)
                found = previous.edges.get(gone)
                gone_edge = found[0] if found is not None else None
                if isinstance(gone_edge, ast.EdgeDecl) and isinstance(
                    gone_edge.target, ast.NodeTarget
                ):
                    rebound.add(gone_edge.target.node)
        changed: list[NodeInfo] = []  # nodes whose snapshot entry is not the last one's
        heads = self.heads if self.memo is None else self.memo.heads
        unread = previous is not None and not touched  # (no statement reads a change)
        # (when none does: the nodes declared afresh, and those some edge binds otherwise,
        # in body order; the others are as the last clean check saw them, entry and all)
        for node in _to_check(nodes, declared_nodes, same, rebound) if unread else nodes:
            name = node.name
            declared = declared_nodes.get(name, None)
            if declared is None or declared.decl is not node:
                continue
            if previous is not None and touched is not None:
                if name in same:  # (never touched itself: its output is as before)
                    if name not in rebound and (not touched or touched.isdisjoint(heads(node))):
                        continue  # as the last clean check saw it, snapshot entry and all
                    # (a node info carried over is the last check's: made anew to bind)
                    declared = NodeInfo(node, declared.callee, declared.output)
                    declared_nodes[name] = declared
                else:
                    before = before_nodes.get(id(node))
                    if (
                        before is not None
                        and name not in touched
                        and (not touched or touched.isdisjoint(heads(node)))
                        and port_bound.get(name) == previous.port_bound.get(name)
                    ):
                        declared.bound.update(before.bound)
                        changed.append(declared)
                        continue
            changed.append(declared)
            self.check_node(module, info, scope, declared, port_bound)
        for statement in others:
            if (
                touched is not None
                and id(statement) not in added
                and (not touched or touched.isdisjoint(heads(statement)))
            ):
                continue  # checked clean before, and reads nothing that changed
            if isinstance(statement, ast.ReturnStmt):
                check = partial(self.check_return, module, info, scope, statement)
                self.remembered(info, statement, info.returns, check)
            else:
                assert isinstance(statement, ast.Constraint)
                check = partial(self.check_constraint, module, info, scope, statement)
                self.remembered(info, statement, None, check)
        if self.memo is not None and len(self.diagnostics) == start:
            if previous is None:
                changed = list(declared_nodes.values())
            self.remember_agent(info, port_bound, ids, previous, changed, fresh, names)

    def carried(self, module: ModuleInfo, previous: AgentSnapshot, names: list[str]) -> bool:
        """Whether the last clean check's node table (`previous.table`) carries over: the
        same node names in the same order (`names`), and every callee its nodes call is
        this program's (`same_callee` gives it back: the same declaration, kind, name and
        signature, declared in the agent's module, whose names mean the same here; never
        an agent with compile-time parameters, the one callee a node's compile-time
        arguments are checked against). Each callee so found is remembered for the
        program's declarations (`Declared.same`), and not looked up again with them."""
        if names != previous.names:
            return False
        same = self._same if module is self.program.main else None
        if same is not None and previous.used.items() <= same.items():
            return True  # (each met before with these declarations)
        for key, (role, was) in previous.used.items():
            if self.same_callee(module, role, was) is not was:
                return False
            if same is not None:
                same[key] = (role, was)
        return True

    def carry_nodes(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        fresh: list[ast.Node],
        names: list[str],
        previous: AgentSnapshot,
    ) -> set[str]:
        """`declare_nodes` from the last clean check's node table, which carries over
        (`carried`): each node statement new since (in `fresh`, the statements added, in
        body order) has the name of one gone, at its place, and is declared afresh; the
        others are the same statements, declared as then (their node infos shared)."""
        table = info.nodes
        table.update(previous.table)  # (in body order; a value replaced keeps its place)
        afresh = [s for s in fresh if type(s) is _NODE]
        for node in afresh:
            table[node.name] = self.declared(module, info, node, previous)  # type: ignore[union-attr,arg-type]
        return set(names).difference(map(_NAME, afresh))

    def declare_nodes(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        nodes: list[ast.NodeDecl],
        previous: AgentSnapshot | None,
    ) -> set[str]:
        """Declare the agent's nodes in body order (`info.nodes`), each declared by the same
        statement at its last clean check (`previous`) as then where its callee has the
        same signature (`same_callee`); returns the names of those."""
        declared_nodes = info.nodes
        same: set[str] = set()
        # (a callee as before, by the callee then, looked up once: the snapshot's callees
        # are alive, and one for each name called, kind, name and signature)
        callees: dict[int, Callee | None] = {}
        before_nodes = previous.nodes if previous is not None else {}
        params = info.params
        for node in nodes:
            name = node.name
            before = before_nodes.get(id(node))
            if (
                before is not None
                and name not in declared_nodes
                and not node.ct_args
                and name not in params
            ):
                kept = self.kept_node(module, node, before, callees)
                if kept is not None:
                    declared_nodes[name] = kept
                    same.add(name)
                    continue
            self.declare_node(module, info, node, previous)
        return same

    def declare_kept(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        nodes: list[ast.NodeDecl],
        names: list[str],
        previous: AgentSnapshot,
    ) -> set[str]:
        """`declare_nodes` of nodes whose `names` are distinct, none a parameter's: no node
        is a duplicate, so those declared as before (which report nothing) are made first,
        then the others in body order (what reports), and all are put in in body order."""
        callees: dict[int, Callee | None] = {}
        made: list[NodeInfo | None] = []
        afresh: list[int] = []  # (the positions of the others)
        befores = map(previous.nodes.get, map(id, nodes))
        for index, (node, before) in enumerate(zip(nodes, befores, strict=True)):
            if before is not None and not node.ct_args:
                kept = self.kept_node(module, node, before, callees)
                if kept is not None:
                    made.append(kept)
                    continue
            made.append(None)
            afresh.append(index)
        for index in afresh:
            made[index] = self.declared(module, info, nodes[index], previous)
        info.nodes.update(zip(names, made, strict=True))  # type: ignore[arg-type]
        return set(names).difference([names[index] for index in afresh])

    def kept_node(
        self,
        module: ModuleInfo,
        node: ast.NodeDecl,
        before: NodeInfo,
        callees: dict[int, Callee | None],
    ) -> NodeInfo | None:
        """The node declared by the same statement as at the last clean check (`before`),
        as then, where what it calls still has the same signature (`same_callee`, asked
        once per callee then: `callees`); None: declare it afresh. Where the callee is
        the one then (`_shared`), that is the last check's node info itself, as
        `carry_nodes` shares those it carries over (a node bound again is given a new one,
        `check_agent`); else a new one of the same output and bound arguments (`x N` and
        maps are the statement's; the bound arguments shared with the snapshot: replaced,
        never changed)."""
        was = before.callee
        callee = callees.get(id(was), _MISSING)
        if callee is _MISSING:
            callee = callees[id(was)] = self.same_callee(module, node.role, was)
            if callee is not None:
                self._made[id(callee)] = (node.role, callee)
        if callee is None:
            return None
        if callee is before.callee:
            return before
        return NodeInfo(node, callee, before.output, before.bound)

    def declare_node(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        node: ast.NodeDecl,
        previous: AgentSnapshot | None = None,
    ) -> None:
        """Declare a node afresh, or report it declared twice."""
        name = node.name
        if name in info.nodes or name in info.params:
            first = info.nodes.get(name)
            self.report(
                module,
                codes.DUPLICATE_NAME,
                f"`{name}` is declared twice in agent `{info.decl.name}`",
                node.span,
                "declared again here",
                labels=(Label(span=first.decl.span, message="first declared here"),)
                if first and first.decl.span
                else (),
            )
            return
        info.nodes[name] = self.declared(module, info, node, previous)

    def declared(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        node: ast.NodeDecl,
        previous: AgentSnapshot | None = None,
    ) -> NodeInfo:
        """A node as declared afresh: its callee looked up, its output. (One callee for each
        name called, kind, name, signature and declaration: the one this check made, else
        the last clean check's (`previous`) where it is shared, see `_shared`.)"""
        callee = self.callee(module, info, node)
        if callee.symbol is not None:
            key = (node.role, callee.kind, callee.name, id(callee.signature))
            was = self._callees.get(key)
            if was is None and previous is not None:
                was = previous.callees.get(key)
            if was is not None and _shared(was, callee.symbol, module):
                callee = was
            self._callees[key] = callee
            self._made[id(callee)] = (node.role, callee)
        output = callee.signature.returns
        if node.replicate is not None or node.map is not None:
            output = ListT(output)
        return NodeInfo(node, callee, output)

    # -- incremental checking of an edited agent (see `CheckMemo`) ------------------------------

    def heads(self, statement: ast.Node) -> tuple[str, ...]:
        assert self.memo is not None
        return self.memo.heads(statement)

    def previous_check(self, symbol: Symbol) -> AgentSnapshot | None:
        """The agent's last clean check, when it had the same parameters and result in the
        same environment (the body is what an edit of an agent changes); else None."""
        if self.memo is None:
            return None
        decl = symbol.decl
        assert isinstance(decl, ast.AgentDecl)
        key = (symbol.qualified, self.environment(symbol.module))
        previous = self.memo.agents.get(key)
        if previous is None:
            return None
        before = previous.decl
        same = (
            decl.returns is before.returns
            and _same_objects(decl.params, before.params)
            and _same_objects(decl.ct_params, before.ct_params)
        )
        return previous if same else None

    def same_callee(self, module: ModuleInfo, role: str, was: Callee) -> Callee | None:
        """The callee of a node calling `role`, declared by the same statement at the last
        clean check, whose callee then was `was`, when what it calls still has the same
        signature: `was` itself where it may be shared (`_shared`), else one whose symbol
        is this program's; None: look it up."""
        if was.kind == "param":  # a role-valued compile-time parameter: the same ones
            return was
        symbol = self.program.lookup(module, role)
        if symbol is None or symbol.kind != was.kind or symbol.qualified != was.name:
            return None
        if symbol.kind == "agent" and symbol.decl.ct_params:  # type: ignore[attr-defined]
            return None  # (its compile-time parameters are checked against the node)
        signature = self.signatures.get(symbol.qualified)
        if signature is None or not (signature is was.signature or signature == was.signature):
            return None  # (not computed yet: computing it here would report out of order)
        if signature is was.signature and _shared(was, symbol, module):
            return was
        return Callee(was.kind, was.name, signature, symbol)

    def touched(
        self,
        info: AgentInfo,
        previous: AgentSnapshot,
        same: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> set[str]:
        """The names whose meaning changed since the agent's last clean check: nodes added,
        removed, with another output type, or calling a callee of another kind or other
        parameters (what the other statements read of a node: its output, and for the
        edges into it its callee's parameters; its callee's name only in the messages of
        errors, which a statement that checked clean and still does has none of).
        (`same`: nodes declared by the same statement as then, whose callee has the same
        kind, name and signature: the same output, so not touched.)"""
        nodes = info.nodes
        touched = set(previous.by_name.keys() - nodes.keys())
        for name in nodes.keys() - same if same else nodes:
            node = nodes[name]
            before = previous.by_name.get(name)
            if (
                before is None
                or before.output != node.output
                or _parameters_key(before.callee) != _parameters_key(node.callee)
            ):
                touched.add(name)
        return touched

    def remember_agent(
        self,
        info: AgentInfo,
        port_bound: dict[str, list[frozenset[str]]],
        statements: set[int],
        previous: AgentSnapshot | None,
        changed: list[NodeInfo],
        added: list[ast.Node],
        names: list[str],
    ) -> None:
        """Store the agent's snapshot: the last clean check's (`previous`), less the
        statements gone since, with the nodes whose entry no longer holds (`changed`: new
        statements, or another callee, output or bound arguments) and the edges checked
        again put in afresh. (`statements`: the ids of the body's statements; `added`: the
        statements new since `previous`.) The graph's key (`shape`) is derived the same
        way: the parts of the nodes changed are made when it is asked for (check.py)."""
        assert self.memo is not None
        snapshot = AgentSnapshot(info.decl, port_bound=port_bound, statements=statements)
        shape, unshaped = snapshot.shape, snapshot.unshaped
        if previous is None:
            snapshot.edges = self._edge_ports
            added = list(info.decl.body)
            snapshot.fresh = [*info.decl.params, *info.decl.ct_params]
        else:
            nodes, by_name = snapshot.nodes, snapshot.by_name
            nodes.update(previous.nodes)
            by_name.update(previous.by_name)
            edges = snapshot.edges
            edges.update(previous.edges)
            shape.update(previous.shape)
            unshaped.update(previous.unshaped)
            for gone in previous.statements - statements:
                kept = nodes.pop(gone, None)
                if kept is not None and by_name.get(kept.decl.name) is kept:
                    del by_name[kept.decl.name]
                edges.pop(gone, None)
                shape.pop(gone, None)
                unshaped.pop(gone, None)
            edges.update(self._edge_ports)
        fresh = snapshot.fresh
        for statement in added:
            if type(statement) is not _NODE:  # (a node's part is its entry's: below)
                shape[id(statement)] = statement
                fresh.append(statement)
        # The node table and every callee its nodes call (by identity, with the name
        # called: what `carried` checks): those the last one's call, and those this check
        # put in node infos (`_made`); put in afresh from the whole table when those kept
        # outnumber the nodes (stale ones hold their symbols' declarations).
        snapshot.table, snapshot.names = info.nodes, names
        callees, used = snapshot.callees, snapshot.used
        if previous is not None and len(previous.callees) <= len(previous.names) + 16:
            callees.update(previous.callees)
        if previous is not None and len(previous.used) <= len(previous.names) + 16:
            used.update(previous.used)
            used.update(self._made)
        else:
            for node in info.nodes.values():
                used[id(node.callee)] = (node.decl.role, node.callee)
        for role, callee in self._made.values():
            callees[(role, callee.kind, callee.name, id(callee.signature))] = callee
        for node in changed:
            snapshot.nodes[id(node.decl)] = node
            snapshot.by_name[node.decl.name] = node
            unshaped[id(node.decl)] = node
            shape.pop(id(node.decl), None)
        key = (info.symbol.qualified, self.environment(info.symbol.module))
        self.memo.store_agent(key, snapshot)
        self.snapshots[info.symbol.qualified] = snapshot

    def check_return(
        self, module: ModuleInfo, info: AgentInfo, scope: Scope, statement: ast.ReturnStmt
    ) -> None:
        self.expect(
            module,
            scope.type_of(statement.value),
            info.returns,
            statement.value.span,
            f"agent `{info.decl.name}`",
            code=codes.RETURN_TYPE,
        )

    def remembered(
        self, info: AgentInfo, statement: ast.Node, reads: Any, check: Callable[[], T]
    ) -> T:
        """`check()` of an agent statement, or its result from the memo when the same
        statement, read in the same context (`reads`: what else the check reads), checked
        clean before (see `CheckMemo`)."""
        if self.memo is None:
            return check()
        heads = self.memo.heads(statement)
        meanings = tuple(_meaning(info, name) for name in heads)
        key = (id(statement), self.context(info), reads, meanings)
        hit = self.memo.statements.get(key)
        if hit is not None:
            return hit[1]  # type: ignore[no-any-return]
        start = len(self.diagnostics)
        result = check()
        if len(self.diagnostics) == start:
            self.memo.store_statement(key, statement, info.decl.ct_params, result)
        return result

    def context(self, info: AgentInfo) -> int:
        """An agent's environment (what its statements' names mean there: `_meaning`)."""
        found = self._contexts.get(id(info))
        if found is None:
            found = self._contexts[id(info)] = self.environment(info.symbol.module)
        return found

    def callee(self, module: ModuleInfo, info: AgentInfo, node: ast.NodeDecl) -> Callee:
        ct = info.ct_params.get(node.role)
        if ct is not None:
            if not isinstance(ct.type, ast.RoleSig):
                self.report(
                    module, codes.WRONG_KIND, f"`{node.role}` is a constant, not a role", node.span
                )
                return Callee("unknown", node.role, Signature(None, ANY))
            if ct.type.params is None:
                return Callee("param", node.role, Signature(None, ANY))
            params = self.params_of(module, ct.type.params)
            assert ct.type.returns is not None  # a signature has both, or neither
            returns = self.resolve_type(module, ct.type.returns)
            return Callee("param", node.role, Signature(params, returns))
        symbol = self.lookup(
            module, node.role, ("role", "agent", "tool", "human"), node.span, "role"
        )
        if symbol is None:
            return Callee("unknown", node.role, Signature(None, ANY))
        callee = Callee(symbol.kind, symbol.qualified, self.signature(symbol), symbol)
        check_ct_args(self, module, node, symbol)
        return callee

    def edge_bindings(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        scope: Scope,
        previous: AgentSnapshot | None = None,
        touched: set[str] | None = None,
        edges: list[ast.EdgeDecl] | None = None,
        rebound: set[str] | None = None,
    ) -> dict[str, list[frozenset[str]]]:
        """Check every explicit edge (`edges`: the body's); return, per target node, the
        ports each edge binds. (`previous`, `touched`: an edge checked clean before that
        reads no touched name is not checked again; the edges checked are left in
        `_edge_ports`, and the nodes they bind other ports of than before in `rebound`.)"""
        bindings: dict[str, list[frozenset[str]]] = {}
        self._edge_ports: dict[int, tuple[ast.Node, Any]] = {}
        before_edges = previous.edges if previous is not None and touched is not None else {}
        heads = self.heads if self.memo is None else self.memo.heads
        for edge in info.decl.edges if edges is None else edges:
            before = before_edges.get(id(edge))
            if before is not None and (not touched or touched.isdisjoint(heads(edge))):
                ports = before[1]  # (the same statement: its snapshot entry holds it alive)
            else:
                ports = self.remembered_edge(module, info, scope, edge)
                self._edge_ports[id(edge)] = (edge, ports)
                if (
                    rebound is not None
                    and isinstance(edge.target, ast.NodeTarget)
                    and (before is None or before[1] != ports)
                ):
                    rebound.add(edge.target.node)
            if ports is not None:
                found = bindings.get(edge.target.node)  # type: ignore[union-attr]
                if found is None:
                    bindings[edge.target.node] = [ports]  # type: ignore[union-attr]
                else:
                    found.append(ports)
        return bindings

    def rebind_edges(
        self,
        info: AgentInfo,
        scope: Scope,
        previous: AgentSnapshot,
        statements: set[int],
        added: list[ast.EdgeDecl],
        rebound: set[str],
    ) -> dict[str, list[frozenset[str]]]:
        """`edge_bindings` of an agent whose last clean check is `previous` and in which no
        name changed meaning (nothing touched): the edges there still are bind what they
        bound then, so only the edges `added` since are checked (in body order), and the
        ports of the edges gone since are taken out. Each target's ports are the same
        collection as `edge_bindings` gives, in another order where edges were added (no
        check reads their order). `statements`: the ids of the body's statements."""
        bindings = dict(previous.port_bound)  # (lists shared with the snapshot: copied on change)
        module = info.symbol.module
        self._edge_ports = {}
        for gone in previous.statements - statements:
            found = previous.edges.get(gone)
            if found is None or found[1] is None:
                continue  # (not an edge, or one that binds nothing: a return edge)
            edge, ports = found
            target = edge.target.node  # type: ignore[attr-defined]
            kept = bindings[target]
            index = next(i for i, bound in enumerate(kept) if bound is ports)
            bindings[target] = kept[:index] + kept[index + 1 :]
            if not bindings[target]:
                del bindings[target]
            rebound.add(target)
        for edge in added:
            ports = self.remembered_edge(module, info, scope, edge)
            self._edge_ports[id(edge)] = (edge, ports)
            if ports is not None:
                target = edge.target.node  # type: ignore[union-attr]
                bindings[target] = [*bindings.get(target, ()), ports]
                rebound.add(target)
        return bindings

    def remembered_edge(
        self, module: ModuleInfo, info: AgentInfo, scope: Scope, edge: ast.EdgeDecl
    ) -> frozenset[str] | None:
        """`check_edge`, through the memo (`remembered`): it reads the agent's result type
        and its target's callee."""
        target = (
            info.nodes.get(edge.target.node) if isinstance(edge.target, ast.NodeTarget) else None
        )
        return self.remembered(
            info,
            edge,
            (info.returns, _signature_key(target.callee) if target else None),
            partial(self.check_edge, module, info, scope, edge),
        )

    def check_edge(
        self, module: ModuleInfo, info: AgentInfo, scope: Scope, edge: ast.EdgeDecl
    ) -> frozenset[str] | None:
        """Check an explicit edge; the ports it binds on its target node (None: a return
        edge, or an unknown target)."""
        source = info.nodes.get(edge.source)
        if source is None:
            self.report(
                module,
                codes.UNDEFINED_NAME,
                f"unknown node `{edge.source}`",
                edge.span,
                "not a node of this agent",
                hints=did_you_mean(edge.source, info.nodes),
            )
        if isinstance(edge.condition, ast.When):
            guard = scope.type_of(edge.condition.guard)
            if not assignable(guard, BOOL):
                self.report(
                    module,
                    codes.NOT_BOOL,
                    f"a guard must be a bool, found `{guard}`",
                    edge.condition.guard.span,
                    "not a bool",
                    hints=bool_hint(guard),
                )
        if isinstance(edge.condition, ast.OnError):
            self.check_failed_reads(module, edge)
        if isinstance(edge.target, ast.ReturnTarget):
            self.expect(
                module,
                scope.type_of(edge.target.value),
                info.returns,
                edge.target.value.span,
                f"agent `{info.decl.name}`",
                code=codes.RETURN_TYPE,
            )
            return None
        target = info.nodes.get(edge.target.node)
        if target is None:
            self.report(
                module,
                codes.UNDEFINED_NAME,
                f"unknown node `{edge.target.node}`",
                edge.target.span,
                "not a node of this agent",
                hints=did_you_mean(edge.target.node, info.nodes),
            )
            return None
        ports = set()
        for port in edge.target.ports:
            assert port.name is not None
            ports.add(port.name)
            actual = scope.type_of(port.value)
            params = target.callee.signature.params
            if params is None:
                continue
            param = target.callee.signature.param(port.name)
            if param is None:
                self.unknown_parameter(module, target.callee, port.name, port.span, "unknown port")
                continue
            self.expect(module, actual, param[1], port.value.span, f"port `{port.name}`")
        return frozenset(ports)

    def check_failed_reads(self, module: ModuleInfo, edge: ast.EdgeDecl) -> None:
        """An `on error` edge out of `x` runs when `x` failed: `x` has no output to read,
        only `x.error`."""
        for ref in edge.target.find_all(ast.Ref):
            if ref.head == edge.source and tuple(ref.parts[1:]) != ("error",):
                self.report(
                    module,
                    codes.FAILED_OUTPUT_READ,
                    f"`{edge.source}` failed when this edge is taken: it has no output",
                    ref.span,
                    "read in an `on error` edge",
                    hints=[f"read `{edge.source}.error`, the failure's message"],
                )

    def check_node(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        scope: Scope,
        node: NodeInfo,
        port_bound: dict[str, list[frozenset[str]]],
    ) -> None:
        ports = tuple(port_bound.get(node.decl.name, ()))

        def check() -> dict[str, ast.Node]:
            self._check_node(module, info, scope, node, port_bound)
            return dict(node.bound)

        node.bound.update(
            self.remembered(info, node.decl, (_signature_key(node.callee), ports), check)
        )

    def _check_node(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        scope: Scope,
        node: NodeInfo,
        port_bound: dict[str, list[frozenset[str]]],
    ) -> None:
        decl = node.decl
        signature = node.callee.signature
        inner = scope
        if decl.map is not None:
            source = scope.type_of(decl.map.source)
            item: Type = ANY
            if isinstance(strip_optional(source), ListT):
                item = strip_optional(source).item  # type: ignore[attr-defined]
            elif not isinstance(source, AnyType):
                self.report(
                    module,
                    codes.MAP_NEEDS_LIST,
                    f"a map needs a list, found `{source}`",
                    decl.map.source.span,
                    "not a list",
                )
            inner = scope.with_local(decl.map.var, item)
        params = signature.params
        for index, arg in enumerate(decl.args):
            actual = inner.type_of(arg.value)
            if params is None:
                continue
            if arg.name is None:
                if index >= len(params):
                    self.report(
                        module,
                        codes.TOO_MANY_ARGUMENTS,
                        f"`{node.callee.name}` takes {len(params)} argument"
                        f"{'s' if len(params) != 1 else ''}, found {len(decl.args)}",
                        arg.span,
                        "one too many",
                    )
                    continue
                name, expected, _ = params[index]
            else:
                found = signature.param(arg.name)
                if found is None:
                    self.unknown_parameter(
                        module, node.callee, arg.name, arg.span, "unknown parameter"
                    )
                    continue
                name, expected, _ = found
            node.bound[name] = arg.value
            self.expect(module, actual, expected, arg.value.span, f"parameter `{name}`")
        if params is None:
            return
        missing = [p[0] for p in params if not p[2] and p[0] not in node.bound]
        if not missing:
            return
        edges_in = port_bound.get(decl.name, [])
        fires_only_by_edges = bool(edges_in) and not scope.node_refs(decl)
        if fires_only_by_edges and all(set(missing) <= ports for ports in edges_in):
            return
        self.report(
            module,
            codes.MISSING_ARGUMENT,
            f"`{node.callee.name}` needs `{missing[0]}`"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            decl.span,
            "missing argument",
            hints=(f"pass it: `{decl.role}(..., {missing[0]}: ...)`",),
        )

    def check_constraint(
        self, module: ModuleInfo, info: AgentInfo, scope: Scope, constraint: ast.Constraint
    ) -> None:
        nested = ltl.future_under_past(constraint.formula)
        if nested is not None:
            self.report(
                module,
                codes.FUTURE_UNDER_PAST,
                "a past operator applies to a formula with a future operator",
                nested.span,
                "this operator",
                hints=("see docs/ltl.md",),
            )
        for atom in constraint.formula.walk():
            if isinstance(atom, ast.LtlFired) and atom.node not in info.nodes:
                self.report(
                    module,
                    codes.UNKNOWN_NODE_IN_FORMULA,
                    f"unknown node `{atom.node}` in a formula",
                    atom.span,
                    "not a node of this agent",
                    hints=did_you_mean(atom.node, info.nodes),
                )
            elif isinstance(atom, ast.LtlHolds):
                # a condition is tested on successful outputs (runtime/trace.py), where
                # `x.error` is none: refused, `failed(x)` says it (E0415 where it is not)
                for ref, _ in error_reads(atom.expr):
                    node = info.nodes.get(ref.head)
                    if node is not None and not has_error_field(node):
                        self.report(
                            module,
                            codes.ERROR_IN_FORMULA,
                            f"`{ref.head}.error` in a formula: conditions are tested on"
                            " successful outputs, where it is none",
                            ref.span,
                            "always none here",
                            hints=(f"`failed({ref.head})` holds where `{ref.head}` failed",),
                        )
                t = scope.type_of(atom.expr)
                if not assignable(t, BOOL):
                    self.report(
                        module,
                        codes.NOT_BOOL,
                        f"a condition in a formula must be a bool, found `{t}`",
                        atom.span,
                        "not a bool",
                        hints=bool_hint(t),
                    )


def _meaning(info: AgentInfo, name: str) -> tuple[str, Any] | None:
    """What a name a statement of the agent reads means there, once its nodes are
    declared: a node and its type, else a parameter and its type, else a compile-time
    parameter (None: a name of nothing)."""
    node = info.nodes.get(name)
    if node is not None:
        return ("node", node.output)
    if name in info.params:
        return ("param", info.params[name])
    constant = info.ct_params.get(name)
    return ("constant", id(constant)) if constant is not None else None


def _signature_key(callee: Callee) -> tuple[Any, ...]:
    """A callee as a node's check reads it: what it is and the parameters it takes."""
    params = callee.signature.params
    return (callee.kind, callee.name, None if params is None else tuple(params))


def _parameters_key(callee: Callee) -> tuple[Any, ...]:
    """What the edges into a node read of its callee once they check clean: its kind and
    the parameters it takes (`_signature_key` less the name, which only errors name)."""
    params = callee.signature.params
    return (callee.kind, None if params is None else tuple(params))


def _same_objects(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(map(is_, a, b))


_MISSING: Any = object()


def _shared(was: Callee, symbol: Symbol, module: ModuleInfo) -> bool:
    """Whether a callee made at an earlier clean check of the agent (`was`, of the kind,
    name and signature of `symbol`, this program's) stands for `symbol` here: its symbol
    is of the same declaration, declared in the agent's module (`module`), which had the
    same environment then (the snapshot's key): each name a reader of the callee's symbol
    looks up from its module (its model, tools, types) is the same declaration there.
    Then node infos carry over from check to check; their callees hold the symbol of the
    program that first made them, not this one (whose module may be gone: a symbol holds
    it weakly, resolve.py; what a callee's module says is read through this program's)."""
    old = was.symbol
    return old is symbol or (
        old is not None and old.decl is symbol.decl and symbol.module is module
    )


_NAME = attrgetter("name")


def _in_body_order(
    body: tuple[ast.Node, ...], positions: list[int], chosen: set[int], distinct: bool
) -> list[ast.Node]:
    """The statements of `body` whose ids are `chosen`, in body order (`positions`: the
    ids of the body's statements, in order). Found by position when they are few and no
    statement object occurs twice in the body (`distinct`)."""
    if not distinct or len(chosen) > 8:
        return [s for s in body if id(s) in chosen]
    return [body[i] for i in sorted(map(positions.index, chosen))]


def _to_check(
    nodes: list[ast.NodeDecl], declared: dict[str, NodeInfo], same: set[str], rebound: set[str]
) -> list[ast.NodeDecl]:
    """The nodes an agent's check checks again when no name changed meaning since its last
    clean check: those not declared as then (not in `same`) and those an edge now binds
    other ports of (`rebound`), in body order; a node of a name declared by another
    statement too (a duplicate) is the declaring one's."""
    names = (declared.keys() - same) | (rebound & same)
    if len(names) > 8:
        return [node for node in nodes if node.name in names]
    order = list(declared)
    return [declared[name].decl for name in sorted(names, key=order.index)]


_NODE, _EDGE, _RETURN, _CONSTRAINT = ast.NodeDecl, ast.EdgeDecl, ast.ReturnStmt, ast.Constraint


def _partition(
    body: Iterable[ast.Node],
) -> tuple[list[ast.NodeDecl], list[ast.EdgeDecl], list[ast.Node]]:
    """Statements of an agent: its nodes, its edges, and its returns and constraints, each
    in body order. By exact type (`isinstance` of a pydantic class is slow): no statement
    class has subclasses (tests/test_check_agent_walks.py holds it)."""
    nodes: list[ast.NodeDecl] = []
    edges: list[ast.EdgeDecl] = []
    others: list[ast.Node] = []
    for statement in body:
        kind = type(statement)
        if kind is _NODE:
            nodes.append(statement)  # type: ignore[arg-type]
        elif kind is _EDGE:
            edges.append(statement)  # type: ignore[arg-type]
        elif kind is _RETURN or kind is _CONSTRAINT:
            others.append(statement)
    return nodes, edges, others
