"""The per-skill responder index agrees with brute force and survives moves."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from geo.index import IndexedPoint, SkillIndex

SKILLS = ["doctor", "nurse", "first_aid"]
points_st = st.lists(
    st.tuples(st.floats(0, 2000), st.floats(0, 2000), st.sets(st.sampled_from(SKILLS), min_size=1)),
    min_size=1,
    max_size=60,
)


def build(raw: list[tuple[float, float, set[str]]]) -> SkillIndex:
    return SkillIndex(IndexedPoint(f"V{i}", frozenset(s), x, y) for i, (x, y, s) in enumerate(raw))


@settings(max_examples=60)
@given(points_st, st.floats(0, 2000), st.floats(0, 2000), st.sampled_from(SKILLS), st.integers(1, 8))
def test_nearest_agrees_with_brute_force(raw, qx, qy, skill, k) -> None:  # type: ignore[no-untyped-def]
    index = build(raw)
    found = index.nearest(qx, qy, skill, k)
    holders = sorted(math.hypot(x - qx, y - qy) for x, y, s in raw if skill in s)
    expected = holders[:k]
    got = sorted(math.hypot(p.x - qx, p.y - qy) for p in found)
    assert all(skill in p.skills for p in found)
    assert got[: len(expected)] == expected[: len(got)] and len(got) >= len(expected)


@settings(max_examples=40)
@given(points_st, st.floats(0, 2000), st.floats(0, 2000))
def test_iter_nearest_yields_every_holder_once(raw, qx, qy) -> None:  # type: ignore[no-untyped-def]
    index = build(raw)
    keys = [p.key for p in index.iter_nearest(qx, qy, ["doctor", "nurse"], batch=4)]
    assert len(keys) == len(set(keys))
    assert set(keys) == {f"V{i}" for i, (_, _, s) in enumerate(raw) if s & {"doctor", "nurse"}}


def test_a_moved_responder_is_found_at_the_new_place_only() -> None:
    index = build([(0, 0, {"doctor"}), (1000, 1000, {"doctor"})])
    index.upsert(IndexedPoint("V0", frozenset({"doctor", "nurse"}), 990, 990))
    assert [p.key for p in index.nearest(0, 0, "doctor", 1)] in (["V0"], ["V1"])
    assert {p.key for p in index.nearest(995, 995, "nurse", 5)} == {"V0"}
    index.remove("V0")
    assert index.nearest(995, 995, "nurse", 5) == []
    assert [p.key for p in index.nearest(0, 0, "doctor", 5)] == ["V1"]
