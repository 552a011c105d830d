"""The registry of diagnostic codes: a title and a long explanation for each.

Codes are grouped by the phase that reports them: E01xx syntax (the front end),
E02xx names and imports, E03xx types, E04xx graph analyses, E05xx temporal
constraints. Warnings use W and the same numbering. `rolegraph explain CODE`
prints the explanation.

Longer than ~500 lines: a registry (data), each code with its explanation.
"""

from __future__ import annotations

from typing import NamedTuple


class CodeInfo(NamedTuple):
    title: str
    explanation: str


CODES: dict[str, CodeInfo] = {}


def _code(code: str, title: str, explanation: str) -> str:
    assert code not in CODES, code
    CODES[code] = CodeInfo(title, explanation)
    return code


# --- E01xx: syntax --------------------------------------------------------------------

UNEXPECTED_CHARACTER = _code(
    "E0100",
    "unexpected character",
    """
The lexer met a character that cannot start any token of the language here,
for example `$` or a stray backtick. Remove it, or put it inside a string.
""",
)

UNEXPECTED_TOKEN = _code(
    "E0101",
    "unexpected token",
    """
The parser met a token that cannot come at this point of the program. The
message says what could have come instead. Common causes: a missing comma
between arguments, a missing `)` or `}`, or a statement written outside an
agent body.

    critic = Critic(task draft: writer)     // error: expected `,` or `)`
    critic = Critic(task, draft: writer)    // fixed
""",
)

UNEXPECTED_EOF = _code(
    "E0102",
    "unexpected end of file",
    """
The file ended in the middle of a declaration: usually a block that was opened
with `{` (or a list with `[`, or arguments with `(`) and never closed. The note
points at the opening bracket.
""",
)

UNTERMINATED_STRING = _code(
    "E0103",
    "unterminated string",
    """
A string literal was opened with `"` and the line ended before the closing
quote. Strings in double quotes stay on one line; for a multi-line prompt use a
triple-quoted string:

    prompt \"\"\"
      Task: {{ task }}
    \"\"\"
""",
)

INVALID_ESCAPE = _code(
    "E0104",
    "invalid escape sequence",
    """
Inside strings, a backslash starts an escape: `\\n`, `\\t`, `\\r`, `\\\\`, `\\"`,
`\\0` and `\\u{1F600}` (a code point in hex). Any other character after a
backslash is an error; write `\\\\` for a literal backslash.
""",
)

KEYWORD_AS_NAME = _code(
    "E0105",
    "keyword used as a name",
    """
Keywords (`role`, `agent`, `model`, `max`, `when`, `return`, `next`, ...) are
reserved and cannot name a declaration, a node or a parameter. Record fields
and enum members are the exception: `type Job { type: str, max: int }` is fine.
Rename the thing, for example `model_` or `max_steps`.
""",
)

FAT_ARROW = _code(
    "E0106",
    "`=>` is not an edge",
    """
Edges are written with a thin arrow: `critic -> writer`. `=>` has no meaning in
the language.
""",
)

UNCLOSED_BLOCK = _code(
    "E0107",
    "unclosed block",
    """
A new top-level declaration started while a block was still open: a `}` is
missing. The label shows where the unclosed block began.
""",
)

DUPLICATE_ROLE_ITEM = _code(
    "E0108",
    "duplicate item in a role",
    """
A role has at most one `model`, one `system`, one `prompt` and one `tools`
line. Remove the duplicate, or merge the two texts into one.
""",
)

UNKNOWN_GENERIC = _code(
    "E0109",
    "unknown generic type",
    """
Only two types take type arguments: `list[T]` and `dict[str, T]`. For an
optional value write `T?`.
""",
)

BAD_BOUND = _code(
    "E0110",
    "invalid bound",
    """
Bounds (`max N` on an edge, a map or a tool loop, and `x N` replication) must
be whole numbers of at least 1: a bound of 0 would make the edge or node dead.
""",
)

BAD_ARGUMENT_ORDER = _code(
    "E0111",
    "positional argument after a named one",
    """
In a call, positional arguments come first and named ones after them:

    critic = Critic(task, draft: writer)    // ok
    critic = Critic(draft: writer, task)    // error
""",
)

DUPLICATE_ARGUMENT = _code(
    "E0112",
    "argument given twice",
    """
A call, a port binding or a model parameter block names the same parameter
twice. Keep one.
""",
)

INVALID_CONSTRUCT = _code(
    "E0113",
    "invalid construct",
    """
The text parses, but what it says cannot be represented: an enum with no
members, a positional port binding on an edge (`-> writer(critic.feedback)`
instead of `-> writer(feedback: critic.feedback)`), a float literal too large
for a float, or similar. The message says which.
""",
)

NOT_TEXT = _code(
    "E0114",
    "not UTF-8 text",
    """
A `.agent` file is UTF-8 text (it may start with a byte order mark). This one is
not: a byte that UTF-8 cannot decode, or a NUL byte, which no text file holds — a
binary file, or text saved in another encoding (UTF-16, which Windows calls
"Unicode"; Latin-1). The error points at the first such byte; save the file as
UTF-8.
""",
)


