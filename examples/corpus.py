"""The retrieval tool of examples/rag_citations.agent: a small corpus searched by the
words it shares with the question (no index, no model: a stand-in for a vector store)."""

import re

DOCUMENTS = {
    "tides": "Tides are caused mainly by the Moon's gravity pulling on the oceans.",
    "moon": "The Moon is about 384,000 km from the Earth.",
    "sun": "The Sun's gravity also raises tides, about half as strong as the Moon's.",
    "spring": "Spring tides happen when the Sun and the Moon line up.",
    "paris": "Paris is the capital of France.",
}


def retrieve(question: str) -> dict:
    """The three documents that share the most words with the question (at least one)."""
    words = set(re.findall(r"[a-z]+", question.lower()))
    scored = sorted(
        DOCUMENTS,
        key=lambda key: (-len(words & set(re.findall(r"[a-z]+", DOCUMENTS[key].lower()))), key),
    )
    chosen = scored[:3]
    return {
        "docs": [{"id": key, "text": DOCUMENTS[key]} for key in chosen],
        "ids": chosen,
    }
