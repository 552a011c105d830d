"""The search's SQLite store (search/store.py): what a row holds."""

import json
from datetime import date

from rolegraph.search.store import RunRecord, SearchStore


def test_a_runs_result_is_stored_as_json_dumps_with_str_for_the_rest(tmp_path):
    """The store's one encoder writes what `json.dumps(result, default=str)` writes, a
    value JSON has no form for included (search/store.py)."""
    store = SearchStore(tmp_path / "s.sqlite")
    results = [{"text": "fjord", "n": 1.5, "ok": True}, ["é", None, {"d": date(2026, 1, 2)}], "x"]
    store.put_runs(
        [
            (("f", "A", f"e{i}", 0, "mock"), RunRecord(r, None, 1, 2, 0.0))
            for i, r in enumerate(results)
        ]
    )
    rows = store._db.execute("SELECT result FROM runs ORDER BY example").fetchall()
    assert [row[0] for row in rows] == [json.dumps(r, default=str) for r in results]