NESTING_TOO_DEEP = _code(
    "E0115",
    "nested too deeply",
    """
A declaration, or a prompt template, nests deeper than rolegraph reads. In source
text, a declaration's tree is at most 64 levels deep: the declaration, a statement,
and each bracket, operator, type argument and dict entry inside it count one level
(`list[list[str]]` is two type levels; `a or b or c` is two operator levels). A
prompt template is at most 20 levels deep: each `{% if %}`, `{% for %}` or other block
open around a tag, and, inside the tag, each bracket, operator, attribute access
(`.`) and filter (`|`). JSON (run inputs, edits, datasets) is at most 100 levels of
arrays and objects. A program built in Python rather than parsed is held to the same
bound, counted in AST nodes (68, a little more than the parser's tree has for the
same text).

The limits keep every stage of the compiler and the runtime within Python's stack
whatever the input. Name the parts instead: a node for a sub-result, a record type
for a nested type, a `{% set %}` variable for a sub-expression of a template.
""",
)


# --- E02xx: names and imports ------------------------------------------------------------

UNDEFINED_NAME = _code(
    "E0201",
    "undefined name",
    """
A name is used that no declaration, import, parameter or node defines. The hint
suggests the closest visible name when there is one.
""",
)

DUPLICATE_NAME = _code(
    "E0202",
    "name declared twice",
    """
Two declarations of a module, two nodes of an agent, or an import and a
declaration share a name. Names must be unique in their scope.
""",
)

MODULE_NOT_FOUND = _code(
    "E0203",
    "module not found",
    """
An import names a module that does not exist. The standard library is imported as
`std.NAME` (`from std.types import Answer`); other files by a path relative to the
importing file (`import "./roles.agent"`).
""",
)

IMPORT_CYCLE = _code(
    "E0204",
    "import cycle",
    """
Modules import each other in a cycle. Move what they share into a third module
that both import.
""",
)

WRONG_KIND = _code(
    "E0205",
    "wrong kind of name",
    """
A name refers to the wrong kind of declaration: a type where a role is called, a
role where a type is expected, a tool listed as a model, and so on.
""",
)


IMPORT_OUTSIDE_ROOT = _code(
    "E0206",
    "an import leaves the project",
    """
A file import names a `.agent` file inside the project: the directory of the file that
is checked (with everything below it), or the root named with `--root DIR` (`root=` in
Python). An absolute path, a path that climbs out with `..`, a symbolic link that points
outside, or a file that is not a `.agent` file is refused before it is opened: a program
may not read files elsewhere (its diagnostics would quote them).

    import "/etc/hosts"               // error: an absolute path
    import "../../shared/roles.agent" // error, unless --root names a directory above both
    import "./lib/roles.agent"        // fine
    import std.patterns               // the standard library is always there
""",
)


# --- E03xx: types --------------------------------------------------------------------------

TYPE_MISMATCH = _code(
    "E0301",
    "type mismatch",
    """
A value of one type is given where another is expected: an argument, a port
binding, a default, or a field. `int` is accepted where `float` is expected, and
`none` or `T` where `T?` is expected; nothing else converts implicitly.
""",
)

UNKNOWN_PARAMETER = _code(
    "E0302",
    "unknown parameter",
    """
A named argument or port binding names a parameter that the role, agent or tool
does not declare.
""",
)

MISSING_ARGUMENT = _code(
    "E0303",
    "missing argument",
    """
A parameter without a default is not given a value. Give it in the node's
arguments, or bind it on every edge into the node when the node fires only
through those edges.
""",
)

TOO_MANY_ARGUMENTS = _code(
    "E0304",
    "too many positional arguments",
    """
A call gives more positional arguments than the callee has parameters.
""",
)

UNKNOWN_FIELD = _code(
    "E0305",
    "unknown field",
    """
A field is read that the value's type does not have: a record without that field,
or a list, a string or a number, which have no fields.
""",
)

MAP_NEEDS_LIST = _code(
    "E0306",
    "map over a value that is not a list",
    """
`name = Role(x) for x in SOURCE max N` fires once per item of SOURCE, which must be
a list.
""",
)

NOT_BOOL = _code(
    "E0307",
    "condition is not a bool",
    """
Guards (`when ...`), the operands of `and`, `or` and `not`, and conditions inside
formulas must be bools. Compare explicitly: `when critic.feedback != ""`.
""",
)

RETURN_TYPE = _code(
    "E0308",
    "return type mismatch",
    """
A `return` (or a `-> return(...)` edge) gives a value whose type is not the agent's
declared result type.
""",
)

UNDECLARED_TEMPLATE_VARIABLE = _code(
    "E0309",
    "undeclared variable in a prompt",
    """
A prompt or system template uses a variable that is not a parameter of the role.
Templates see exactly the role's parameters (and names they define themselves,
such as `{% for x in items %}`).
""",
)

