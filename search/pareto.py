"""The Pareto front of candidates over score (higher is better) and cost (lower is)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether (score, cost) `a` is at least as good as `b` on both and better on one."""
    return a[0] >= b[0] and a[1] <= b[1] and a != b


def pareto_front(items: Iterable[T], key: Callable[[T], tuple[float, float]]) -> list[T]:
    """The items no other item dominates, cheapest first (ties: the first seen stays,
    so equal candidates appear once)."""
    front: list[T] = []
    seen: set[tuple[float, float]] = set()
    for item in sorted(items, key=lambda i: (key(i)[1], -key(i)[0])):
        point = key(item)
        if point in seen:
            continue
        if any(dominates(key(kept), point) for kept in front):
            continue
        front.append(item)
        seen.add(point)
    return front
