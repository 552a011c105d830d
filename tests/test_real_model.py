"""The real-model tier: every example, every standard pattern, a compiled Python module and
a small search, run end to end through litellm against SmolLM2-135M-Instruct served by
llama.cpp on loopback (tests/llama_server.py). Nothing here is scripted or faked.

A 135M model answers badly, so these tests assert what must hold whatever the answers
are worth: a run returns a value of the agent's declared type, or ends in a `RunError`
that says which node failed and why. Every role asks for structured output with
`structured_output="schema_in_json_object"` (llama.cpp then constrains decoding to the
result type's JSON schema), decoding is greedy and requests go one at a time, so each
run gets the same replies from one session to the next and the outcome of each agent is
pinned below. An outcome that changes means the model path changed (or the server's
version did): look at the replies (bench/bench_real_model.py prints them) before
changing the table.

Without the server installed these tests skip, saying what is missing; with CI=true
they fail instead. `pytest -m real_model` runs this tier alone, `-m "not real_model"`
everything else.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import rolegraph
from rolegraph.compiler.types import (
    AnyType,
    DictT,
    EnumT,
    ListT,
    NoneType_,
    OptionalT,
    Prim,
    RecordT,
    Type,
)
from rolegraph.runtime import FiringFailed, ModelOutputError, run_agent

from .llama_server import INPUTS, ROOT, agent_files, inputs_for, smollm2
from .recording_model import RecordingModel

pytestmark = pytest.mark.real_model


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


AGENT_FILES = [relative(path) for path in agent_files()]
# The run that used to fail with these inputs: mixture_of_agents' aggregator writes a raw
# newline inside a JSON string (`{ "text": "{<newline>" ,"confidence":1.0}`), which strict
# JSON forbids and llama-cpp-python 0.3.36's schema grammar lets through. (file, node,
# role, result type)
# It returns now: a raw control character inside a JSON string is read, not refused
# (runtime/repair.py), so no agent of the table fails on these inputs.
FAILING: dict[str, tuple[str, str, str]] = {}
RETURNING = [name for name in AGENT_FILES if name not in FAILING]


def conforms(value: Any, t: Type) -> bool:
    """Whether plain data is a value of the checker's type `t`: the oracle, written apart
    from the runtime's validation (which builds pydantic models from the same types)."""
    if isinstance(t, AnyType):
        return True
    if isinstance(t, NoneType_):
        return value is None
    if isinstance(t, OptionalT):
        return value is None or conforms(value, t.inner)
    if isinstance(t, Prim):
        if isinstance(value, bool):
            return t.name == "bool"
        python = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}
        return isinstance(value, python[t.name])
    if isinstance(t, EnumT):
        return value in t.members
    if isinstance(t, ListT):
        return isinstance(value, list) and all(conforms(item, t.item) for item in value)
    if isinstance(t, DictT):
        return isinstance(value, dict) and all(
            isinstance(k, str) and conforms(v, t.value) for k, v in value.items()
        )
    if isinstance(t, RecordT):
        return (
            isinstance(value, dict)
            and set(value) == set(t.fields)
            and all(conforms(value[name], field) for name, field in t.fields.items())
        )
    raise AssertionError(f"no oracle for type {t!r}")


@pytest.fixture
def model(llama_server: str) -> RecordingModel:
    """Every role of a run sent to the server, each call recorded."""
    return RecordingModel(smollm2(llama_server))


@pytest.mark.parametrize("name", RETURNING)
def test_the_agent_returns_a_value_of_its_declared_type(name: str, model: RecordingModel):
    ir = rolegraph.load_agent(ROOT / name)
    # (a human step, as in examples/refund_approval.agent, gets the mock's answer: the
    # model's calls are what this tier tests)
    outcome = asyncio.run(run_agent(ir, inputs_for(ir), model=model, answers="mock"))
    assert conforms(outcome.result, ir.return_type), (ir.return_type, outcome.result)
    summary = outcome.trace.summary()
    assert summary["calls"] == len(model.calls) > 0
    assert summary["output_tokens"] > 0  # counted by llama.cpp, reported through litellm


