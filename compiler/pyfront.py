"""The Python front end: an agent program declared in Python, read into the same AST.

`rolegraph compile` writes modules in this form (pycodegen.py), and people write and
edit it by hand: it is source. Types are pydantic models and enums; roles and tools are
decorated stubs whose signatures say their parameters and result; an agent is a
function whose body declares its graph with Python objects (pybody.py):

    fast = rg.model("fast", "openai/gpt-4o-mini", {"temperature": 0.2})

    class Review(pydantic.BaseModel):
        ok: bool
        feedback: str

    @rg.role(model=fast, prompt="Task: {{ task }}\\nDraft: {{ draft.text }}")
    async def Critic(task: str, draft: Answer) -> Review:
        return rg.declared()

    @rg.agent
    def SelfRefine(task: str) -> Answer:
        writer = rg.node(Writer, task)
        critic = rg.node(Critic, task, draft=writer)
        rg.edge(critic, rg.to(writer, feedback=critic.feedback), when=rg.not_(critic.ok), max=3)
        rg.edge(critic, rg.to_return(writer), otherwise=True)
        rg.ensure(rg.always(rg.implies(rg.RETURN, rg.once(critic))))
        return rg.graph(locals())

    PROGRAM = rg.program(fast, Answer, Review, Writer, Critic, SelfRefine)

`to_module(members)` gives the `ast.Module` — the one the `.agent` source parses to — so
the program is checked and built by the same compiler, and runs the same.

Longer than ~500 lines: one front end, one reader per kind of declaration (agent
bodies are pybody.py's, Python expressions pysymbols.py's).
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pydantic

from . import ast, codes
from .diagnostics import DiagnosticError, diagnostic
from .pybody import Declared, run_body
from .pysymbols import to_expr

T = TypeVar("T")
C = TypeVar("C", bound=type)

PRIMITIVES: dict[Any, str] = {str: "str", int: "int", float: "float", bool: "bool"}


class PythonFrontError(DiagnosticError):
    """A Python declaration that does not describe a rolegraph program."""


def _fail(message: str) -> PythonFrontError:
    return PythonFrontError([diagnostic(codes.NOT_A_DECLARATION, message, file="<python>")])


def named(name: str) -> Callable[[C], C]:
    """Give a record or enum class its rolegraph name, when the Python one must differ
    (the rolegraph name is a Python keyword, or a name the module already uses)."""

    def mark(cls: C) -> C:
        cls.__rolegraph_name__ = name  # type: ignore[attr-defined]
        return cls

    return mark


def rolegraph_name(obj: Any) -> str:
    if isinstance(obj, type):  # a record or an enum: its own mark, never a field or member
        found = vars(obj).get("__rolegraph_name__")
        return found if isinstance(found, str) else obj.__name__
    return str(getattr(obj, "name", None) or obj.__name__)


# -- declarations ---------------------------------------------------------------------------


@dataclass
class Model:
    name: str
    provider: str
    params: dict[str, Any] = field(default_factory=dict)


def model(name: str, provider: str, params: dict[str, Any] | None = None) -> Model:
    return Model(name, provider, dict(params or {}))


@dataclass
class Mcp:
    """An MCP server: `mcp calc = "python3 calc.py" { timeout: 5 }` (docs/mcp.md)."""

    name: str
    address: str
    params: dict[str, Any] = field(default_factory=dict)


def mcp(name: str, address: str, params: dict[str, Any] | None = None) -> Mcp:
    """Declare an MCP server by its command (stdio) or its URL (streamable HTTP)."""
    return Mcp(name, address, dict(params or {}))


class Stub(Declared, Generic[T]):
    """A role, tool or agent: a decorated stub whose signature is the declaration's.
    Awaiting a call runs it, once the stub belongs to a `program`."""

    kind = ""

    def __init__(self, stub: Callable[..., Any], name: str | None, names: dict[str, str]):
        self.stub = stub
        self.name = name or stub.__name__
        self.names = dict(names)  # Python name → rolegraph name, where they differ
        self.program: Any = None
        self.__doc__ = stub.__doc__
        self.__name__ = stub.__name__
        self.__wrapped__ = stub

    def parameters(self) -> list[tuple[str, str, Any, Any]]:
        """[(Python name, rolegraph name, annotation, default or `inspect.Parameter.empty`)]."""
        hints = typing.get_type_hints(self.stub)
        params = []
        for parameter in inspect.signature(self.stub).parameters.values():
            if parameter.name not in hints:
                raise _fail(f"`{self.name}`: parameter `{parameter.name}` has no type")
            params.append(
                (
                    parameter.name,
                    self.names.get(parameter.name, parameter.name),
                    hints[parameter.name],
                    parameter.default,
                )
            )
        return params

    def signature(self) -> tuple[list[tuple[str, Any, Any]], Any]:
        """[(rolegraph name, annotation, default or inspect.Parameter.empty)], result."""
        params = [(name, annotation, default) for _, name, annotation, default in self.parameters()]
        hints = typing.get_type_hints(self.stub)
        if "return" not in hints:
            raise _fail(f"`{self.name}` has no return type")
        return params, hints["return"]

    async def __call__(self, model: Any = None, **inputs: Any) -> T:
        if self.program is None:
            raise _fail(f"`{self.name}` belongs to no program: list it in `rolegraph.program(...)`")
        inputs = {self.names.get(k, k): v for k, v in inputs.items()}
        return await self.program.call(self, inputs, model=model)  # type: ignore[no-any-return]


class Role(Stub[T]):
    kind = "role"

    def __init__(
        self,
        stub: Callable[..., Any],
        *,
        model: Model | str | None,
        prompt: str | None,
        system: str | None,
        model_params: dict[str, Any],
        tools: list[Any] | None,
        max_steps: int | str | None,
        name: str | None,
        names: dict[str, str],
    ):
        super().__init__(stub, name, names)
        self.model = model
        self.prompt = prompt
        self.system = system
        self.model_params = model_params
        self.tools = tools
        self.max_steps = max_steps


def role(
    *,
    model: Model | str | None = None,
    prompt: str | None = None,
    system: str | None = None,
    model_params: dict[str, Any] | None = None,
    tools: Iterable[Any] | None = None,
    max_steps: int | str | None = None,
    name: str | None = None,
    names: dict[str, str] | None = None,
) -> Callable[[Callable[..., Awaitable[T]]], Role[T]]:
    """Declare a role: `@role(model=fast, prompt="...")` on
    `async def Writer(task: str) -> T: return rg.declared()`. `tools` makes it a
    tool-using role (a `tools [...]` list; `max_steps` bounds the loop). Without a
    `model`, the role takes the one a run gives every role (`--model`)."""

    def wrap(stub: Callable[..., Awaitable[T]]) -> Role[T]:
        return Role(
            stub,
            model=model,
            prompt=prompt,
            system=system,
            model_params=dict(model_params or {}),
            tools=list(tools) if tools is not None else None,
            max_steps=max_steps,
            name=name,
            names=names or {},
        )

    return wrap


class Tool(Stub[T]):
    kind = "tool"

    def __init__(
        self,
        stub: Callable[..., Any],
        target: str,
        name: str | None,
        names: dict[str, str],
        server: str | None = None,
    ):
        super().__init__(stub, name, names)
        self.target = target
        self.server = server


def tool(
    target: str,
    *,
    server: Mcp | str | None = None,
    name: str | None = None,
    names: dict[str, str] | None = None,
) -> Callable[[Callable[..., T]], Tool[T]]:
    """Declare a tool: `@tool("package.module:function")` on a stub with its signature,
    or a tool of an MCP server: `@tool("add", server=calc)`."""
    server_name = server.name if isinstance(server, Mcp) else server

    def wrap(stub: Callable[..., T]) -> Tool[T]:
        return Tool(stub, target, name, names or {}, server_name)

    return wrap


class Human(Stub[T]):
    kind = "human"

    def __init__(
        self,
        stub: Callable[..., Any],
        prompt: str | None,
        deadline: str | None,
        name: str | None,
        names: dict[str, str],
    ):
        super().__init__(stub, name, names)
        self.prompt = prompt
        self.deadline = deadline


def human(
    *,
    prompt: str | None = None,
    deadline: str | None = None,
    name: str | None = None,
    names: dict[str, str] | None = None,
) -> Callable[[Callable[..., Awaitable[T]]], Human[T]]:
    """Declare a human step: `@human(prompt="Approve {{ amount }}?", deadline="24h")` on
    `async def Approve(amount: float) -> Approval: return rg.declared()` — a typed value
    a person gives (docs/human.md)."""

    def wrap(stub: Callable[..., Awaitable[T]]) -> Human[T]:
        return Human(stub, prompt, deadline, name, names or {})

    return wrap


class Agent(Stub[T]):
    """An agent: its stub is its body (pybody.py), run once when the program is read."""

    kind = "agent"

    def __init__(
        self,
        stub: Callable[..., Any],
        ct_params: list[str],
        name: str | None,
        names: dict[str, str],
    ):
        super().__init__(stub, name, names)
        self.ct_params = ct_params

    def body(self) -> tuple[Any, ...]:
        params = {python: (name, annotation) for python, name, annotation, _ in self.parameters()}
        return tuple(run_body(self.stub, params, self.names))


@typing.overload
def agent(stub: Callable[..., T], /) -> Agent[T]: ...
@typing.overload
def agent(
    *,
    ct_params: Iterable[str] = (),
    name: str | None = None,
    names: dict[str, str] | None = None,
) -> Callable[[Callable[..., T]], Agent[T]]: ...
def agent(
    stub: Callable[..., Any] | None = None,
    /,
    *,
    ct_params: Iterable[str] = (),
    name: str | None = None,
    names: dict[str, str] | None = None,
) -> Any:
    """Declare an agent: `@agent` on a function whose signature is the agent's and whose
    body declares its nodes, edges, returns and constraints (pybody.py), ending with
    `return rg.graph(locals())`. `ct_params` are compile-time parameters, as source
    (`"Drafter: role(task: str) -> Draft"`, `"n: int = 3"`): the agent is a pattern.
    `names` maps a Python name (a parameter, a node's variable) to its rolegraph name."""

    def wrap(stub: Callable[..., Any]) -> Agent[Any]:
        return Agent(stub, list(ct_params), name, names or {})

    return wrap(stub) if stub is not None else wrap


# -- source fragments -----------------------------------------------------------------------


def _statement(text: str) -> Any:
    module = _parse(f"agent Fragment__() -> str {{\n{text}\n}}\n", text)
    agent_decl = module.decls[0]
    assert isinstance(agent_decl, ast.AgentDecl)
    if len(agent_decl.body) != 1:
        raise _fail(f"expected one statement: {text!r}")
    return agent_decl.body[0]


def _ct_params(texts: list[str]) -> tuple[ast.CtParam, ...]:
    if not texts:
        return ()
    module = _parse(f"agent Fragment__[{', '.join(texts)}]() -> str {{}}\n", ", ".join(texts))
    agent_decl = module.decls[0]
    assert isinstance(agent_decl, ast.AgentDecl)
    return agent_decl.ct_params


def _parse(text: str, what: str) -> ast.Module:
    from rolegraph.grammar import parse_module  # the front end reads the fragments

    result = parse_module(text, "<python>")
    errors = [d for d in result.diagnostics if d.is_error]
    if result.module is None or errors:
        raise _fail(f"cannot parse {what!r}: {errors[0].message if errors else 'syntax error'}")
    return result.module


# -- reflection: Python declarations → AST ---------------------------------------------------


def to_module(members: Iterable[Any]) -> ast.Module:
    """The AST of a program declared in Python, its declarations in the order given."""
    return ast.Module(decls=tuple(_decl(member) for member in members))


def _decl(member: Any) -> Any:
    match member:
        case Model():
            return ast.ModelDecl(
                name=member.name,
                provider=member.provider,
                params=tuple(
                    ast.ModelParam(name=k, value=const(v)) for k, v in member.params.items()
                ),
            )
        case Mcp():
            return ast.McpDecl(
                name=member.name,
                address=member.address,
                params=tuple(
                    ast.ModelParam(name=k, value=const(v)) for k, v in member.params.items()
                ),
            )
        case type() if issubclass(member, enum.Enum):
            notes = getattr(member, "__rolegraph_annotations__", {})
            return ast.EnumDecl(
                name=rolegraph_name(member),
                members=tuple(
                    ast.EnumMember(
                        name=item.value, annotations=_annotations(notes.get(item.value, []))
                    )
                    for item in member
                ),
            )
        case type() if issubclass(member, pydantic.BaseModel):
            return ast.TypeDecl(name=rolegraph_name(member), fields=tuple(_fields(member)))
        case Role():
            params, result = member.signature()
            return ast.RoleDecl(
                name=member.name,
                params=_params(params),
                returns=type_expr(result),
                model=_model_use(member),
                system=ast.System(text=member.system) if member.system is not None else None,
                prompt=ast.Prompt(text=member.prompt) if member.prompt is not None else None,
                tools=ast.ToolUse(
                    tools=tuple(
                        t if isinstance(t, str) else rolegraph_name(t) for t in member.tools
                    ),
                    max_steps=member.max_steps,
                )
                if member.tools is not None
                else None,
            )
        case Tool():
            params, result = member.signature()
            return ast.ToolDecl(
                name=member.name,
                params=_params(params),
                returns=type_expr(result),
                target=member.target,
                server=member.server,
            )
        case Human():
            params, result = member.signature()
            try:
                deadline = ast.Deadline(duration=member.deadline) if member.deadline else None
            except pydantic.ValidationError:
                raise _fail(
                    f"`{member.name}`: deadline {member.deadline!r} is not a duration like "
                    '"90s", "15m", "24h"'
                ) from None
            return ast.HumanDecl(
                name=member.name,
                params=_params(params),
                returns=type_expr(result),
                prompt=ast.Prompt(text=member.prompt) if member.prompt is not None else None,
                deadline=deadline,
            )
        case Agent():
            params, result = member.signature()
            return ast.AgentDecl(
                name=member.name,
                ct_params=_ct_params(member.ct_params),
                params=_params(params),
                returns=type_expr(result),
                body=member.body(),
            )
    raise _fail(f"not a declaration of a program: {member!r}")


def _model_use(role: Role) -> ast.ModelUse | None:
    if role.model is None:
        return None
    return ast.ModelUse(
        name=role.model if isinstance(role.model, str) else role.model.name,
        params=tuple(ast.ModelParam(name=k, value=const(v)) for k, v in role.model_params.items()),
    )


def _params(params: list[tuple[str, Any, Any]]) -> tuple[ast.Param, ...]:
    return tuple(
        ast.Param(
            name=name,
            type=type_expr(annotation),
            default=None if default is inspect.Parameter.empty else const(default),
        )
        for name, annotation, default in params
    )


def _fields(model_class: type[pydantic.BaseModel]) -> Iterable[ast.FieldDecl]:
    for attribute, info in model_class.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if "rolegraph" in extra:
            annotations = _annotations(extra["rolegraph"])  # type: ignore[arg-type]
        elif info.description is not None:
            annotations = (
                ast.Annotation(name="desc", args=(ast.StringLit(value=info.description),)),
            )
        else:
            annotations = ()
        yield ast.FieldDecl(
            name=info.alias or attribute,
            type=type_expr(info.annotation),
            default=None if info.is_required() else const(info.default),
            annotations=annotations,
        )


def _annotations(items: Iterable[Any]) -> tuple[ast.Annotation, ...]:
    return tuple(
        ast.Annotation(name=item[0], args=tuple(const(a) for a in item[1:])) for item in items
    )


def type_expr(annotation: Any) -> Any:
    """A Python type annotation as a type expression of the language."""
    if annotation in PRIMITIVES:
        return ast.NamedType(name=PRIMITIVES[annotation])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1 and len(args) == 2:
            return ast.OptionalType(inner=type_expr(inner[0]))
    if origin is list and len(args) == 1:
        return ast.ListType(item=type_expr(args[0]))
    if origin is dict and len(args) == 2:
        return ast.DictType(key=type_expr(args[0]), value=type_expr(args[1]))
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel | enum.Enum):
        return ast.NamedType(name=rolegraph_name(annotation))
    raise _fail(f"no rolegraph type for the Python type {annotation!r}")


