"""Who may be on call now, kept up to date as the minute of the week moves on.

Most of a community is off call at any hour (two thirds of the demo's vanguards at 15:00), and a search that
walks past them in the spatial index pays for each. The directory therefore indexes only the people who can be
paged now. This roster tells it whose state may have changed since the minute it last looked: the people with a
window starting or ending in between. Nobody else needs to be looked at, however many vanguards there are.
"""

from __future__ import annotations

from collections.abc import Iterable

from dispatch.vanguards.schedule import MINUTES_PER_WEEK, parse_schedule


def boundaries(spec: str) -> frozenset[int]:
    """The minutes of the week at which `spec` turns on or off (a full week has none)."""
    schedule = parse_schedule(spec)
    edges = {minute % MINUTES_PER_WEEK for interval in schedule.intervals for minute in interval}
    # Windows that touch (Mon 22:00-24:00 and Tue 00:00-06:00) do not switch there: keep only real switches.
    covers = schedule.covers_minute
    return frozenset(m for m in edges if covers(m) != covers((m - 1) % MINUTES_PER_WEEK))


def crossed(since: int, until: int) -> Iterable[int]:
    """The minutes in (since, until], going forward round the week.

    Whoever's state differs between two minutes switches somewhere on the forward path between them, whichever
    way the clock moved: a state that differs at two points of a circle changes on both arcs between them.
    """
    steps = (until - since) % MINUTES_PER_WEEK
    return ((since + i) % MINUTES_PER_WEEK for i in range(1, steps + 1))


class OnCallRoster:
    """The switch minutes of everyone's schedule, and the minute last caught up to. Not thread-safe: its owner
    holds a lock."""

    def __init__(self, schedules: Iterable[tuple[str, str]] = ()) -> None:
        self._switches: dict[int, set[str]] = {}
        self._specs: dict[str, str] = {}
        self.minute: int | None = None
        for person, spec in schedules:
            self.assign(person, spec)

    def assign(self, person: str, spec: str) -> None:
        old = self._specs.get(person)
        if old == spec:
            return
        if old is not None:
            for minute in boundaries(old):
                self._switches[minute].discard(person)
        self._specs[person] = spec
        for minute in boundaries(spec):
            self._switches.setdefault(minute, set()).add(person)

    def move_to(self, minute: int) -> set[str] | None:
        """Whose on-call state may differ at `minute` from the last minute moved to; None the first time (all)."""
        since, self.minute = self.minute, minute
        if since is None:
            return None
        changed: set[str] = set()
        for m in crossed(since, minute):
            changed |= self._switches.get(m, set())
        return changed