TEMPLATE_SYNTAX = _code(
    "E0310",
    "prompt template syntax error",
    """
A prompt or system text is not a valid jinja2 template.
""",
)

TOOL_SIGNATURE = _code(
    "E0311",
    "tool signature mismatch",
    """
A `tool` declaration disagrees with the Python function it names: different
parameter names, a different number of parameters, a parameter the function
requires that the declaration lacks, a positional-only parameter (tools are called
with keyword arguments), or annotations that do not match the declared types.

The function is read from its module's source, never imported: checking a file
runs none of its tools' code (see W0324 for what the source cannot tell).
""",
)

TOOL_IMPORT = _code(
    "E0312",
    "tool function not found",
    """
A `tool` names a Python function as "package.module:function", and importing it
would certainly fail: no such module, no such name in it, a syntax error in the
module, or a name that is a module rather than a function. The module is looked for
as an import would look for it — on `sys.path`, then in the folder of the `.agent`
file that declares the tool, then in the working directory — but its file is only
read, never run; the hint says where it looked.
""",
)

BAD_MODEL_PARAMETER = _code(
    "E0313",
    "invalid model parameter",
    """
A model parameter has the wrong type or is out of range (temperature between 0
and 2, top_p between 0 and 1, max_tokens at least 1, ...).
""",
)

BAD_OPERANDS = _code(
    "E0314",
    "operator applied to the wrong types",
    """
Comparisons need comparable operands: `==` between a string and a number is never
true; `<` needs numbers (or two strings); `in` needs a list, a dict or a string
on its right.
""",
)

UNKNOWN_FUNCTION = _code(
    "E0315",
    "unknown function",
    """
Expressions may call these built-in functions: `len(x)` of a list, dict or string.
""",
)

BAD_ANNOTATION = _code(
    "E0316",
    "invalid annotation or default",
    """
A field or enum member carries an annotation rolegraph does not know, or with the
wrong arguments (`@desc` takes one string), or a default of the wrong type.
""",
)

MULTIPLYING_LOOPS = _code(
    "W0323",
    "a prompt that grows multiplicatively",
    """
A prompt template loops over an input inside another loop over an input, and neither
loop reads the other's variable, so the prompt grows with the product of their sizes:
a list of 1,000 items iterated inside a loop over the same list makes a million
iterations. (A loop over `doc.lines` inside `for doc in docs` walks the input once and
is fine.) Nested loops over constant ranges whose iterations multiply past what a render
allows are reported too.

    {% for a in items %}{% for b in items %}{{ a }} vs {{ b }}{% endfor %}{% endfor %}

At run time a render stops past its bounds (a million steps or characters, by default)
with `PromptTooLarge`, naming the role; this warning says so before any run. Loop over
one collection, or bound the inner loop with a constant slice: `{% for b in items[:5] %}`.
""",
)

BAD_BOUND_NAME = _code(
    "E0322",
    "a bound names no compile-time constant",
    """
A bound (`x n`, `max rounds`, `for step in plan.steps max n`) is a number, or the name
of an `int` compile-time constant of the agent, with a default of at least 1:
`agent SelfConsistency[Solver: role(question: str) -> Answer, n: int = 5](...)`.
Where the pattern is used (`SelfConsistency[MySolver, n: 3](q)`), the value given
(at least 1) replaces the name; the default serves when none is given.
""",
)

BAD_PATTERN_ARGUMENT = _code(
    "E0317",
    "invalid compile-time argument",
    """
A pattern is instantiated with compile-time arguments that do not fit its
compile-time parameters: a role where a constant is expected, a role whose
signature differs from the one declared, a missing argument, or arguments given
to an agent that takes none.
""",
)

MISSING_PROMPT = _code(
    "E0318",
    "role without a prompt",
    """
Every role needs a `prompt`: the template the model is called with.
""",
)

ROLE_WITHOUT_MODEL = _code(
    "W0319",
    "role without a model",
    """
A role names no model, so it runs only when a model is given for the whole run
(`rolegraph run ... --model mock`). Add `model NAME`.
""",
)

UNKNOWN_MODEL_PARAMETER = _code(
    "W0320",
    "unknown model parameter",
    """
A model parameter is not one rolegraph knows. It is passed to the provider as
is; check its spelling.
""",
)

UNKNOWN_ANNOTATION = _code(
    "W0321",
    "unknown annotation",
    """
An annotation other than `@desc` is ignored.
""",
)


