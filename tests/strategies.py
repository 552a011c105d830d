"""Hypothesis strategies for random, syntactically valid rolegraph ASTs.

Every tree these strategies build is one the printer can write and the parser can
read back: names avoid keywords, parameter and argument names are unique where the
parser requires it, formulas use only the conditions a formula can hold.
"""

from __future__ import annotations

from hypothesis import strategies as st

from rolegraph.compiler import ast

_KEYWORDS = sorted(ast.KEYWORDS)

names = st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda s: s not in ast.KEYWORDS
)
node_names = names  # lowercase names are never temporal letters
type_names = st.from_regex(r"[A-Z][A-Za-z0-9]{0,7}", fullmatch=True).filter(
    lambda s: s not in ast.LTL_LETTERS
)
field_names = st.one_of(names, st.sampled_from(_KEYWORDS))
qualified = st.one_of(type_names, st.builds(lambda a, b: f"{a}.{b}", names, type_names))

# Strings with the characters that break naive printers: quotes, backslashes,
# newlines, triple quotes, jinja markers, control and non-ASCII characters.
_NASTY = st.sampled_from(
    [
        '"',
        '"""',
        "\\",
        "\n",
        "\t",
        "\r",
        "{{ x }}",
        "{% if a %}",
        "//",
        "\u2028",
        "\x00",
        "é",
        "😀",
        "  ",
        "\\n",
        "'''",
    ]
)
strings = st.one_of(
    st.text(max_size=20),
    st.lists(st.one_of(_NASTY, st.text(max_size=5)), max_size=6).map("".join),
)

literals = st.one_of(
    st.builds(ast.StringLit, value=strings),
    st.builds(ast.IntLit, value=st.integers(-(10**12), 10**12)),
    st.builds(ast.FloatLit, value=st.floats(allow_nan=False, allow_infinity=False)),
    st.builds(ast.BoolLit, value=st.booleans()),
    st.just(ast.NullLit()),
)

refs = st.builds(
    lambda head, rest: ast.Ref(parts=(head, *rest)), names, st.lists(field_names, max_size=2)
)


def _dict(values: st.SearchStrategy) -> st.SearchStrategy:
    keys = st.one_of(field_names, strings)
    return st.lists(st.tuples(keys, values), max_size=3, unique_by=lambda kv: kv[0]).map(
        lambda kvs: ast.DictLit(entries=tuple(ast.DictEntry(key=k, value=v) for k, v in kvs))
    )


constants = st.recursive(
    literals,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: ast.ListLit(items=tuple(xs))),
        _dict(inner),
    ),
    max_leaves=6,
)

_COMPARE_OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]

expressions = st.recursive(
    st.one_of(literals, refs),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: ast.ListLit(items=tuple(xs))),
        _dict(inner),
        st.builds(ast.Compare, op=st.sampled_from(_COMPARE_OPS), left=inner, right=inner),
        st.builds(ast.BoolOp, op=st.sampled_from(["and", "or"]), left=inner, right=inner),
        st.builds(ast.Not, operand=inner),
        st.builds(ast.Call, func=names, args=st.lists(inner, max_size=2).map(tuple)),
    ),
    max_leaves=8,
)

types = st.recursive(
    st.builds(
        ast.NamedType, name=st.one_of(st.sampled_from(["str", "int", "float", "bool"]), qualified)
    ),
    lambda inner: st.one_of(
        st.builds(ast.ListType, item=inner),
        st.builds(ast.DictType, key=st.just(ast.NamedType(name="str")), value=inner),
        inner.filter(lambda t: not isinstance(t, ast.OptionalType)).map(
            lambda t: ast.OptionalType(inner=t)
        ),
    ),
    max_leaves=3,
)

# -- formulas -----------------------------------------------------------------------------

