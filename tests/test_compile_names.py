"""`rolegraph compile` is total: every program that checks compiles to a module that
imports and reads back as the same program, whatever its names and its file's name.

Names are drawn from what breaks a naive code generator: Python keywords and builtins,
dunders, pydantic's and enum's own names, leading underscores, and the names the
generated module uses itself.
"""

from __future__ import annotations

import keyword
import subprocess
import sys

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.printer import to_source

from .test_compile import load

# fmt: off
PYTHON = sorted(set(keyword.kwlist + keyword.softkwlist))
BUILTINS = ["print", "list", "dict", "str", "int", "object", "id", "len", "super", "open",
            "Exception", "__import__", "__build_class__", "__debug__"]
DUNDERS = ["__init__", "__name__", "__all__", "__getattr__", "__class__", "__dict__",
           "__doc__", "__file__", "__annotations__", "__builtins__", "__module__",
           "__rolegraph_annotations__", "__rolegraph_name__", "__slots__"]
PYDANTIC = ["model_config", "model_fields", "model_dump", "model_x", "BaseModel", "Field",
            "json", "copy", "schema", "construct", "validate", "fields", "dict"]
ENUM = ["_value_", "_name_", "_order_", "_missing_", "_ignore_", "_generate_next_value_",
        "mro", "name", "value", "Enum"]
UNDERSCORES = ["_x", "__x", "_", "__", "___", "_x_", "x_", "x__"]
MODULE = ["rg", "pydantic", "enum", "PROGRAM", "COMPILED_WITH", "annotations", "langgraph",
          "_record", "rolegraph", "asyncio", "m", "T"]
# fmt: on
HOSTILE = sorted(set(PYTHON + BUILTINS + DUNDERS + PYDANTIC + ENUM + UNDERSCORES + MODULE))
# names of declarations, parameters and nodes: identifiers that are not keywords of ours
NAMES = [n for n in HOSTILE if n not in ast.KEYWORDS and n not in ast.LTL_LETTERS]
# record fields and enum members may be any identifier, our keywords too
FIELDS = sorted(set(HOSTILE) | {"type", "model", "return", "agent", "not"})


def _checked(module: ast.Module, source_name: str = "names.agent"):
    return rolegraph.check_source(to_source(module), source_name)


def _compiled(module: ast.Module, source_name: str = "names.agent"):
    from rolegraph.compiler.pycodegen import compile_to_python

    checked = _checked(module, source_name)
    assert not checked.errors, [str(d) for d in checked.errors]
    return compile_to_python(checked.program, source_name, rolegraph.__version__)


def _program(decl: list[str], fields: list[str], members: list[str], params: list[str], nodes):
    model, record, enum_, role, agent = decl
    return ast.Module(
        decls=(
            ast.ModelDecl(name=model, provider="mock"),
            ast.EnumDecl(name=enum_, members=tuple(ast.EnumMember(name=m) for m in members)),
            ast.TypeDecl(
                name=record,
                fields=(
                    ast.FieldDecl(name=fields[0], type=ast.NamedType(name="str")),
                    ast.FieldDecl(
                        name=fields[1], type=ast.NamedType(name="int"), default=ast.IntLit(value=3)
                    ),
                    ast.FieldDecl(name=fields[2], type=ast.NamedType(name=enum_)),
                    ast.FieldDecl(
                        name=fields[3],
                        type=ast.ListType(item=ast.NamedType(name=record)),
                        default=ast.ListLit(),
                    ),
                ),
            ),
            ast.RoleDecl(
                name=role,
                params=(
                    ast.Param(name=params[0], type=ast.NamedType(name="str")),
                    ast.Param(
                        name=params[1],
                        type=ast.OptionalType(inner=ast.NamedType(name=record)),
                        default=ast.NullLit(),
                    ),
                ),
                returns=ast.NamedType(name=record),
                model=ast.ModelUse(name=model),
                prompt=ast.Prompt(text="Answer."),
            ),
            ast.AgentDecl(
                name=agent,
                params=(ast.Param(name=params[0], type=ast.NamedType(name="str")),),
                returns=ast.NamedType(name=record),
                body=(
                    ast.NodeDecl(
                        name=nodes[0], role=role, args=(ast.Arg(value=ast.Ref.of(params[0])),)
                    ),
                    ast.NodeDecl(
                        name=nodes[1],
                        role=role,
                        args=(
                            ast.Arg(value=ast.Ref.of(f"{nodes[0]}.{fields[0]}")),
                            ast.Arg(name=params[1], value=ast.Ref.of(nodes[0])),
                        ),
                    ),
                    ast.ReturnStmt(value=ast.Ref.of(nodes[1])),
                ),
            ),
        )
    )


