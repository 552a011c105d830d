"""The example that opens docs/streaming.md runs, offline, and says what the page says."""

import re

from .conftest import ROOT


def test_the_streaming_page_opens_with_an_example_that_runs(capsys, monkeypatch):
    page = (ROOT / "docs" / "streaming.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.DOTALL).group(1)
    monkeypatch.chdir(ROOT)
    exec(compile(code, "docs/streaming.md", "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out
    assert "writer (logical time 1) starts" in printed
    assert "  writer writes " in printed
    assert "writer done: 1 call" in printed and "result: {" in printed
