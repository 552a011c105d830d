"""What the options several commands share turn into: where imports may reach, how
models are reached (run, search, attribute, serve, mcp), what edits may bring in. (The
options themselves, as typer declares them, are params.py's: this module imports no
typer, so that `check` and `run` can do without it, fast.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .exits import usage_error


def loads_json(text: str) -> Any:
    """JSON read without recursing (compiler/depth.py): deep input is an error, not a crash."""
    from rolegraph.compiler.depth import loads_json

    return loads_json(text)


def trust_policy(tools: list[str] | None, imports: list[str] | None) -> Any:
    """The trust policy the options name (a malformed pattern is a usage error)."""
    from rolegraph.compiler.edits import TrustPolicy

    try:
        return TrustPolicy(tools=frozenset(tools or ()), imports=frozenset(imports or ()))
    except ValueError as error:
        raise usage_error(str(error)) from None


def check_model_option(model: str | None) -> None:
    """`--model` names a model the run can call: a mock delay that would make every call
    wait for its timeout (`mock:latency=inf`) is refused before any work."""
    from rolegraph.runtime.providers import is_mock, mock_latency

    if model is not None and is_mock(model):
        try:
            mock_latency(model)
        except ValueError as error:
            raise usage_error(f"--model {error}") from None


def provider_params(
    api_base: str | None, param: list[str] | None, timeout: float | None, concurrency: int | None
) -> dict[str, Any]:
    """The provider options as model parameters (usage errors end the command)."""
    params: dict[str, Any] = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise usage_error(f"--param takes NAME=VALUE, not {item!r}")
        try:
            params[name.strip()] = loads_json(value)
        except json.JSONDecodeError:
            params[name.strip()] = value
    if api_base is not None:
        params.setdefault("api_key", "none")  # a local server wants none, litellm wants one
        params["api_base"] = api_base
    if timeout is not None:
        if timeout <= 0:
            raise usage_error("--timeout is a number of seconds above 0")
        params["timeout"] = timeout
    if concurrency is not None:
        if concurrency < 1:
            raise usage_error("--concurrency is at least 1")
        params["concurrency"] = concurrency
    return params


def warm_up_litellm(model: str | None, checked: Any) -> None:
    """Start importing litellm (seconds) in the background when the run will need it,
    so that the import overlaps the rest of the set-up instead of the first call."""
    from rolegraph.runtime.providers import is_mock

    names = (
        [model]
        if model is not None
        else [node.model or "mock" for ir in checked.irs.values() for node in ir.nodes.values()]
    )
    if any(not is_mock(name) for name in names):
        from rolegraph.runtime.litellm_model import warm_up

        warm_up()


def pick_agent(irs: dict[str, Any], agent: str | None, file: Path) -> Any:
    """The agent named (default: the file's last), or a usage error listing them."""
    if not irs:
        raise usage_error(f"{file} declares no agent")
    if agent is None:
        return list(irs.values())[-1]
    if agent in irs:
        return irs[agent]
    raise usage_error(f"no agent {agent!r} in {file}; agents: {', '.join(irs)}")
