"""Every command reaches a real server the same way, and `--model` means what it says:
the CLI against an OpenAI-compatible server on loopback."""

import json

import pytest

pytest.importorskip("litellm")

from typer.testing import CliRunner

from rolegraph.cli import app
from rolegraph.runtime.mock import generate

from .fake_openai import FakeOpenAI

DECLARED = """model own = "openai/declared" {{ api_base: "{url}", api_key: "k", retries: 0 }}
type Answer {{ text: str }}
role Solver(question: str) -> Answer {{
  model own
  prompt "Answer: {{{{ question }}}}"
}}
agent Solve(question: str) -> Answer {{
  s = Solver(question)
  return s
}}
"""


def valid_reply(body: dict) -> str:
    """A reply of the type the request asks for (its schema is in the prompt)."""
    text = body["messages"][-1]["content"]
    schema = json.loads(text.split("nothing else:\n", 1)[1])
    return json.dumps(generate(schema, 7))


@pytest.fixture
def server():
    with FakeOpenAI(default=valid_reply) as api:
        yield api


@pytest.fixture
def declared(tmp_path):
    """An agent whose role declares a model on a server nobody listens to."""
    path = tmp_path / "solve.agent"
    path.write_text(DECLARED.format(url="http://127.0.0.1:9/v1"))
    data = tmp_path / "qa.jsonl"
    data.write_text(
        "\n".join(json.dumps({"inputs": {"question": q}, "expected": q}) for q in "ab") + "\n"
    )
    return path, data


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_run_prints_only_the_result_on_stdout(server, declared):
    path, _ = declared
    result = invoke(
        "run", str(path), "-i", '{"question": "q"}', "--model", "openai/chosen",
        "--api-base", server.url, "--no-store",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(valid_reply(server.requests[0]))
    assert "run summary" in result.stderr


def test_a_litellm_failure_prints_nothing_on_stdout(server, declared):
    """litellm prints a "Provider List" banner on stdout for a provider it does not know,
    unless told not to: the command's stdout stays empty, stderr has one clear line."""
    path, _ = declared
    result = invoke(
        "run", str(path), "-i", '{"question": "q"}', "--model", "nosuchprovider/x",
        "--api-base", server.url, "--no-store", "-q",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Provider List" not in result.stderr and "Give Feedback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "nosuchprovider/x" in errors[0]


def test_run_model_alone_replaces_every_declared_model(server, declared, monkeypatch):
    monkeypatch.setenv("OPENAI_API_BASE", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    path, _ = declared
    result = invoke(
        "run", str(path), "-i", '{"question": "q"}', "--model", "openai/chosen", "--no-store"
    )
    assert result.exit_code == 0, result.output
    assert [r["model"] for r in server.requests] == ["chosen"]


def test_run_params_and_timeout_reach_the_server(server, declared):
    path, _ = declared
    result = invoke(
        "run", str(path), "-i", '{"question": "q"}', "--model", "openai/chosen",
        "--api-base", server.url, "--param", "temperature=0.25", "--param", "max_tokens=77",
        "--timeout", "9", "--concurrency", "2", "--no-store", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sent = server.requests[0]
    assert sent["temperature"] == 0.25 and sent["max_tokens"] == 77
    assert "timeout" not in sent and "concurrency" not in sent  # ours, not the provider's


def test_without_model_each_role_keeps_its_declared_model(server, tmp_path):
    path = tmp_path / "own.agent"
    path.write_text(DECLARED.format(url=server.url))
    result = invoke("run", str(path), "-i", '{"question": "q"}', "--no-store", "-q")
    assert result.exit_code == 0, result.output
    assert [r["model"] for r in server.requests] == ["declared"]


def test_search_takes_the_provider_options(server, declared, tmp_path):
    path, data = declared
    result = invoke(
        "search", str(path), "--data", str(data), "-n", "2", "--model", "openai/chosen",
        "--api-base", server.url, "--param", "temperature=0", "--store",
        str(tmp_path / "s.sqlite"), "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert server.requests and {r["model"] for r in server.requests} == {"chosen"}
    assert all(r["temperature"] == 0 for r in server.requests)
    assert result.stdout == ""


def test_attribute_takes_the_provider_options(server, declared, tmp_path):
    path, data = declared
    result = invoke(
        "attribute", str(path), "--data", str(data), "--model", "openai/chosen",
        "--api-base", server.url, "--store", str(tmp_path / "s.sqlite"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {r["model"] for r in server.requests} == {"chosen"}
    assert "Shapley values" in result.stdout


def test_the_proposer_is_the_model_named(server, declared, tmp_path):
    path, data = declared
    result = invoke(
        "search", str(path), "--data", str(data), "-n", "2", "--optimizer", "llm",
        "--proposer", "openai/proposer", "--api-base", server.url,
        "--store", str(tmp_path / "s.sqlite"), "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    models = {r["model"] for r in server.requests}
    assert "proposer" in models  # the evaluations ran on the mock (the default --model)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--param", "temperature"], "--param takes NAME=VALUE"),
        (["--timeout", "0"], "--timeout is a number of seconds above 0"),
        (["--concurrency", "0"], "--concurrency is at least 1"),
    ],
)
def test_bad_provider_options_are_usage_errors(declared, options, message):
    path, _ = declared
    result = invoke("run", str(path), "-i", '{"question": "q"}', *options)
    assert result.exit_code == 2
    assert message in result.stderr


def test_no_role_waits_past_its_default_output_cap(server, declared):
    path, _ = declared
    invoke(
        "run", str(path), "-i", '{"question": "q"}', "--model", "openai/chosen",
        "--api-base", server.url, "--no-store", "-q",
    )  # fmt: skip
    assert server.requests[0]["max_tokens"] == 1024


@pytest.mark.parametrize("model", [None, "mock", "openai/gpt-4o-mini"])
def test_a_provider_with_no_parameters_is_the_plain_one_of_its_model(model):
    # (`provider_of` keeps one per model string when no parameters are given)
    from rolegraph.runtime import Provider, provider_of

    assert provider_of(model, None) == Provider(model, {})
    assert provider_of(model, {}) == Provider(model, {})
    assert provider_of(model, {"temperature": 0}) == Provider(model, {"temperature": 0})
