"""The Python example of docs/serve.md runs against a server and prints what the page
shows."""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT
from .serving import ROLEGRAPH, server

pytest.importorskip("uvicorn", reason="the `serve` extra is not installed")
pytest.importorskip("httpx", reason="httpx is not installed")
pytestmark = pytest.mark.skipif(not ROLEGRAPH.exists(), reason="console script not installed")


def test_the_serve_page_example_prints_what_the_page_shows(tmp_path, capsys, monkeypatch):
    page = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(.*?)```\n\n```\n(.*?)```", page, re.DOTALL)
    assert found is not None
    code, shown = found.groups()
    with server(ROOT / "examples", tmp_path / "store.sqlite", "mock") as (_process, url):
        monkeypatch.setenv("ROLEGRAPH_URL", url)
        exec(compile(code, "docs/serve.md", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out == shown