TOOL_UNCHECKED = _code(
    "W0324",
    "tool not checked without running it",
    """
`rolegraph check` (and `graph`, `compile`, `edit`, a search's editor) compares each
`tool` declaration with its Python function by reading the module's source, and
never imports it: an import runs the module's code, and checking a file must not
run anything. Here the source cannot tell what the function is:

- the module is built in or compiled (`"os:system"` comes from `posix`, a
  built-in module, through `from posix import *`; `math` is a C extension);
- the name may come from `from x import *`, a module `__getattr__`, or a
  call that makes names when the module runs (`globals()`, `setattr`, `exec`, `:=`);
- the name is a class, an attribute (`"m:obj.method"`), or a value computed when
  the module runs (`f = make_tool()`), or it is bound under `if`/`try`.

It is a warning, not an error: the declaration may well be right, and `rolegraph
run` imports the tool and checks every call against it (the declared parameters
are passed by name, the result is checked against the declared type), so a wrong
declaration still fails before a wrong value goes on. `--strict` makes it an error.
To have it checked, point the declaration at a plain `def` in Python source — a
two-line wrapper around the compiled function will do.
""",
)


# --- E04xx: the graph --------------------------------------------------------------------

UNBOUNDED_CYCLE = _code(
    "E0401",
    "unbounded cycle",
    """
The graph without its loop edges (the edges with `max`) must be acyclic, so that
every run terminates. This cycle has no `max` edge. Bound one of its explicit
edges (`critic -> writer when not critic.ok max 3`); a cycle of data edges alone
(a node that needs its own output) cannot be bounded and must be rewritten.
""",
)

USELESS_BOUND = _code(
    "W0402",
    "bound on an edge that closes no cycle",
    """
`max` bounds how often a loop edge is taken; this edge closes no cycle, so each
firing of its source takes it at most once anyway.
""",
)

RACE = _code(
    "E0403",
    "race",
    """
A node reads the output of a node that is not ordered before it. When a node fires
through an explicit edge, its arguments not bound by the edge read the latest
output of their nodes, and guards and port bindings read outputs too: each node
read must be the edge's source or one of its ancestors, or the value read would
depend on timing. Bind the value on the edge, or add a data edge.
""",
)

UNREACHABLE_NODE = _code(
    "W0404",
    "a node that no run fires",
    """
No run can fire this node: it waits for a node that never fires, only edges from
nodes that never fire enter it, or every run returns (or stalls) before it can fire.

    w = Writer(task)
    c = Critic(task, draft: w)
    return w          // returns at step 2: `c` would fire at step 2 too, and is cancelled

Make the return wait for it (`c -> return(w) else`), or remove the node. It is a
warning, not an error, though it is certain: no run fails because of it, and every
run still returns what the agent promises (a constraint that needs the node, like
`always(return -> once c)`, is then violated by every run: that is the error E0506).
""",
)

UNUSED_OUTPUT = _code(
    "W0405",
    "output never used",
    """
No node, edge, return or constraint reads this node's output, and no edge leaves
it: its model calls are wasted.
""",
)

POSSIBLE_STALL = _code(
    "W0406",
    "possible stall",
    """
Some run can end with nothing able to fire and no return taken: it fails with
`Stalled`. The note shows such a run, and what each waiting node waits for.
""",
)

NO_RETURN = _code(
    "E0407",
    "no reachable return",
    """
The agent has no `return`, or none that any run can reach.
""",
)


RECURSIVE_AGENT = _code(
    "E0408",
    "an agent calls itself",
    """
An agent used as a role inside another is expanded into a subgraph, with a known worst
case of calls; an agent that calls itself, directly or through others, would have no
bound. Write the repetition as a bounded loop edge (`a -> b when ... max N`) instead.
""",
)

AGENTS_NESTED_TOO_DEEP = _code(
    "E0409",
    "agents nested too deeply",
    """
An agent used as a node is expanded into a subgraph, and one of its nodes may be an
agent in turn. Such calls nest at most 32 levels deep (an agent whose nodes are roles
is one level; an agent that calls it, two). The IR nests one subgraph per level, and a
run one sub-run per level, so the bound keeps both within Python's stack. Flatten a
chain of agents into one agent's nodes, or make its steps roles.
""",
)


FAILED_OUTPUT_READ = _code(
    "E0410",
    "an `on error` edge reads the output of the node that failed",
    """
An `on error` edge is taken when its source's firing failed: the source has no new
output then, only its error. So in `x -> return(x) on error` or
`x -> fallback(plan: x) on error`, `x` names an output that does not exist. Read
`x.error` (the failure's message, a `str`) or another node's output instead:

    x -> return(backup) on error
    x -> fallback(reason: x.error) on error
""",
)


ELSE_BESIDE_UNGUARDED = _code(
    "W0411",
    "an `else` edge beside an unguarded edge",
    """
`else` is taken when none of its source's `when` edges was taken; an unguarded edge
(no `when`, no `else`, no `on error`) is taken after every successful firing. Beside
each other, both are taken every time:

    c -> w(feedback: c.feedback) max 3     // taken at every firing of c
    c -> return(w) else                    // taken too: no `when` edge was taken

so the run returns after the first review and the loop never runs. You probably meant
a guard on the first edge: `c -> w(feedback: c.feedback) when not c.ok max 3`.
""",
)

