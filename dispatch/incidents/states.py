"""The incident state machine: one table of allowed moves. Nothing else changes an incident's status."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    REPORTED = "reported"
    DISPATCHING = "dispatching"
    ACCEPTED = "accepted"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    FALSE_ALARM = "false_alarm"


OPEN_SEARCH = frozenset({Status.REPORTED, Status.DISPATCHING})
ACTIVE = frozenset({Status.REPORTED, Status.DISPATCHING, Status.ACCEPTED, Status.ON_SCENE})
CLOSED = frozenset({Status.RESOLVED, Status.CANCELLED, Status.FALSE_ALARM})

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.REPORTED: frozenset({Status.DISPATCHING, Status.ACCEPTED, Status.CANCELLED, Status.FALSE_ALARM}),
    Status.DISPATCHING: frozenset(
        {Status.ACCEPTED, Status.ON_SCENE, Status.RESOLVED, Status.CANCELLED, Status.FALSE_ALARM}
    ),
    # ACCEPTED -> DISPATCHING: the accepter was not on scene within the bound; the search re-opens.
    Status.ACCEPTED: frozenset(
        {Status.DISPATCHING, Status.ON_SCENE, Status.RESOLVED, Status.CANCELLED, Status.FALSE_ALARM}
    ),
    Status.ON_SCENE: frozenset({Status.RESOLVED, Status.FALSE_ALARM}),
    Status.RESOLVED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.FALSE_ALARM: frozenset(),
}


class TransitionError(ValueError):
    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"an incident that is {current.value} cannot become {target.value}")
        self.current = current
        self.target = target


def check_transition(current: str, target: str) -> Status:
    cur, tgt = Status(current), Status(target)
    if tgt not in ALLOWED[cur]:
        raise TransitionError(cur, tgt)
    return tgt