def const(value: Any) -> Any:
    """A Python constant (str, int, float, bool, None, lists and dicts of them) as a literal."""
    try:
        expr = to_expr(value)
    except DiagnosticError:
        expr = None
    if expr is None or not ast.is_constant(expr):
        raise _fail(f"not a constant: {value!r}")
    return expr


# -- programs -------------------------------------------------------------------------------

Runner = Callable[..., Any]  # async (ir, inputs, model=..., **options) -> RunResult


class Program:
    """A program declared in Python: its AST, checked by the compiler on first use, and
    run by `runner` (the public API passes the runtime's; the compiler never imports it).

    `await Agent(x=...)` or `await Role(x=...)` runs one agent (or one role call) and
    returns its typed result; `await program.run("Agent", inputs, ...)` returns the whole
    `RunResult` with its trace."""

    def __init__(self, members: Iterable[Any], runner: Runner, filename: str = "<python>"):
        self.members = list(members)
        self.filename = filename
        self.runner = runner
        self.module = to_module(self.members)
        self._checked: Any = None
        self._calls: dict[str, Any] = {}
        for member in self.members:
            if isinstance(member, Stub):
                member.program = self

    def check(self) -> Any:
        """The checked program (`CheckedModule`); raises `DiagnosticError` on errors."""
        if self._checked is None:
            self._checked = self._check(self.module)
        return self._checked

    def _check(self, module: ast.Module) -> Any:
        from .check import check_module
        from .printer import to_source
        from .source import Source

        text = to_source(module)
        checked = check_module(module, self.filename, _no_imports, text)
        if checked.errors:
            raise DiagnosticError(checked.errors, Source(self.filename, text))
        return checked

    def ir(self, agent: str) -> Any:
        irs = self.check().irs
        if agent not in irs:
            raise _fail(f"no agent `{agent}` in this program; agents: {', '.join(irs)}")
        return irs[agent]

    async def run(self, agent: str, inputs: dict[str, Any], **options: Any) -> Any:
        return await self.runner(self.ir(agent), _plain(inputs), **options)

    async def call(self, member: Stub, inputs: dict[str, Any], model: Any = None) -> Any:
        ir = self.ir(member.name) if isinstance(member, Agent) else self._call_ir(member)
        result = await self.runner(ir, _plain(inputs), model=model)
        _, annotation = member.signature()
        return pydantic.TypeAdapter(annotation).validate_python(result.result)

    def _call_ir(self, member: Stub) -> Any:
        """A role or tool called on its own: the IR of a one-node agent around it."""
        if member.name not in self._calls:
            params, result = member.signature()
            name = f"Call{member.name}__"
            node = "call" if all(p != "call" for p, _, _ in params) else "call_"
            wrapper = ast.AgentDecl(
                name=name,
                params=_params(params),
                returns=type_expr(result),
                body=(
                    ast.NodeDecl(
                        name=node,
                        role=member.name,
                        args=tuple(ast.Arg(name=p, value=ast.Ref.of(p)) for p, _, _ in params),
                    ),
                    ast.ReturnStmt(value=ast.Ref.of(node)),
                ),
            )
            module = self.module.with_changes(decls=(*self.module.decls, wrapper))
            self._calls[member.name] = self._check(module).irs[name]
        return self._calls[member.name]


def _plain(value: Any) -> Any:
    """Inputs as the runtime takes them: records as dicts (by their rolegraph field
    names), enum members as their names."""
    match value:
        case pydantic.BaseModel():
            return _plain(value.model_dump(by_alias=True))
        case enum.Enum():
            return value.value
        case dict():
            return {k: _plain(v) for k, v in value.items()}
        case list() | tuple():
            return [_plain(v) for v in value]
    return value


def _no_imports(text: str, name: str) -> tuple[None, list[Any]]:
    return None, [
        diagnostic(codes.CANNOT_COMPILE, "a Python program imports no modules", file=name)
    ]