ELSE_WITHOUT_WHEN = _code(
    "W0412",
    "an `else` edge with no `when` edge beside it",
    """
`else` is taken when none of its source's `when` edges was taken. With no `when` edge
out of the same node, it is taken after every successful firing: write it as an
unguarded edge (drop `else`), or add the `when` edge it is the alternative to.
""",
)


READ_OUTSIDE_ARGUMENTS = _code(
    "E0413",
    "`latest` or `history` outside a node's arguments",
    """
`latest(x)` and `history(x)` read x's outputs *before a firing*: the latest one, or
all of them in logical-time order. They belong in a node's arguments (and a map's
source), which a firing evaluates. In a guard, a port, a returned value or a
constraint, a plain `x` already reads x's latest output; for a list of every output,
give it to a node as an argument.
""",
)


ERROR_READ_NOT_FAILED = _code(
    "E0414",
    "`x.error` read where `x` may not have failed",
    """
`x.error` is the message of x's latest firing when that firing failed, and none
otherwise: when x's latest firing succeeded, or x has not fired. It is a `str` only
where every run reaches the read after x's latest firing failed; the checker explores
every run (compiler/paths.py) and proves that for each read. Elsewhere it may be none,
and passed where a `str` is needed (a parameter typed `str`, `+` with a string, the
item `contains` looks for in a string) a run would fail on it.

    x = flaky(1)
    x -> x on error max 1
    s = show(z, x.error)        // error: x's second firing may succeed
    fix = Fix(reason: x.error)
    x -> fix on error           // fine: `fix` fires only after x failed

Read it on the target of an `x -> ... on error` edge (its arguments), in the ports of
that edge, or on an edge out of that target; or make the parameter `str?`, which takes
none. Where none is defined the read needs no proof: compared (`x.error == "timeout"`,
`x.error in [...]`: false for none), or given to a built-in where its implementation
takes none (`lower`, `upper`, `len`, `contains(x.error, ...)`, `contains_all`:
compiler/builtins.py `takes_none`). Past the explorer's bound a read not proven is
reported too: not proven is not proven.
""",
)


ERROR_READ_AMBIGUOUS = _code(
    "E0415",
    "`x.error` of a node whose output may have a field `error`",
    """
`x.error` reads x's failure when x's latest firing failed, and `.error` of its output
when it succeeded: for an output with a field (or key) named `error`, a record with
such a field or a dict, that is the field's value, not none, and neither its type nor
`str?` describes what the read gives.

    type R { error: int }
    x = rec(1)                  // -> R
    s = show(y, x.error)        // error: the failure, or R's field `error`?

Rename the field (`type R { code: int }`): then `x.error` is x's failure, none when
x succeeded (E0414 says where it is a `str`).
""",
)


# --- E05xx: temporal constraints ------------------------------------------------------------

ERROR_IN_FORMULA = _code(
    "E0507",
    "`x.error` in a formula",
    """
A condition in an `ensure` or `enforce` formula is tested on the outputs of successful
firings (runtime/trace.py): there `x.error` is always none, and a condition that uses
it tests nothing, or fails the run (`x.error + "!"`). A failure is a proposition of
its own:

    ensure always(backup -> once failed(primary))

`failed(x)` holds at a step where x fired and failed (docs/ltl.md).
""",
)

CONSTRAINT_COUNTEREXAMPLE = _code(
    "W0501",
    "constraint can be violated",
    """
The static checker found a run of the graph (guards taken as free choices, loop
bounds respected) whose trace violates an `ensure` constraint. The note shows the
counterexample trace. Under `--strict` this is an error.
""",
)

UNKNOWN_NODE_IN_FORMULA = _code(
    "E0502",
    "unknown node in a formula",
    """
A formula names a node that the agent does not declare.
""",
)

FUTURE_UNDER_PAST = _code(
    "E0503",
    "future operator under a past operator",
    """
A past operator (`once`, `historically`, `yesterday`, `since`) has an operand that
uses a future operator (`next`, `eventually`, `always`, ...). Such a formula cannot
be monitored step by step; rewrite it (docs/ltl.md).
""",
)

CONSTRAINT_UNDECIDED = _code(
    "W0504",
    "constraint not proven within the exploration limit",
    """
The graph has more runs than the static checker explores. The constraint is still
monitored at run time.
""",
)

ALWAYS_VIOLATED = _code(
    "E0506",
    "every run violates the constraint",
    """
The static checker explored every run of the agent, and each one that returns
violates this `ensure`: every run would fail with `ConstraintViolation`. The note shows
one such run. (Where only some runs violate it, the checker warns instead: W0501.)
""",
)

SHIELD_WILL_BLOCK = _code(
    "W0505",
    "enforce shield can block a firing",
    """
Some run of the graph would violate an `enforce` constraint; at run time the shield
does not start the offending firing (its edge counts as false). The note shows the
run.
""",
)


# --- E06xx: edits --------------------------------------------------------------------------

UNKNOWN_EDIT = _code(
    "E0601",
    "unknown edit operator",
    """
An edit proposal (JSON) names an operator rolegraph does not have. The message lists
the operators there are.
""",
)

