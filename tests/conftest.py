import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Every property test is seeded: the same examples on every machine and every run, so a
# failure in CI is a failure here. `HYPOTHESIS_PROFILE=explore` draws fresh ones.
settings.register_profile("seeded", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "seeded"))

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every property test is `slow` (it runs a hundred examples or more); so are the tests
    marked by hand that run large inputs or many processes. `pytest -m "not slow"` is the
    quick run, `pytest` the whole suite (what CI runs)."""
    for item in items:
        test = getattr(item, "obj", None)
        if getattr(test, "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)
