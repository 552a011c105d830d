"""Search over agent programs: objectives, evaluation, and optimizers over ASTs.

    from rolegraph.search import Evaluator, Objective, load_examples, random_search, scorer

    objective = Objective(load_examples("qa.jsonl"), score=scorer("contains"))
    evaluator = Evaluator(objective, model="mock", store=SearchStore("search.sqlite"))
    result = await random_search(module, evaluator, evaluations=50, seed=0)

Every candidate comes from the typed edit operators (`rolegraph.compiler.edits`), so
every candidate checks; none is generated code. See docs/search.md.
"""

from .attribution import Attribution, shapley
from .budget import Allotment, BudgetSpent, SearchBudget, SearchBudgetError, run_allotment
from .candidates import Scored, SearchResult, Trail, write_front
from .evaluate import Evaluation, Evaluator, RunOutcome
from .evolve import better, evolve, nodes_and_calls
from .front import FrontRow, front_rows
from .mcts import mcts
from .meta import Attempt, catalogue, meta_search
from .objective import (
    Example,
    Objective,
    ObjectiveError,
    contains,
    exact,
    field_equals,
    load_examples,
    scorer,
)
from .pareto import dominates, pareto_front
from .plot import score_plot
from .racing import Racing, probability_better
from .random_search import random_search
from .reflect import reflect_search
from .report import report, write_report
from .run import (
    Backend,
    Blank,
    LocalBackend,
    Ran,
    RayBackend,
    RunSettings,
    blank_value,
    run_candidate,
)
from .store import Candidate, RunRecord, SearchStore
from .surrogate import Surrogate
from .swarm import swarm

__all__ = [
    "Allotment",
    "Attempt",
    "Attribution",
    "Backend",
    "Blank",
    "BudgetSpent",
    "Candidate",
    "Evaluation",
    "Evaluator",
    "Example",
    "FrontRow",
    "LocalBackend",
    "Objective",
    "ObjectiveError",
    "Racing",
    "Ran",
    "RayBackend",
    "RunOutcome",
    "RunRecord",
    "RunSettings",
    "Scored",
    "SearchBudget",
    "SearchBudgetError",
    "SearchResult",
    "SearchStore",
    "Surrogate",
    "Trail",
    "better",
    "blank_value",
    "catalogue",
    "contains",
    "dominates",
    "evolve",
    "exact",
    "field_equals",
    "front_rows",
    "load_examples",
    "mcts",
    "meta_search",
    "nodes_and_calls",
    "pareto_front",
    "probability_better",
    "random_search",
    "reflect_search",
    "report",
    "run_allotment",
    "run_candidate",
    "score_plot",
    "scorer",
    "shapley",
    "swarm",
    "write_front",
    "write_report",
]
