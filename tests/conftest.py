import os
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
