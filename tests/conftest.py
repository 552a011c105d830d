from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.agent"))
STDLIB = sorted((ROOT / "stdlib").glob("*.agent"))


@pytest.fixture(params=EXAMPLES + STDLIB, ids=lambda p: p.name)
def agent_file(request) -> Path:
    return request.param
