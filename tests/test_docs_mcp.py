"""docs/mcp.md opens with an example that runs offline and prints what the page says, and
its example file checks clean against its own server with `--connect`."""

import re

import pytest
from typer.testing import CliRunner

from rolegraph.cli import app

from .conftest import ROOT

pytest.importorskip("mcp")

PAGE = ROOT / "docs" / "mcp.md"


def test_the_mcp_page_opens_with_an_example_that_runs(capsys, monkeypatch):
    page = PAGE.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.DOTALL).group(1)
    shown = re.search(r"```\n(search found:.*?)```", page, re.DOTALL).group(1)
    monkeypatch.chdir(ROOT)
    exec(compile(code, "docs/mcp.md", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out == shown


def test_the_example_matches_its_server():
    result = CliRunner().invoke(
        app, ["check", "--connect", "--json", str(ROOT / "examples" / "mcp" / "notes.agent")]
    )
    assert (result.exit_code, result.stdout.strip()) == (0, "[]")
