"""The lookup tool of examples/failure_recovery.agent: a small table of facts that
fails, as real lookups do, on a key it does not have."""

FACTS = {
    "france": "The capital of France is Paris.",
    "japan": "The capital of Japan is Tokyo.",
    "kenya": "The capital of Kenya is Nairobi.",
    "peru": "The capital of Peru is Lima.",
}


def lookup(key: str) -> dict:
    """The fact filed under `key` (case and spaces do not matter); a `KeyError` otherwise."""
    normalised = key.strip().lower()
    if normalised not in FACTS:
        raise KeyError(f"no fact under {key!r}; known keys: {', '.join(sorted(FACTS))}")
    return {"text": FACTS[normalised], "source": f"facts:{normalised}", "found": True}