NO_SUCH_SITE = _code(
    "E0602",
    "the edit's site does not exist",
    """
An edit names a role, model, agent, node or edge that the program does not have, or
one of the wrong kind (a model where a role is expected).
""",
)

MALFORMED_EDIT = _code(
    "E0603",
    "malformed edit",
    """
An edit proposal is not valid JSON, or its fields are missing or of the wrong type.
""",
)

EDIT_BREAKS_PROGRAM = _code(
    "E0604",
    "the edit would not check",
    """
Applied, the edit gives a program with errors; it is not applicable here. The notes
give the checker's diagnostics for the edited program.
""",
)

UNTRUSTED_TOOL = _code(
    "E0605",
    "an edit may not bring in a new tool target",
    """
A `tool` declaration names Python (`"module:function"`) that the checker imports and a
run calls. Edits come from places the program's author does not control (an LLM's JSON,
a script, a donor program), so an edit may declare a tool only with a target that a
tool of the edited program already names, spelled the same way: re-using it under
another name is fine; `"subprocess:getoutput"` or a new target for an existing tool's
name is refused, whichever edit carries it (`crossover`, `add_decl`, `replace_decl`, a
script). The check runs before the checker, so nothing is imported.

To let edits bring in more, the caller names what it trusts:

    rolegraph.editor("x.agent", trust=TrustPolicy(tools={"mypkg.tools:*"}))
    rolegraph edit x.agent '...' --allow-tool 'mypkg.tools:search'

`"module:*"` allows any public function of that module (one name, no dots).
""",
)

UNTRUSTED_IMPORT = _code(
    "E0606",
    "an edit may not bring in a new import",
    """
An imported module brings its own declarations, and with them its tools: Python that
a run may call (the standard library's `std.toolbox` has `run_python`). An edit may
keep, move or re-use the imports the edited program has, but not add an import of
another module, directly (`add_decl`) or with a donor program (`crossover`). Allow
more with `TrustPolicy(imports={"std.*", "./roles.agent"})`, or `--allow-import` on
the command line.
""",
)

UNTRUSTED_CONNECTION = _code(
    "E0607",
    "an edit may not point a model at a new endpoint",
    """
A model's `api_base`, `api_key` and `api_version` decide where its calls go and which
credential they carry, and a parameter rolegraph does not know is passed to the provider
as is (`base_url`, headers...). An edit that set one of those to a new value could send
every prompt, and the provider's key, elsewhere. An edit may set the parameters that
only shape a request (temperature, max_tokens, top_p, seed, stop, timeout, retries, ...)
freely, and the others only to a value some model of the program already has.
""",
)

EDIT_NOT_OFFERED = _code(
    "E0608",
    "this kind of edit is not offered here",
    """
The edit names a kind rolegraph has, but not one the caller accepts here. The LLM
meta-optimizer accepts exactly the operators of the catalogue it shows the proposer;
the steps of `diff` scripts (`add_decl`, `replace_decl`, `insert_statement`, ...) carry
arbitrary source text and are not among them.
""",
)


# --- E062x: MCP servers and their tools ---------------------------------------------------

MCP_ADDRESS = _code(
    "E0620",
    "not an MCP server address",
    """
An `mcp` declaration names its server by a command that speaks MCP on stdin and
stdout, or by the URL of a streamable-HTTP endpoint:

    mcp files = "python3 files_server.py --root data"     // started by each run
    mcp search = "http://127.0.0.1:8931/mcp"              // reached over HTTP

The command is split into words as a POSIX shell would (quotes group words; nothing
is expanded, no shell runs it) and started in the folder of the `.agent` file. A
URL's scheme is `http` or `https`, with a host.
""",
)

MCP_PARAMETER = _code(
    "E0621",
    "bad MCP server parameter",
    """
The parameters of an `mcp` declaration are:

    timeout: 30            // seconds a tool call may take (then the firing fails)
    connect_timeout: 30    // seconds to start the server and open the session
    env: {KEY: "value"}    // extra environment of a stdio server's process
    cwd: "servers"         // a stdio server's working folder, from the .agent file's
    headers: {Authorization: "Bearer ..."}   // HTTP headers of a URL's requests

`env` and `cwd` belong to a command, `headers` to a URL.
""",
)

NOT_AN_MCP_SERVER = _code(
    "E0622",
    "the tool's server is not an `mcp` declaration",
    """
A tool of an MCP server names the server's declaration before the tool's name:

    mcp calc = "python3 calc_server.py"
    tool add(a: int, b: int) -> int = calc.add
    tool weather(city: str) -> str = calc["get-weather"]   // any name the server uses

The name before the dot must be an `mcp` declaration of this module (or one it
imports with `from m import calc`).
""",
)

