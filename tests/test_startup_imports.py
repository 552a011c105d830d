"""Start-up loads only what a command needs (issue 15): `import rolegraph`, `rolegraph
check` and a run on the mock never import litellm or networkx, and `rolegraph --help`
loads none of the compiler's libraries. Each case runs in a fresh interpreter and reads
its `sys.modules` as it exits."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import EXAMPLES

HEAVY = ("litellm", "networkx")

# Run a command's `main()` in this interpreter and print the top-level packages loaded
# when it exits (whatever its exit status).
_PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}))))
sys.argv = ["rolegraph", *json.loads(sys.argv[1])]
from rolegraph.cli import main
main()
"""


def _loaded_by(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _example(name: str) -> str:
    return str(next(p for p in EXAMPLES if p.name == name))


def test_import_rolegraph_loads_neither_litellm_nor_networkx():
    code = (
        "import json, sys, rolegraph, rolegraph.cli, rolegraph.runtime\n"
        "from rolegraph.compiler.check import check_module\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert not loaded & set(HEAVY)


def test_check_loads_neither_litellm_nor_networkx():
    loaded = _loaded_by("check", _example("self_refine.agent"))
    assert "rolegraph" in loaded
    assert not loaded & set(HEAVY)


def test_a_run_on_the_mock_loads_neither_litellm_nor_networkx():
    loaded = _loaded_by(
        "run", _example("self_refine.agent"), "--model", "mock", "-i", '{"task": "x"}', "-q",
        "--no-store",
    )  # fmt: skip
    assert "asyncio" in loaded  # (it ran)
    assert not loaded & set(HEAVY)


def test_help_loads_none_of_the_compilers_libraries():
    loaded = _loaded_by("--help")
    assert not loaded & {"pydantic", "jinja2", "lark", *HEAVY}


def test_the_public_names_still_import():
    import rolegraph

    for name in rolegraph.__all__:
        assert getattr(rolegraph, name) is not None, name


def test_the_runtime_loads_neither_the_type_checker_nor_the_resolver():
    """Running a compiled IR needs the IR, the semantics, the LTL monitor and expressions;
    not the checker's passes (issue 17 item 9)."""
    code = (
        "import json, sys, rolegraph.runtime\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('rolegraph.'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert "rolegraph.runtime.scheduler" in loaded  # (the probe saw the runtime load)
    assert not loaded & {"rolegraph.compiler.typecheck", "rolegraph.compiler.resolve"}
    assert not {
        m for m in loaded if m.startswith(("rolegraph.compiler.typecheck", "rolegraph.grammar"))
    }
