"""Typed edits of the AST: the API optimizers build on (DESIGN §7).

    base.py       the `Edit` value, its errors, finding sites and rebuilding around them
                  (the AST queries they share are `compiler/queries.py`)
    settings.py   models, model parameters, prompts, a node's role
    edges.py      remove, add and rewire an edge (named by its key, `queries.edge_keys`)
    nodes.py      insert a role on an edge, bypass a node
    replicate.py  replicate a node and vote among the copies
    refine.py     wrap a node in a refine loop with a critic
    patterns.py   apply a pattern in place of a node
    constraints.py  add an `ensure` constraint
    crossover.py  a subgraph of one agent grafted in place of a node of another
    diff.py       `diff(a, b)`: the edit script from one program to another
    editor.py     the `Editor`, which applies and offers only edits whose result checks,
                  and the JSON form of edits
    trust.py      the trust boundary: no edit brings in a tool target, an import or a
                  model endpoint the program did not have, unless a `TrustPolicy` says so

Every operator enumerates its `sites(module)` and `apply(module)` returns a new module;
an edit keeps the program's other declarations as they are (the objects themselves, so
the editor's checker reuses what it knew about them) and names new nodes and roles after
what they do (`writer_critic`, `WriterVote`), never clashing with an existing name;
edits are JSON values (`to_json`, `edit_from_json`); the editor decides validity.
"""

from ..queries import body_keys, edge_keys, statement_identity
from .base import Edit, EditError, InvalidEdit
from .constraints import AddConstraint
from .crossover import Crossover
from .diff import (
    AddDecl,
    InsertStatement,
    MoveDecl,
    MoveStatement,
    RemoveDecl,
    RemoveStatement,
    ReplaceDecl,
    ReplaceStatement,
    apply_script,
    diff,
)
from .edges import AddEdge, RemoveEdge, RewireEdge
from .editor import (
    EDITS,
    OPERATORS,
    Editor,
    edit_from_json,
    op_name,
    script_from_json,
    script_to_json,
)
from .nodes import BypassNode, InsertRole
from .patterns import ApplyPattern
from .refine import RefineLoop
from .replicate import ReplicateVote
from .settings import TEMPERATURES, ChangeModel, ChangeRole, RewritePrompt, SetModelParam
from .trust import TrustPolicy, untrusted

__all__ = [
    "EDITS",
    "OPERATORS",
    "TEMPERATURES",
    "AddConstraint",
    "AddDecl",
    "AddEdge",
    "ApplyPattern",
    "BypassNode",
    "ChangeModel",
    "ChangeRole",
    "Crossover",
    "Edit",
    "EditError",
    "Editor",
    "InsertRole",
    "InsertStatement",
    "InvalidEdit",
    "MoveDecl",
    "MoveStatement",
    "RefineLoop",
    "RemoveDecl",
    "RemoveEdge",
    "RemoveStatement",
    "ReplaceDecl",
    "ReplaceStatement",
    "ReplicateVote",
    "RewireEdge",
    "RewritePrompt",
    "SetModelParam",
    "TrustPolicy",
    "apply_script",
    "body_keys",
    "diff",
    "edge_keys",
    "edit_from_json",
    "op_name",
    "script_from_json",
    "script_to_json",
    "statement_identity",
    "untrusted",
]
