"""What the decision core sees of one incident, and what can happen to it. Pure data, no I/O.

The runner builds a `Snapshot` from the database (and the directory's ranking of who could still be paged), and
passes what just happened as events. `Progress` is read back from the timeline marks that earlier decisions
wrote, so a decision never depends on anything but the rows it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from dispatch.escalation.lifecycle import PageStatus, Role
from dispatch.incidents.states import Status

PersonKind = Literal["vanguard", "staff"]


class ChainAction(StrEnum):
    """The staff levels, from the building up: whom the chain pages at each of its steps."""

    BUILDING_LEADER = "building_leader"
    GRID_BRANCH = "grid_branch"
    DUTY_OFFICER = "duty_officer"


@dataclass(frozen=True)
class PageView:
    person_id: str
    kind: PersonKind
    role: Role
    status: PageStatus
    paged_at: datetime
    eta_s: float | None = None
    accepted_at: datetime | None = None
    times_paged: int = 1
    # Vanguards paged as responders hold a skill the kind needs; staff and support roles do not count as qualified.
    qualified: bool = False

    @property
    def expected_at(self) -> datetime | None:
        """When an accepter should be at the door, by their own ETA from the moment they said yes."""
        if self.accepted_at is None or self.eta_s is None:
            return None
        return self.accepted_at + timedelta(seconds=self.eta_s)


@dataclass(frozen=True)
class Offer:
    """A vanguard who could be paged now, ranked by the matcher (best first within a role)."""

    person_id: str
    role: Role
    eta_s: float
    same_building: bool = False


@dataclass(frozen=True)
class StaffMember:
    person_id: str
    action: ChainAction


@dataclass(frozen=True)
class Progress:
    """How far earlier decisions went, folded from the timeline marks they wrote."""

    waves: int = 0
    last_wave_at: datetime | None = None
    chain_steps: tuple[int, ...] = ()  # plan step indices of the chain levels already paged (or found empty)
    last_chain_at: datetime | None = None
    rotations: int = 0
    last_rotation_at: datetime | None = None
    chain_exhausted: bool = False
    nobody_reachable: bool = False
    told_call_120: bool = False
    qualified_on_scene: bool = False

    @classmethod
    def from_marks(cls, marks: Iterable[tuple[str, datetime, Mapping[str, Any]]]) -> Progress:
        p = cls()
        for type_, at, detail in marks:
            p = p.after(type_, at, detail)
        return p

    def after(self, type_: str, at: datetime, detail: Mapping[str, Any]) -> Progress:
        if type_ == MARK_WAVE:
            return replace(self, waves=self.waves + 1, last_wave_at=at)
        if type_ == MARK_CHAIN:
            return replace(self, chain_steps=(*self.chain_steps, int(detail["step"])), last_chain_at=at)
        if type_ == MARK_ROTATION:
            return replace(self, rotations=self.rotations + 1, last_rotation_at=at)
        if type_ == MARK_CHAIN_EXHAUSTED:
            return replace(self, chain_exhausted=True)
        if type_ == MARK_NOBODY_REACHABLE:
            return replace(self, nobody_reachable=True)
        if type_ == MARK_TOLD_RESIDENT:
            return replace(self, told_call_120=True)
        if type_ == MARK_QUALIFIED_ON_SCENE:
            return replace(self, qualified_on_scene=True)
        return self


# Timeline event types the decision core writes and reads back (its memory).
MARK_WAVE = "wave_opened"
MARK_CHAIN = "chain_paged"
MARK_ROTATION = "chain_repaged"
MARK_CHAIN_EXHAUSTED = "chain_exhausted"
MARK_NOBODY_REACHABLE = "nobody_reachable"
MARK_TOLD_RESIDENT = "resident_told_call_120"
MARK_QUALIFIED_ON_SCENE = "qualified_on_scene"
MARK_NO_SHOW = "no_show"
MARK_PRIMARY = "primary_changed"
MARKS = frozenset(
    {
        MARK_WAVE,
        MARK_CHAIN,
        MARK_ROTATION,
        MARK_CHAIN_EXHAUSTED,
        MARK_NOBODY_REACHABLE,
        MARK_TOLD_RESIDENT,
        MARK_QUALIFIED_ON_SCENE,
        MARK_NO_SHOW,
        MARK_PRIMARY,
    }
)


@dataclass(frozen=True)
class Snapshot:
    incident_id: str
    status: Status
    reported_at: datetime
    out_of_area: bool
    has_building: bool
    pages: tuple[PageView, ...] = ()
    offers: tuple[Offer, ...] = ()
    chain: tuple[StaffMember, ...] = ()
    progress: Progress = field(default_factory=Progress)
    # False when the runner did not rank who could be paged (an answer that pages nobody): the core then assumes
    # someone might still be found.
    offers_loaded: bool = True

    def page(self, person_id: str) -> PageView | None:
        return next((p for p in self.pages if p.person_id == person_id), None)


# What can happen to an incident (the runner passes those that just did).
@dataclass(frozen=True)
class Pressed:
    pass


@dataclass(frozen=True)
class Tick:
    """A timer the last decision asked for is due."""


@dataclass(frozen=True)
class Accepted:
    person_id: str
    via: str = "sms"


@dataclass(frozen=True)
class Declined:
    person_id: str
    via: str = "sms"


@dataclass(frozen=True)
class Unreachable:
    """The alert did not get through (failed SMS) or a call was not answered: they may still answer later."""

    person_id: str
    outcome: Literal["failed", "no_answer"] = "failed"
    via: str = "sms"


@dataclass(frozen=True)
class Arrived:
    person_id: str
    via: str = "tap"  # tap | sms | geofence


@dataclass(frozen=True)
class ConfirmedOnScene:
    """A grid worker confirms someone is with the patient: `person_id`, an accepter they name, or nobody named
    (someone is there, perhaps staff: that is not a qualified responder on scene)."""

    actor: str
    person_id: str | None = None


@dataclass(frozen=True)
class Closed:
    status: Status


Event = Pressed | Tick | Accepted | Declined | Unreachable | Arrived | ConfirmedOnScene | Closed
