"""A spatial index of responders per skill, in projected metres (rtree / libspatialindex).

One tree per skill: a 5-nearest-doctors query never wades through electricians. rtree is not thread-safe, so
every call holds the index lock; queries are microseconds, so updates never wait long.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rtree import index as rtree_index


@dataclass(frozen=True)
class IndexedPoint:
    key: str
    skills: frozenset[str]
    x: float
    y: float


def _props() -> rtree_index.Property:
    props = rtree_index.Property()
    props.dimension = 2
    return props


class SkillIndex:
    def __init__(self, points: Iterable[IndexedPoint] = ()) -> None:
        self._lock = threading.Lock()
        self._trees: dict[str, rtree_index.Index] = {}
        self._points: dict[str, IndexedPoint] = {}
        self._ids: dict[str, int] = {}
        self._keys: dict[int, str] = {}
        self._next_id = 0
        by_skill: dict[str, list[tuple[int, tuple[float, float, float, float], None]]] = {}
        for p in points:
            num = self._register(p)
            for skill in p.skills:
                by_skill.setdefault(skill, []).append((num, (p.x, p.y, p.x, p.y), None))
        for skill, items in by_skill.items():
            self._trees[skill] = rtree_index.Index(iter(items), properties=_props())

    def _register(self, p: IndexedPoint) -> int:
        num = self._next_id
        self._next_id += 1
        self._ids[p.key] = num
        self._keys[num] = p.key
        self._points[p.key] = p
        return num

    def __len__(self) -> int:
        return len(self._points)

    def __contains__(self, key: object) -> bool:
        return key in self._points

    def get(self, key: str) -> IndexedPoint | None:
        return self._points.get(key)

    def skills(self) -> frozenset[str]:
        return frozenset(self._trees)

    def upsert(self, point: IndexedPoint) -> None:
        with self._lock:
            self._remove_locked(point.key)
            num = self._register(point)
            for skill in point.skills:
                tree = self._trees.get(skill)
                if tree is None:
                    tree = self._trees[skill] = rtree_index.Index(properties=_props())
                tree.insert(num, (point.x, point.y, point.x, point.y))

    def remove(self, key: str) -> None:
        with self._lock:
            self._remove_locked(key)

    def _remove_locked(self, key: str) -> None:
        old = self._points.pop(key, None)
        if old is None:
            return
        num = self._ids.pop(key)
        del self._keys[num]
        for skill in old.skills:
            # rtree deletes only with the exact bounding box it was inserted with.
            self._trees[skill].delete(num, (old.x, old.y, old.x, old.y))

    def nearest(self, x: float, y: float, skill: str, k: int) -> list[IndexedPoint]:
        """Up to k points holding `skill`, nearest first (ties may return a few more than k)."""
        with self._lock:
            tree = self._trees.get(skill)
            if tree is None or k <= 0:
                return []
            nums = list(tree.nearest((x, y, x, y), num_results=k))
            return [self._points[self._keys[n]] for n in nums]

    def iter_nearest(self, x: float, y: float, skills: Iterable[str], batch: int = 16) -> Iterator[IndexedPoint]:
        """Every point holding any of `skills`, in widening batches, each point once, roughly nearest first."""
        seen: set[str] = set()
        k = batch
        skills = sorted(set(skills))
        while True:
            fresh: list[IndexedPoint] = []
            exhausted = True
            for skill in skills:
                found = self.nearest(x, y, skill, k)
                exhausted = exhausted and len(found) < k
                fresh.extend(p for p in found if p.key not in seen)
            fresh.sort(key=lambda p: ((p.x - x) ** 2 + (p.y - y) ** 2, p.key))
            for p in fresh:
                if p.key not in seen:
                    seen.add(p.key)
                    yield p
            if exhausted:
                return
            k *= 2