MCP_TOOL_MISMATCH = _code(
    "E0623",
    "the tool does not match the MCP server's schema",
    """
`rolegraph check --connect` starts (or reaches) each MCP server a file declares, asks
it for its tools (`tools/list`), and compares each `tool` declaration with the
server's description of that tool: the tool exists, every parameter the declaration
passes is one of the tool's, every parameter the tool requires is declared, each
parameter's type fits the tool's input schema, and, where the tool describes its
result (an output schema), that result fits the declared result type.

Without `--connect`, checking runs no code and starts no server: a declaration is
checked only against itself.
""",
)

MCP_UNREACHABLE = _code(
    "E0624",
    "cannot reach the MCP server",
    """
`rolegraph check --connect` could not start the server's command, open a session
with it within its `connect_timeout`, or list its tools. The message gives the cause
and the end of what the server wrote on its standard error. The `mcp` extra must be
installed: `pip install 'rolegraph[mcp]'`.
""",
)

UNTRUSTED_MCP_SERVER = _code(
    "E0625",
    "an edit may not bring in a new MCP server",
    """
An `mcp` declaration runs a command, or sends tool calls to a URL, with its
environment and headers. An edit may keep, move or re-use the MCP servers the
edited program declares (same address and parameters), and the tools of those
servers the program declares, but never declare a new server, point one elsewhere,
or call a tool of a server that the program does not call.
""",
)

MCP_PLAIN_HTTP = _code(
    "W0620",
    "an MCP server reached over plain HTTP",
    """
A URL `http://` to a host other than this machine (`localhost`, `127.0.0.1`, `::1`)
sends every tool call, its arguments and its result, and the declaration's `headers`
(a bearer token...), unencrypted over the network. Use `https://`, or reach the server
through a tunnel on loopback.
""",
)

MCP_UNUSED_SERVER = _code(
    "W0621",
    "an MCP server no tool names",
    """
No `tool` declaration of this module names this server (`tool t(...) -> T =
server.name`), so no run starts or calls it. Declare its tools, or remove it.
""",
)

# --- E07xx: backends (Python) ---------------------------------------------------------------

NOT_A_DECLARATION = _code(
    "E0701",
    "not a declaration of a program",
    """
A program declared in Python (what `rolegraph compile` writes) lists models, pydantic
records, enums, and stubs decorated with `rolegraph.role`, `rolegraph.tool` or
`rolegraph.agent`. This member is none of those, or its signature lacks a type, or a
type it uses has no rolegraph equivalent (str, int, float, bool, list[T],
dict[str, T], T | None, records and enums are the types).
""",
)

CANNOT_COMPILE = _code(
    "E0702",
    "cannot compile this program to Python",
    """
`rolegraph compile` writes one self-contained module: the declarations a program
imports with `from M import a, b` are copied into it. A namespace import
(`import std.patterns`, then `patterns.Debate`) is not flattened yet; import the names
you use with `from std.patterns import Debate`.
""",
)


# --- E08xx: tests in `.agent` files --------------------------------------------------------

TEST_WITHOUT_RUN = _code(
    "E0801",
    "a test runs one agent",
    """
A `test` block has exactly one `run Agent(args)`: the run its `mock` replies feed and
its `expect` formulas judge.
""",
)

BAD_TEST_VALUE = _code(
    "E0802",
    "a value in a test does not fit its type",
    """
The arguments of `run` and the replies of `mock` are constants (literals, lists and
records written `{field: value}`), and each must fit its type: an argument the agent's
parameter, a reply the role's result type (or, for a role with tools, a tool call
`{tool: "name", arguments: {...}}`).
""",
)

UNKNOWN_IN_EXPECT = _code(
    "E0803",
    "an `expect` names something the run does not have",
    """
The conditions of an `expect` formula read the run's nodes, the agent's parameters,
`result` (the value the run returned), `calls(Role)` (how many model calls that role
made) and `firings(node)` (how many times the node fired).
""",
)


# --- human steps (docs/human.md): E0116 syntax, E042x graph and answers ----------------------

BAD_DEADLINE = _code(
    "E0116",
    "a deadline is not a duration",
    """
The `deadline` of a human step is a string holding a duration: a number and a unit,
`d` (days), `h` (hours), `m` (minutes) or `s` (seconds), or several of them from the
largest unit down, with no spaces.

    deadline "24h"       // a day
    deadline "1h30m"     // an hour and a half
    deadline "tomorrow"  // error: not a duration
""",
)

DEADLINE_WITHOUT_ON_ERROR = _code(
    "W0420",
    "a human step's deadline can fail the run",
    """
A human step with a `deadline` fails its firing when no answer came in time. Like any
failed firing, that fails the whole run unless an `on error` edge out of the node
routes it:

    approval = Approve(ticket)
    approval -> escalate on error        // no answer within the deadline
""",
)

BAD_ANSWER = _code(
    "E0421",
    "an answer does not fit the question's type",
    """
An answer given to a paused run (`rolegraph resume RUN --answer '{...}'`,
`rolegraph.resume(...)`, or typed at the terminal) is JSON that must fit the result
type of the human step that asked. An answer that does not fit is refused with the
reason; the run stays paused, with its question and everything it did kept, and can
be answered again.
""",
)