_ltl_operand = st.one_of(
    refs,
    st.builds(ast.Call, func=names, args=st.lists(refs, max_size=1).map(tuple)),
    st.builds(ast.StringLit, value=strings),
    st.builds(ast.IntLit, value=st.integers(-100, 100)),
    st.builds(ast.FloatLit, value=st.floats(-1e3, 1e3, allow_nan=False)),
)
# arithmetic over operands, nested either side (the printer adds the parentheses)
_ltl_left = st.recursive(
    _ltl_operand,
    lambda inner: st.builds(
        ast.Arith, op=st.sampled_from(["+", "-", "*", "/", "%"]), left=inner, right=inner
    ),
    max_leaves=3,
)
_ltl_right = st.one_of(
    _ltl_left, literals, st.lists(literals, max_size=2).map(lambda xs: ast.ListLit(items=tuple(xs)))
)

ltl_atoms = st.one_of(
    st.builds(ast.LtlConst, value=st.booleans()),
    st.just(ast.LtlStart()),
    st.just(ast.LtlReturn()),
    st.builds(ast.LtlFired, node=node_names, failed=st.booleans()),
    st.builds(
        ast.LtlHolds,
        expr=st.builds(lambda head, field: ast.Ref(parts=(head, field)), node_names, field_names),
    ),
    st.builds(
        ast.LtlHolds,
        expr=st.builds(
            ast.Compare, op=st.sampled_from(_COMPARE_OPS), left=_ltl_left, right=_ltl_right
        ),
    ),
)

formulas = st.recursive(
    ltl_atoms,
    lambda inner: st.one_of(
        st.builds(
            ast.LtlUnary,
            op=st.sampled_from(
                [
                    "not",
                    "next",
                    "wnext",
                    "eventually",
                    "always",
                    "once",
                    "historically",
                    "yesterday",
                ]
            ),
            operand=inner,
        ),
        st.builds(
            ast.LtlBinary,
            op=st.sampled_from(["and", "or", "implies", "until", "release", "since"]),
            left=inner,
            right=inner,
        ),
    ),
    max_leaves=8,
)

# -- declarations -------------------------------------------------------------------------


#: a human step's deadline: `"90s"`, `"1h30m"`, `"2d0h"` (never zero)
durations = (
    st.lists(st.tuples(st.integers(0, 999), st.sampled_from("dhms")), min_size=1, max_size=3)
    .map(lambda parts: "".join(f"{n}{unit}" for n, unit in parts))
    .filter(lambda text: ast.duration_seconds(text) is not None)
)


def _unique_params(max_size: int = 3) -> st.SearchStrategy:
    return st.lists(
        st.builds(ast.Param, name=names, type=types, default=st.none() | constants),
        max_size=max_size,
        unique_by=lambda p: p.name,
    ).map(tuple)


def _args(max_size: int = 3) -> st.SearchStrategy:
    positional = st.lists(st.builds(ast.Arg, value=expressions), max_size=2)
    named = st.lists(
        st.builds(ast.Arg, name=names, value=expressions),
        max_size=max_size,
        unique_by=lambda a: a.name,
    )
    return st.tuples(positional, named).map(lambda pn: tuple(pn[0] + pn[1]))


bounds = st.integers(1, 20)

node_decls = (
    st.builds(
        ast.NodeDecl,
        name=node_names,
        role=qualified,
        ct_args=_args(2),
        args=_args(),
        replicate=st.none(),
        map=st.none(),
    )
    | st.builds(
        ast.NodeDecl,
        name=node_names,
        role=qualified,
        args=_args(),
        replicate=bounds,
    )
    | st.builds(
        ast.NodeDecl,
        name=node_names,
        role=qualified,
        args=_args(),
        map=st.builds(ast.MapClause, var=names, source=expressions, max=bounds),
    )
)

_ports = st.lists(
    st.builds(ast.Arg, name=names, value=expressions), max_size=2, unique_by=lambda a: a.name
).map(tuple)

edge_decls = st.builds(
    ast.EdgeDecl,
    source=node_names,
    target=st.one_of(
        st.builds(ast.NodeTarget, node=node_names, ports=_ports),
        st.builds(ast.ReturnTarget, value=expressions),
    ),
    condition=st.one_of(
        st.none(),
        st.builds(ast.When, guard=expressions),
        st.just(ast.Else()),
        st.just(ast.OnError()),
    ),
    max=st.none() | bounds,
)