@pytest.mark.parametrize("name", sorted(FAILING))
def test_a_reply_still_invalid_after_the_repairs_ends_the_run_with_a_clear_error(
    name: str, model: RecordingModel
):
    node, role, result = FAILING[name]
    ir = rolegraph.load_agent(ROOT / name)
    with pytest.raises(FiringFailed) as caught:
        asyncio.run(run_agent(ir, inputs_for(ir), model=model))
    assert caught.value.node == node
    assert isinstance(caught.value.error, ModelOutputError)
    assert f"`{role}` gave no valid `{result}` after 3 tries" in str(caught.value)
    tries = [call.request.attempt for call in model.calls if call.request.node == node]
    assert tries == [0, 1, 2]  # the first reply and two repairs, no more
    repair = model.calls[-1].request.messages[-1]["content"]
    assert repair.startswith("That reply is invalid")


def compiled_module(tmp_path: Path, name: str) -> ModuleType:
    """`rolegraph compile` of an example, written out and imported as a module."""
    path = tmp_path / f"{Path(name).stem}_compiled.py"
    path.write_text(rolegraph.compile_python(ROOT / name), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # pydantic resolves the records' annotations there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[path.stem]
        raise
    return module


@pytest.fixture
def self_refine(tmp_path: Path) -> Iterator[ModuleType]:
    module = compiled_module(tmp_path, "examples/self_refine.agent")
    yield module
    sys.modules.pop(module.__name__, None)


def test_a_compiled_agent_returns_its_pydantic_type(self_refine: ModuleType, model: RecordingModel):
    answer = asyncio.run(self_refine.SelfRefine(task=INPUTS["task"], model=model))
    assert isinstance(answer, self_refine.Answer)
    assert len(model.calls) >= 2  # the writer, then the critic


def test_a_compiled_role_called_alone_returns_its_pydantic_type(
    self_refine: ModuleType, model: RecordingModel
):
    draft = self_refine.Answer(text="Red, yellow and blue.", confidence=0.9)
    review = asyncio.run(self_refine.Critic(task=INPUTS["task"], draft=draft, model=model))
    assert isinstance(review, self_refine.Review)
    assert {call.request.role for call in model.calls} == {"Critic"}


def test_a_compiled_module_sends_the_requests_its_agent_file_sends(
    self_refine: ModuleType, llama_server: str
):
    inputs = {"task": INPUTS["task"]}
    from_module = RecordingModel(smollm2(llama_server))
    asyncio.run(self_refine.PROGRAM.run("SelfRefine", inputs, model=from_module))
    from_file = RecordingModel(smollm2(llama_server))
    ir = rolegraph.load_agent(ROOT / "examples/self_refine.agent")
    asyncio.run(run_agent(ir, inputs, model=from_file))
    compared = 0
    for ours, theirs in zip(from_module.calls, from_file.calls, strict=False):
        assert ours.request == theirs.request
        compared += 1
        if ours.reply != theirs.reply:
            break  # the server answered otherwise (it may): what follows may differ
    assert compared >= 1


def test_a_random_search_scores_its_candidates_on_the_real_model(llama_server: str, tmp_path: Path):
    from rolegraph.search import (
        Evaluator,
        Objective,
        SearchStore,
        load_examples,
        random_search,
        scorer,
    )

    examples = load_examples(ROOT / "examples/data/capitals.jsonl")[:2]
    model = RecordingModel(smollm2(llama_server))
    evaluator = Evaluator(
        Objective(examples, scorer("contains")),
        model=model,
        store=SearchStore(tmp_path / "search.sqlite"),
        filename=str(ROOT / "examples/self_refine.agent"),
        concurrency=1,  # one run at a time: the order of requests stays the same
    )
    start = rolegraph.parse_file(ROOT / "examples/self_refine.agent")
    result = asyncio.run(random_search(start, evaluator, evaluations=3, seed=0))
    assert len(result.evaluated) == 3
    for candidate in result.evaluated:
        runs = candidate.evaluation.runs
        assert len(runs) == 2
        assert [run.error for run in runs] == [None, None]  # both returned
        assert all(0.0 <= run.score <= 1.0 for run in runs)
    assert result.calls == len(model.calls) > 0  # every call counted went to the server


def test_the_cli_writes_the_result_alone_on_stdout(llama_server: str):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    arguments = ["run", str(ROOT / "examples/self_refine.agent"), "--input"]
    arguments += [json.dumps({"task": INPUTS["task"]}), "--model", "openai/smollm2"]
    arguments += ["--api-base", llama_server, "--no-store", "-q"]
    for param in ("structured_output=schema_in_json_object", "max_tokens=192", "temperature=0"):
        arguments += ["--param", param]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"text", "confidence"}
