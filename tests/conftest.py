import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# litellm reads its model price list from the package, not the network (tests run offline)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.agent"))
STDLIB = sorted((ROOT / "stdlib").glob("*.agent"))


@pytest.fixture(params=EXAMPLES + STDLIB, ids=lambda p: p.name)
def agent_file(request) -> Path:
    return request.param


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """The base URL of a llama.cpp server serving SmolLM2-135M on loopback
    (tests/llama_server.py), started once for the session and stopped after it.

    Skipped, with what is missing, when the server or the model is not installed or the
    server does not start; with CI=true that is a failure instead, so that CI shows the
    real-model tier ran."""
    from .llama_server import LlamaServer, ServerUnavailable

    try:
        server = LlamaServer.start()
    except ServerUnavailable as error:
        message = f"no real model server: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with server:
        yield server.url
