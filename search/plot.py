"""A plot of score against evaluations, as a standalone SVG (no plotting library).

Each candidate is a dot at (its evaluation number, its score), filled when it is on the
Pareto front; a step line follows the best score so far.

    Path("progress.svg").write_text(score_plot(result))
"""

from __future__ import annotations

from html import escape

from .candidates import SearchResult

WIDTH, HEIGHT, MARGIN = 640, 360, 48


def score_plot(result: SearchResult, title: str = "score against evaluations") -> str:
    evaluated = result.evaluated
    count = len(evaluated)
    on_front = {id(s) for s in result.front}

    def x(index: int) -> float:
        span = max(1, count - 1)
        return MARGIN + (WIDTH - 2 * MARGIN) * index / span

    def y(score: float) -> float:
        return HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * score

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):  # the score axis, with its grid
        parts.append(
            f'<line x1="{MARGIN}" y1="{y(tick):.1f}" x2="{WIDTH - MARGIN}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{MARGIN - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 12}" text-anchor="middle">evaluations '
        f"(1 to {count})</text>"
    )
    best, steps = -1.0, list[str]()
    for index, scored in enumerate(evaluated):
        score = scored.evaluation.score
        if score > best:
            if steps:  # hold the best so far until here, then rise
                steps.append(f"{x(index):.1f},{y(best):.1f}")
            best = score
        steps.append(f"{x(index):.1f},{y(best):.1f}")
    parts.append(
        f'<polyline class="best" fill="none" stroke="#1f77b4" stroke-width="2" '
        f'points="{" ".join(steps)}"/>'
    )
    for index, scored in enumerate(evaluated):
        front = id(scored) in on_front
        parts.append(
            f'<circle cx="{x(index):.1f}" cy="{y(scored.evaluation.score):.1f}" r="4" '
            f'fill="{"#d62728" if front else "white"}" stroke="#d62728">'
            f"<title>{index + 1}: score {scored.evaluation.score:.3f}, cost "
            f"{scored.evaluation.cost:g}, {escape(scored.made_by[:120])}</title></circle>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