statements = st.one_of(
    node_decls,
    edge_decls,
    st.builds(ast.ReturnStmt, value=expressions),
    st.builds(ast.Constraint, mode=st.sampled_from(["ensure", "enforce"]), formula=formulas),
)

_model_params = st.lists(
    st.builds(ast.ModelParam, name=field_names, value=constants),
    max_size=3,
    unique_by=lambda p: p.name,
).map(tuple)
_annotations = st.lists(
    st.builds(ast.Annotation, name=names, args=st.lists(constants, max_size=2).map(tuple)),
    max_size=2,
).map(tuple)

role_sigs = st.one_of(
    st.just(ast.RoleSig()),
    st.builds(ast.RoleSig, params=_unique_params(2), returns=types),
)

declarations = st.one_of(
    st.builds(
        ast.Import, module=st.builds(lambda a, b: f"{a}.{b}", names, names), alias=st.none() | names
    ),
    st.builds(ast.Import, module=strings, is_path=st.just(True), alias=st.none() | names),
    st.builds(
        ast.Import, module=names, names=st.lists(type_names, min_size=1, max_size=3).map(tuple)
    ),
    st.builds(ast.ModelDecl, name=names, provider=strings, params=_model_params),
    st.builds(
        ast.TypeDecl,
        name=type_names,
        fields=st.lists(
            st.builds(
                ast.FieldDecl,
                name=field_names,
                type=types,
                default=st.none() | constants,
                annotations=_annotations,
            ),
            max_size=4,
            unique_by=lambda f: f.name,
        ).map(tuple),
    ),
    st.builds(
        ast.EnumDecl,
        name=type_names,
        members=st.lists(
            st.builds(ast.EnumMember, name=field_names, annotations=_annotations),
            min_size=1,
            max_size=4,
            unique_by=lambda m: m.name,
        ).map(tuple),
    ),
    st.builds(
        ast.RoleDecl,
        name=type_names,
        params=_unique_params(),
        returns=types,
        model=st.none() | st.builds(ast.ModelUse, name=qualified, params=_model_params),
        system=st.none() | st.builds(ast.System, text=strings),
        prompt=st.none() | st.builds(ast.Prompt, text=strings),
        tools=st.none()
        | st.builds(
            ast.ToolUse,
            tools=st.lists(qualified, max_size=3).map(tuple),
            max_steps=st.none() | bounds,
        ),
    ),
    st.builds(ast.ToolDecl, name=names, params=_unique_params(), returns=types, target=strings),
    # a tool of an MCP server: `= calc.add` (any field name), or `= calc["get-weather"]`
    st.builds(
        ast.ToolDecl,
        name=names,
        params=_unique_params(),
        returns=types,
        target=field_names | strings.filter(bool),
        server=names | st.just("mcp"),
    ),
    st.builds(ast.McpDecl, name=names | st.just("mcp"), address=strings, params=_model_params),
    st.builds(
        ast.HumanDecl,
        name=type_names,
        params=_unique_params(),
        returns=types,
        prompt=st.none() | st.builds(ast.Prompt, text=strings),
        deadline=st.none() | st.builds(ast.Deadline, duration=durations),
    ),
    st.builds(
        ast.AgentDecl,
        name=type_names,
        ct_params=st.lists(
            st.builds(
                ast.CtParam,
                name=type_names | names,
                type=role_sigs | types,
                default=st.none() | expressions,
            ),
            max_size=2,
            unique_by=lambda p: p.name,
        ).map(tuple),
        params=_unique_params(),
        returns=types,
        body=st.lists(statements, max_size=6).map(tuple),
    ),
    st.builds(
        ast.TestDecl,
        name=names,
        body=st.lists(
            st.one_of(
                st.builds(ast.TestRun, agent=qualified, args=_args()),
                st.builds(
                    ast.TestMock,
                    role=qualified,
                    replies=st.lists(constants, max_size=3).map(
                        lambda items: ast.ListLit(items=tuple(items))
                    ),
                ),
                st.builds(ast.TestExpect, formula=formulas),
            ),
            max_size=4,
        ).map(tuple),
    ),
)

modules = st.lists(declarations, max_size=6).map(lambda ds: ast.Module(decls=tuple(ds)))
