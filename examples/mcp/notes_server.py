"""A small MCP server for examples/mcp/notes.agent: notes to search, words to count.

It speaks MCP on stdin and stdout (the official SDK's FastMCP); `notes.agent` starts it
with `python3 notes_server.py` in this folder, once per run.
"""

from __future__ import annotations

from mcp.server.fastmcp import FastMCP
from pydantic import BaseModel

server = FastMCP("notes")


class Note(BaseModel):
    title: str
    words: int


NOTES = {
    "The Nile": "The Nile flows north through eleven countries into the Mediterranean.",
    "The Amazon": "The Amazon carries more water than any other river on Earth.",
    "Deltas": "A delta forms where a river deposits sediment at its mouth.",
    "Glaciers": "Glaciers carve valleys that rivers later follow.",
}


@server.tool()
def search(query: str, limit: int = 3) -> list[Note]:
    """Notes whose title or text shares a word with the query, best first."""
    words = {w.lower().strip(".,") for w in query.split()}

    def score(item: tuple[str, str]) -> int:
        title, text = item
        return len(words & {w.lower().strip(".,") for w in f"{title} {text}".split()})

    ranked = sorted(NOTES.items(), key=lambda item: (-score(item), item[0]))
    return [Note(title=t, words=len(text.split())) for t, text in ranked[:limit]]


@server.tool(name="word-count")
def word_count(text: str) -> int:
    """The number of words of a text."""
    return len(text.split())


if __name__ == "__main__":
    server.run()