NO_SUCH_QUESTION = _code(
    "E0422",
    "no such pending question",
    """
`rolegraph resume RUN --answer ...` answers a question the run asked and is waiting
for. When the run waits for several (human steps in parallel branches), name the one
you answer with `--question ID` (`rolegraph runs --pending` lists them); a question
that was answered already, or an id the run never asked, is refused.
""",
)

DEADLINE_PASSED = _code(
    "E0423",
    "the question's deadline passed",
    """
A human step with a `deadline` takes answers until its deadline (counted from when the
question was first asked). After it, an answer is refused; resume the run instead: the
step's firing fails with a missed deadline, and its `on error` edge routes it (with no
such edge, the run fails).
""",
)


# --- E09xx: requests to `rolegraph serve` ---------------------------------------------------

BAD_REQUEST_JSON = _code(
    "E0900",
    "the request body is not JSON",
    """
`POST /agents/NAME/runs` takes the agent's inputs as one JSON object, parameter name to
value: `{"task": "Explain recursion."}`. The place is in the request body (line and
column); the answer is `400 Bad Request`.
""",
)

UNKNOWN_AGENT = _code(
    "E0901",
    "no agent of that name is served",
    """
The server serves the agents of the `.agent` files in its folder that check without
errors, by their declared names (`stem.Name` when two files declare the same name).
`GET /agents` lists them; a file with errors serves none of its agents, and
`GET /files` gives its diagnostics. The answer is `404 Not Found`.
""",
)

INPUTS_NOT_AN_OBJECT = _code(
    "E0902",
    "the inputs are not a JSON object",
    """
A run's inputs are a JSON object with one member per parameter of the agent, as
`rolegraph run --input` takes them: `{"task": "..."}`, and `{}` for an agent without
parameters (or whose parameters all have defaults).
""",
)

UNKNOWN_INPUT = _code(
    "E0903",
    "an input the agent has no parameter for",
    """
Each member of the inputs names a parameter of the agent. The place is the agent's
declaration, which lists its parameters.
""",
)

MISSING_INPUT = _code(
    "E0904",
    "an input the agent needs is missing",
    """
A parameter without a default needs a value in the inputs. The place is the parameter's
declaration; give it a default there (`feedback: str = ""`) to make it optional.
""",
)

INPUT_TYPE = _code(
    "E0905",
    "an input does not fit its parameter's type",
    """
Each input is validated against its parameter's declared type, as the runtime does
when it starts a run: `str`, `int`, `float` (an integer is taken), `bool`, lists,
dicts with string keys, optionals (`null`), enums (one of the member names) and
records (a JSON object with the record's fields). The message says where in the value
it does not fit (`draft.confidence`) and what was expected; the place is the
parameter's declared type.
""",
)

UNKNOWN_RUN = _code(
    "E0906",
    "no run of that id",
    """
Runs are named by the id `POST /agents/NAME/runs` answered with. `GET /runs` lists the
runs of the server's store; a run the store does not hold is `404 Not Found`.
""",
)

REQUEST_TOO_LARGE = _code(
    "E0907",
    "the request body is too large",
    """
`rolegraph serve` reads at most 8 MiB of inputs per request (`413 Payload Too Large`).
Inputs that large belong in a file the agent's tools read, named by a parameter.
""",
)

CANNOT_RECORD_RUN = _code(
    "E0908",
    "the server cannot record the run",
    """
A run is accepted only once it is recorded in the store (so that no accepted run is
ever lost). When the store cannot be written (a full disk, a damaged file, a file
another program holds locked) the request is answered `503 Service Unavailable` with
the store's reason, and nothing is started: send it again once the store is writable.
""",
)

NOT_JSON_CONTENT = _code(
    "E0909",
    "a run's inputs must be sent as JSON",
    """
`POST /agents/NAME/runs` takes `Content-Type: application/json` (with curl:
`-H 'content-type: application/json'`), and answers anything else `415 Unsupported Media
Type`. A web page of another site can send a form to a server on your machine, but not
JSON without asking first (CORS), which this server never allows: so no other site can
start runs, and spend on your models, through your browser.
""",
)

UNKNOWN_SEARCH = _code(
    "E0920",
    "no search report of that id",
    """
`rolegraph serve` shows the reports `rolegraph search -o DIR` writes (`DIR/search.json`)
found under the folder it serves. `GET /searches` lists them, each by its id (the path
of its `search.json` in that folder); another id is `404 Not Found`. A report written
after the server started is found on the next request.
""",
)

BAD_SEARCH_REPORT = _code(
    "E0921",
    "a search report that cannot be read",
    """
A `search.json` under the served folder is not a report `rolegraph search -o DIR`
wrote: it is not JSON, or not UTF-8, or a member is missing or of the wrong type (it
was edited by hand, cut short, or written by another program). The diagnostic says
where. Run the search again with `-o DIR` to write it anew (its runs are cached in the
search's store, so no model is called again).
""",
)
