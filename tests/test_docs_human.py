"""The example that opens docs/human.md runs, offline, and prints what the page shows."""

import re
import shutil

from .conftest import ROOT


def test_the_human_page_opens_with_an_example_that_runs(capsys, monkeypatch, tmp_path):
    page = (ROOT / "docs" / "human.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.DOTALL).group(1)
    shown = re.search(r"```python\n.*?```\n.*?```\n(.*?)```", page, re.DOTALL).group(1)
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "refund_approval.agent", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)  # (the store is written there)
    exec(compile(code, "docs/human.md", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out == shown