def _unique(pool: list[str], size: int):
    return st.lists(st.sampled_from(pool), min_size=size, max_size=size, unique=True)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    decl=_unique(NAMES, 5),
    fields=_unique(FIELDS, 4),
    members=_unique(FIELDS, 4),
    params=_unique(NAMES, 2),
    nodes=_unique(NAMES, 2),
)
def test_any_names_compile_to_a_module_that_reads_back_as_the_program(
    tmp_path, decl, fields, members, params, nodes
):
    module = _program(decl, fields, members, params, nodes)
    # (some draws do not check: a record named `str`, a node named like a parameter)
    assume(not _checked(module).errors)
    generated = load(_compiled(module), tmp_path)
    assert generated.PROGRAM.module == module


def _check_compiles(text: str, tmp_path, source_name: str = "x.agent"):
    module = rolegraph.parse(text)
    generated = load(_compiled(module, source_name), tmp_path)
    assert generated.PROGRAM.module == module
    return generated


RECORD = 'model m = "mock"\ntype T {{ {} }}\n'


def test_a_record_field_with_a_leading_underscore_compiles(tmp_path):
    # (the name-mangling loop appended `_` to `_x` forever; in a fresh process, so that
    # a regression fails the test rather than hanging the suite)
    code = (
        "import rolegraph\n"
        f"print(len(rolegraph.compile_python('x.agent', text={RECORD.format('_x: str')!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    _check_compiles(RECORD.format("_x: str, __y: int, _: bool"), tmp_path)


def test_a_record_field_in_pydantics_namespace_compiles(tmp_path):
    _check_compiles(RECORD.format("model_x: str, model_config: int, json: bool"), tmp_path)


def test_a_role_with_no_model_compiles(tmp_path):
    text = 'type T { a: str }\nrole R(q: str) -> T {\n  prompt "{{ q }}"\n}\n'
    generated = _check_compiles(text, tmp_path)
    assert generated.PROGRAM.module.decl("R").model is None


def test_enum_members_enum_keeps_for_itself_compile(tmp_path):
    members = "mro, __init__, _value_, _name_, _order_, __rolegraph_annotations__, name, value"
    generated = _check_compiles(f"enum E {{ {members} }}\n", tmp_path)
    assert [m.value for m in generated.E] == [m.strip() for m in members.split(",")]


def test_enum_members_with_a_leading_underscore_are_kept(tmp_path):
    generated = _check_compiles("enum E { _a, __b, _ }\n", tmp_path)
    assert [m.value for m in generated.E] == ["_a", "__b", "_"]


def test_a_role_named_like_a_name_the_module_uses_compiles(tmp_path):
    text = 'model m = "mock"\ntype T { a: str }\n' + "".join(
        f'role {name}(q: str) -> T {{\n  model m\n  prompt "x"\n}}\n'
        for name in ("_record", "rg", "PROGRAM", "langgraph", "__getattr__", "print")
    )
    generated = _check_compiles(text, tmp_path)
    assert generated.PROGRAM.module.decl("_record") is not None


def test_a_file_name_with_quotes_and_escapes_compiles(tmp_path):
    for name in ('a"""b.agent', "x\\N{y}.agent", 'q".agent', "back\\.agent", "nul\x00.agent"):
        generated = _check_compiles("type T { a: str }\n", tmp_path, name)
        assert generated.__doc__.startswith(name)
