"""The lifecycles of a page and of a timer, and the roles a person is paged for. Pure data.

Each lifecycle is a `StrEnum` with its table of allowed moves; `check` is the one place that enforces it. The
database holds the same sets as check constraints (migration 0007), so a status outside them is refused there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class IllegalTransition(ValueError):
    """A lifecycle was asked to make a move its table does not allow."""


class Role(StrEnum):
    """What a person was paged to do. Only a vanguard paged as `RESPONDER` can be the qualified responder."""

    RESPONDER = "responder"
    AED_FETCHER = "aed_fetcher"
    CARRIER = "carrier"
    AMBULANCE_MEET = "ambulance_meet"
    STAFF = "staff"

    @property
    def is_support(self) -> bool:
        """A vanguard's role beside the responder: filled by its own acceptances, never stood down by theirs."""
        return self in (Role.AED_FETCHER, Role.CARRIER, Role.AMBULANCE_MEET)

    @classmethod
    def of(cls, value: str, person_kind: str) -> Role:
        """The role a stored page stands for. Staff pages written before roles were typed hold the staff
        member's position (building_leader, grid_worker, ...): they are all `STAFF`."""
        if person_kind == "staff":
            return cls.STAFF
        return cls(value)


class PageStatus(StrEnum):
    PAGED = "paged"  # alerted, no answer yet
    NO_ANSWER = "no_answer"  # a call rang out or was busy: may still answer
    FAILED = "failed"  # the alert could not be delivered: may still answer through another channel
    ACCEPTED = "accepted"  # on the way (primary or backup)
    DECLINED = "declined"
    ON_SCENE = "on_scene"
    LAPSED = "lapsed"  # accepted but not on scene in time (a no-show); may still turn up
    STOOD_DOWN = "stood_down"  # told not to come (or to turn back)
    LATE = "late"  # answered yes once the place was taken or the incident closed


AWAITING = frozenset({PageStatus.PAGED, PageStatus.NO_ANSWER, PageStatus.FAILED})
GOING = frozenset({PageStatus.ACCEPTED, PageStatus.ON_SCENE})

PAGE_MOVES: Mapping[PageStatus, frozenset[PageStatus]] = {
    PageStatus.PAGED: frozenset(
        {
            PageStatus.NO_ANSWER,
            PageStatus.FAILED,
            PageStatus.ACCEPTED,
            PageStatus.DECLINED,
            PageStatus.STOOD_DOWN,
            PageStatus.LATE,
        }
    ),
    PageStatus.NO_ANSWER: frozenset(
        {PageStatus.PAGED, PageStatus.ACCEPTED, PageStatus.DECLINED, PageStatus.STOOD_DOWN, PageStatus.LATE}
    ),
    PageStatus.FAILED: frozenset(
        {PageStatus.PAGED, PageStatus.ACCEPTED, PageStatus.DECLINED, PageStatus.STOOD_DOWN, PageStatus.LATE}
    ),
    PageStatus.ACCEPTED: frozenset({PageStatus.ON_SCENE, PageStatus.LAPSED, PageStatus.STOOD_DOWN}),
    # A staff member who declined is asked again when the chain comes round to them.
    PageStatus.DECLINED: frozenset({PageStatus.PAGED}),
    PageStatus.ON_SCENE: frozenset(),
    PageStatus.LAPSED: frozenset({PageStatus.ON_SCENE, PageStatus.ACCEPTED, PageStatus.STOOD_DOWN}),
    PageStatus.STOOD_DOWN: frozenset({PageStatus.LATE}),
    PageStatus.LATE: frozenset(),
}


class TimerStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # put back after an error, retried once its lease is over
    DONE = "done"
    SKIPPED = "skipped"  # superseded by a later decision, or the incident closed


TIMER_MOVES: Mapping[TimerStatus, frozenset[TimerStatus]] = {
    TimerStatus.PENDING: frozenset({TimerStatus.CLAIMED, TimerStatus.DONE, TimerStatus.SKIPPED}),
    TimerStatus.CLAIMED: frozenset({TimerStatus.PENDING, TimerStatus.DONE, TimerStatus.SKIPPED}),
    TimerStatus.DONE: frozenset(),
    TimerStatus.SKIPPED: frozenset(),
}


def check_page(current: str, target: PageStatus) -> PageStatus:
    """`target` if a page that is `current` may move there; raises IllegalTransition otherwise."""
    if target not in PAGE_MOVES[PageStatus(current)]:
        raise IllegalTransition(f"a page that is {current} cannot become {target.value}")
    return target


def check_timer(current: str, target: TimerStatus) -> TimerStatus:
    if target not in TIMER_MOVES[TimerStatus(current)]:
        raise IllegalTransition(f"a timer that is {current} cannot become {target.value}")
    return target
