"""The dispatch core: whom to page, whom to stand down, when to escalate and what to tell the resident.

`next_step(snapshot, events, now, rules) -> Decision` is the only place these choices are made. It reads no
database, no clock and no network: the runner loads the snapshot, passes what just happened, and carries the
decision out in one transaction. Each rule below is one function, in the order they apply:

1. what just happened (`_absorb`): an acceptance makes a primary (the accepter due first) or a backup, who keeps
   coming; a support role (the AED fetcher) is filled by its own acceptances only; a decline or a failed alert
   asks for a replacement at once;
2. the incident closed: everyone still paged or on the way is told, and nothing more is scheduled;
3. no-show (`_no_show`): a primary not at the door by their ETA x factor + margin lapses, the backup due first is
   promoted, and the next wave opens at once;
4. a qualified responder on scene (`_qualified_arrived`): only now are the other responders and staff stood down;
5. waves (`_waves`): t = 0 pages the nearest skilled vanguards, the support roles and the building's own people;
   more waves follow until `responders_wanted` are on the way;
6. the staff chain (`_chain`), on its own track: building leader, grid branch, community duty officers, then a
   rotation through all of them with a repeat bound and backoff, while no qualified responder is on the way;
7. the resident (`_resident`): nobody qualified on the way by `call_120_after_s` (at once when out of area):
   "call 120 now";
8. the next timer (`_wake`): every open incident always has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dispatch.escalation.lifecycle import AWAITING, GOING, PageStatus, Role
from dispatch.escalation.rules import Rules
from dispatch.escalation.snapshot import (
    MARK_CHAIN,
    MARK_CHAIN_EXHAUSTED,
    MARK_NO_SHOW,
    MARK_NOBODY_REACHABLE,
    MARK_PRIMARY,
    MARK_QUALIFIED_ON_SCENE,
    MARK_ROTATION,
    MARK_TOLD_RESIDENT,
    MARK_WAVE,
    Accepted,
    Arrived,
    ChainAction,
    Closed,
    ConfirmedOnScene,
    Declined,
    Event,
    Offer,
    PageView,
    Progress,
    Snapshot,
    StaffMember,
    Unreachable,
)
from dispatch.incidents.states import ALLOWED, CLOSED, Status


class Notice(StrEnum):
    """What a paged person is told besides the alert itself."""

    DOOR_PRIMARY = "door_primary"  # you accepted and are due first: here is the door
    DOOR_BACKUP = "door_backup"  # you accepted; someone is due before you: keep coming, here is the door
    DOOR_SUPPORT = "door_support"  # your support role (AED, carrying) is yours: here is the door and the task
    DOOR_STAFF = "door_staff"  # a staff member took it on
    NOW_BACKUP = "now_backup"  # someone due sooner accepted: keep coming as backup
    PROMOTED = "promoted"  # the primary did not arrive: you are first now
    LAPSED = "lapsed"  # you did not arrive in time: others are paged; come if you can
    STOOD_DOWN = "stood_down"  # not needed (any more): do not come
    THANKS_ARRIVED = "thanks_arrived"  # a qualified responder is there: you may turn back
    LATE = "late"  # your yes came after the place was filled
    CLOSED = "closed"  # the incident closed
    DECLINE_ACK = "decline_ack"


class ResidentNotice(StrEnum):
    CALL_120_NOW = "call_120_now"


@dataclass(frozen=True)
class PageOrder:
    person_id: str
    kind: str  # vanguard | staff
    role: Role
    reason: str  # wave | building | replacement | support | chain | rotation
    step: int
    channels: tuple[str, ...] = ("sms",)
    repeat: bool = False  # a staff member paged again by the rotation


@dataclass(frozen=True)
class Decision:
    pages: tuple[PageOrder, ...] = ()
    changes: tuple[tuple[str, PageStatus], ...] = ()  # person -> new page status, in order
    messages: tuple[tuple[str, Notice], ...] = ()
    resident: tuple[ResidentNotice, ...] = ()
    status: Status | None = None
    marks: tuple[tuple[str, dict[str, Any]], ...] = ()  # timeline events that record the decision
    wake_at: datetime | None = None


@dataclass
class _Work:
    """The decision being built: the pages as they will be once it is carried out."""

    snap: Snapshot
    rules: Rules
    now: datetime
    pages: dict[str, PageView]
    offers: list[Offer]
    progress: Progress
    orders: list[PageOrder] = field(default_factory=list)
    changes: list[tuple[str, PageStatus]] = field(default_factory=list)
    messages: list[tuple[str, Notice]] = field(default_factory=list)
    resident: list[ResidentNotice] = field(default_factory=list)
    marks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    replacements: dict[Role, int] = field(default_factory=dict)
    wave_now: bool = False
    chain_now: bool = False
    status: Status = Status.REPORTED

    def set(self, person_id: str, status: PageStatus, **fields: Any) -> None:
        self.pages[person_id] = replace(self.pages[person_id], status=status, **fields)
        self.changes.append((person_id, status))

    def tell(self, person_id: str, notice: Notice) -> None:
        self.messages.append((person_id, notice))

    def mark(self, type_: str, **detail: Any) -> None:
        self.marks.append((type_, detail))
        self.progress = self.progress.after(type_, self.now, detail)

    def page(self, offer: Offer, reason: str, step: int) -> None:
        self.offers = [o for o in self.offers if o.person_id != offer.person_id]
        self.pages[offer.person_id] = PageView(
            offer.person_id, "vanguard", offer.role, PageStatus.PAGED, self.now, offer.eta_s,
            qualified=offer.role is Role.RESPONDER,
        )  # fmt: skip
        self.orders.append(PageOrder(offer.person_id, "vanguard", offer.role, reason, step))

    def responders(self, *statuses: PageStatus) -> list[PageView]:
        return [p for p in self.pages.values() if p.qualified and p.status in statuses]

    def primary(self) -> PageView | None:
        going = self.responders(PageStatus.ACCEPTED)
        return min(going, key=_due_first) if going else None

    def staff_on_it(self) -> bool:
        return any(p.kind == "staff" and p.status in GOING for p in self.pages.values())


def _due_first(page: PageView) -> tuple[datetime, str]:
    return (page.expected_at or page.paged_at, page.person_id)


def next_step(snapshot: Snapshot, events: Sequence[Event], now: datetime, rules: Rules) -> Decision:
    """Everything the service does next about one incident, given what just happened."""
    w = _Work(snapshot, rules, now, {p.person_id: p for p in snapshot.pages}, list(snapshot.offers), snapshot.progress)
    w.status = snapshot.status
    before = w.primary()
    for event in events:
        _absorb(w, event)
    if w.status in CLOSED:
        _close(w)
        return _decision(w, wake_at=None)
    _no_show(w)
    _announce_primary(w, before)
    _qualified_arrived(w)
    _waves(w)
    _chain(w)
    _resident(w)
    _settle_status(w)
    return _decision(w, wake_at=_wake(w))


def _decision(w: _Work, wake_at: datetime | None) -> Decision:
    status = w.status if w.status != w.snap.status else None
    return Decision(
        tuple(w.orders), tuple(w.changes), tuple(w.messages), tuple(w.resident), status, tuple(w.marks), wake_at
    )


# 1. What just happened ------------------------------------------------------------------------------------------


def _absorb(w: _Work, event: Event) -> None:
    if isinstance(event, Closed):
        w.status = event.status
        return
    if isinstance(event, ConfirmedOnScene):
        named = w.pages.get(event.person_id) if event.person_id else None
        if named is not None and named.status in (PageStatus.ACCEPTED, PageStatus.LAPSED):
            _arrive(w, named.person_id)  # the grid worker sees the accepter they name
        elif w.status in (Status.DISPATCHING, Status.ACCEPTED):
            w.status = Status.ON_SCENE  # someone is there; the search for a qualified responder goes on
        return
    person = getattr(event, "person_id", None)
    page = w.pages.get(person) if person else None
    if page is None:
        return  # an answer from someone never paged for this incident (or a tick): nothing to absorb
    if isinstance(event, Accepted):
        _accept(w, page)
    elif isinstance(event, Declined | Unreachable):
        if page.status not in AWAITING:
            return
        status = PageStatus.DECLINED if isinstance(event, Declined) else PageStatus(event.outcome)
        if status is not page.status:
            w.set(page.person_id, status)
        if isinstance(event, Declined):
            w.tell(page.person_id, Notice.DECLINE_ACK)
        if page.kind == "staff":
            w.chain_now = not any(p.kind == "staff" and p.status is PageStatus.PAGED for p in w.pages.values())
        elif page.status is PageStatus.PAGED:  # the first sign they will not come: move on at once, once
            w.replacements[page.role] = w.replacements.get(page.role, 0) + 1
    elif isinstance(event, Arrived):
        _arrive(w, page.person_id)


def _accept(w: _Work, page: PageView) -> None:
    if page.status in (PageStatus.ACCEPTED, PageStatus.ON_SCENE):
        return
    if page.status is PageStatus.LAPSED:  # a no-show who is still coming after all: their ETA counts from now
        w.set(page.person_id, PageStatus.ACCEPTED, accepted_at=w.now)
        return
    filled = page.role.is_support and any(
        p.role is page.role and p.status in (PageStatus.ACCEPTED, PageStatus.ON_SCENE) for p in w.pages.values()
    )
    if page.status not in AWAITING or filled or (page.qualified and w.progress.qualified_on_scene):
        if page.status in AWAITING or page.status is PageStatus.STOOD_DOWN:
            w.set(page.person_id, PageStatus.LATE)
        w.tell(page.person_id, Notice.LATE)
        return
    w.set(page.person_id, PageStatus.ACCEPTED, accepted_at=w.now)
    if page.role.is_support:
        w.tell(page.person_id, Notice.DOOR_SUPPORT)
        for other in list(w.pages.values()):  # the role is filled: the others asked for it need not come
            if other.role is page.role and other.status in AWAITING:
                w.set(other.person_id, PageStatus.STOOD_DOWN)
                w.tell(other.person_id, Notice.STOOD_DOWN)
        return
    if page.kind == "staff":
        w.tell(page.person_id, Notice.DOOR_STAFF)
    elif w.primary() is not None and w.primary().person_id == page.person_id:  # type: ignore[union-attr]
        w.tell(page.person_id, Notice.DOOR_PRIMARY)
    else:
        w.tell(page.person_id, Notice.DOOR_BACKUP)
    if w.status in (Status.REPORTED, Status.DISPATCHING):
        w.status = Status.ACCEPTED


def _arrive(w: _Work, person_id: str) -> None:
    page = w.pages[person_id]
    if page.status not in (PageStatus.ACCEPTED, PageStatus.LAPSED):
        return
    w.set(person_id, PageStatus.ON_SCENE)
    if (page.qualified or page.kind == "staff") and w.status in (Status.DISPATCHING, Status.ACCEPTED):
        w.status = Status.ON_SCENE
    if page.qualified and not w.progress.qualified_on_scene:
        w.mark(MARK_QUALIFIED_ON_SCENE, person=person_id)


# 2. Closed --------------------------------------------------------------------------------------------------------


def _close(w: _Work) -> None:
    for page in list(w.pages.values()):
        if page.status in AWAITING:
            w.set(page.person_id, PageStatus.STOOD_DOWN)
            w.tell(page.person_id, Notice.CLOSED)
        elif page.status in (PageStatus.ACCEPTED, PageStatus.LAPSED) and w.status is not Status.RESOLVED:
            w.tell(page.person_id, Notice.CLOSED)  # resolved: they were there, or it no longer matters


# 3. No-show -------------------------------------------------------------------------------------------------------


def _deadline(w: _Work, page: PageView) -> datetime | None:
    if page.accepted_at is None or page.eta_s is None:
        return None
    return page.accepted_at + timedelta(seconds=page.eta_s * w.rules.no_show_factor + w.rules.no_show_margin_s)


def _no_show(w: _Work) -> None:
    while (primary := w.primary()) is not None and (due := _deadline(w, primary)) is not None and w.now >= due:
        w.set(primary.person_id, PageStatus.LAPSED)
        w.tell(primary.person_id, Notice.LAPSED)
        w.mark(MARK_NO_SHOW, person=primary.person_id)
        w.wave_now = True
        successor = w.primary()
        if successor is not None:
            w.tell(successor.person_id, Notice.PROMOTED)
            w.mark(MARK_PRIMARY, person=successor.person_id, after="no_show")


def _announce_primary(w: _Work, before: PageView | None) -> None:
    """Someone due sooner accepted: the previous primary hears they are backup now and keeps coming."""
    after = w.primary()
    if after is None or before is None or after.person_id == before.person_id:
        if after is not None and before is None:
            w.mark(MARK_PRIMARY, person=after.person_id, after="accepted")
        return
    if w.pages[before.person_id].status is PageStatus.ACCEPTED:
        w.tell(before.person_id, Notice.NOW_BACKUP)
        w.mark(MARK_PRIMARY, person=after.person_id, after="sooner")


# 4. A qualified responder on scene ---------------------------------------------------------------------------------


def _qualified_arrived(w: _Work) -> None:
    if not w.progress.qualified_on_scene:
        return
    for page in list(w.pages.values()):
        if page.role.is_support:
            continue  # the AED is still wanted with someone at the patient's side
        if page.status in AWAITING:
            w.set(page.person_id, PageStatus.STOOD_DOWN)
            w.tell(page.person_id, Notice.STOOD_DOWN)
        elif page.status in (PageStatus.ACCEPTED, PageStatus.LAPSED) and page.kind == "vanguard":
            w.set(page.person_id, PageStatus.STOOD_DOWN)
            w.tell(page.person_id, Notice.THANKS_ARRIVED)


# 5. Waves ---------------------------------------------------------------------------------------------------------


def _wanted(w: _Work) -> bool:
    going = w.responders(PageStatus.ACCEPTED)
    return not w.progress.qualified_on_scene and len(going) < w.rules.responders_wanted


def _take(w: _Work, role: Role, count: int, reason: str, step: int, same_building: bool = False) -> int:
    taken = 0
    for offer in [o for o in w.offers if o.role is role and (o.same_building or not same_building)]:
        if taken >= count:
            break
        if offer.person_id in w.pages:
            continue
        w.page(offer, reason, step)
        taken += 1
    return taken


def _waves(w: _Work) -> None:
    first = w.progress.waves == 0
    if first:
        if w.snap.out_of_area:
            return  # nobody of ours knows the place: the duty officer takes it (the chain), and 120
        for spec in w.rules.support_roles:
            _take(w, spec.role, spec.count, "support", 0)
        if w.rules.building_at_start and w.snap.has_building:
            _take(w, Role.RESPONDER, w.rules.building_vanguards_max, "building", 0, same_building=True)
        _take(w, Role.RESPONDER, w.rules.wave_size(0), "wave", 0)
        w.mark(MARK_WAVE, n=1)
        return
    for role, count in w.replacements.items():
        if role is Role.RESPONDER and not _wanted(w):
            continue
        if role.is_support and any(p.role is role and p.status is PageStatus.ACCEPTED for p in w.pages.values()):
            continue
        _take(w, role, count, "replacement", w.progress.waves - 1)
    if not _wanted(w):
        return
    nobody_left = not w.responders(PageStatus.PAGED)
    due = w.progress.last_wave_at is None or w.now >= _next_wave_at(w)
    if w.wave_now or due or nobody_left:
        n = w.progress.waves
        if _take(w, Role.RESPONDER, w.rules.wave_size(n), "wave", n):
            w.mark(MARK_WAVE, n=n + 1)


def _next_wave_at(w: _Work) -> datetime:
    planned = w.snap.reported_at + timedelta(seconds=w.rules.wave_at_s(w.progress.waves))
    if w.progress.last_wave_at is None:
        return planned
    # Never two waves within one wait: after a delay (a restart) or an early wave (a no-show) the plan resumes
    # from the last wave instead of catching up in a burst.
    return max(planned, w.progress.last_wave_at + timedelta(seconds=w.rules.wait_s))


# 6. The staff chain -----------------------------------------------------------------------------------------------


def _chain_wanted(w: _Work) -> bool:
    return not w.progress.qualified_on_scene and w.primary() is None and not w.staff_on_it()


def _chain(w: _Work) -> None:
    rules = w.rules
    if w.progress.waves == 1 and not w.progress.chain_steps and rules.building_at_start and w.snap.has_building:
        # The building's own leader is paged at t = 0 beside the first wave, whatever else happens.
        building = rules.chain_step_of(ChainAction.BUILDING_LEADER)
        if building is not None:
            _page_level(w, building)
    for step in rules.chain_steps:
        if step in w.progress.chain_steps:
            continue
        if not _chain_wanted(w):
            return
        if w.snap.out_of_area and rules.step_action(step) is not ChainAction.DUTY_OFFICER:
            w.mark(MARK_CHAIN, step=step, action=rules.step_action(step).value, paged=0)
            continue
        if w.now < _step_due(w, step) and not w.chain_now:
            return
        w.chain_now = not _page_level(w, step)  # an empty level: the next one at once
    if _chain_wanted(w) and not w.progress.chain_exhausted:
        _rotate(w)


def _step_due(w: _Work, step: int) -> datetime:
    # Out of the area nobody of ours knows the place: the duty officer is the first to call, at once.
    return w.snap.reported_at + timedelta(seconds=0 if w.snap.out_of_area else w.rules.step_at_s(step))


def _page_level(w: _Work, step: int) -> bool:
    action = w.rules.step_action(step)
    people = [s for s in w.snap.chain if s.action is action and s.person_id not in w.pages]
    for member in people:
        w.pages[member.person_id] = PageView(member.person_id, "staff", Role.STAFF, PageStatus.PAGED, w.now)
        w.orders.append(PageOrder(member.person_id, "staff", Role.STAFF, "chain", step, w.rules.step_channels(step)))
    w.mark(MARK_CHAIN, step=step, action=action.value, paged=len(people))
    return bool(people)


def _rotation_at(w: _Work) -> datetime | None:
    last = w.progress.last_rotation_at or w.progress.last_chain_at
    if last is None:
        return None
    people = max(1, len(w.snap.chain))
    cycle = w.progress.rotations // people
    wait = min(w.rules.wait_s * w.rules.chain_backoff_factor**cycle, w.rules.chain_backoff_max_s)
    return last + timedelta(seconds=wait)


def _rotate(w: _Work) -> None:
    """Every level was tried and nobody took it: ask again, one person at a time, the least asked first (lowest
    level first), each at most `chain_repeat_max` times in all, waiting longer after each round of everyone.
    Someone rostered since (not yet asked at all) comes first."""
    if not w.snap.chain:
        if not w.progress.nobody_reachable:
            w.mark(MARK_NOBODY_REACHABLE)  # no staff at all: the idle timer looks again for anyone rostered
        return
    due = _rotation_at(w)
    if due is None or w.now < due:  # a decline never brings a re-page forward: that phone was just rung
        return
    asked = {m.person_id: (w.pages[m.person_id].times_paged if m.person_id in w.pages else 0) for m in w.snap.chain}
    free = [(n, i, m) for i, m in enumerate(w.snap.chain) if (n := asked[m.person_id]) < w.rules.chain_repeat_max]
    if not free:
        w.mark(MARK_CHAIN_EXHAUSTED, people=len(asked))
        return
    times, _, member = min(free, key=lambda f: (f[0], f[1]))
    step = w.rules.chain_step_of(member.action) or 0
    channels = w.rules.step_channels(step)
    if member.person_id not in w.pages:
        w.pages[member.person_id] = PageView(member.person_id, "staff", Role.STAFF, PageStatus.PAGED, w.now)
        w.orders.append(PageOrder(member.person_id, "staff", Role.STAFF, "rotation", step, channels))
    else:
        page = w.pages[member.person_id]
        w.pages[member.person_id] = replace(page, times_paged=times + 1, paged_at=w.now)
        if page.status is not PageStatus.PAGED:
            w.set(member.person_id, PageStatus.PAGED)
        w.orders.append(PageOrder(member.person_id, "staff", Role.STAFF, "rotation", step, channels, repeat=True))
    w.mark(MARK_ROTATION, person=member.person_id, times=times + 1)


# 7. The resident --------------------------------------------------------------------------------------------------


def _resident(w: _Work) -> None:
    if w.progress.told_call_120 or w.progress.qualified_on_scene or w.primary() is not None:
        return
    if w.snap.out_of_area or w.now >= w.snap.reported_at + timedelta(seconds=w.rules.call_120_after_s):
        w.resident.append(ResidentNotice.CALL_120_NOW)
        w.mark(MARK_TOLD_RESIDENT, out_of_area=w.snap.out_of_area)


def _settle_status(w: _Work) -> None:
    going = any(p.status in GOING for p in w.pages.values() if not p.role.is_support)
    if w.status is Status.REPORTED and w.orders:
        w.status = Status.DISPATCHING
    elif w.status is Status.ACCEPTED and not going:
        w.status = Status.DISPATCHING  # the accepter lapsed and nobody else is on the way: searching again
    if w.status is not w.snap.status and w.status not in ALLOWED[w.snap.status]:
        w.status = w.snap.status  # never ask the runner for a move the table forbids


# 8. The next timer ------------------------------------------------------------------------------------------------


def _wake(w: _Work) -> datetime:
    """The earliest moment at which some rule could act without being told anything new."""
    times: list[datetime] = []
    findable = not w.snap.offers_loaded or any(o.role is Role.RESPONDER for o in w.offers)
    if _wanted(w) and not w.snap.out_of_area and findable:
        times.append(_next_wave_at(w))  # with nobody left to page, the idle timer looks again later
    if (primary := w.primary()) is not None and (due := _deadline(w, primary)) is not None:
        times.append(due)
    if _chain_wanted(w):
        pending = [s for s in w.rules.chain_steps if s not in w.progress.chain_steps]
        if pending:
            times.append(_step_due(w, pending[0]))
        elif w.snap.chain and not w.progress.chain_exhausted and (rotation := _rotation_at(w)) is not None:
            times.append(rotation)
    if not w.progress.told_call_120 and not w.progress.qualified_on_scene and primary is None:
        times.append(w.snap.reported_at + timedelta(seconds=w.rules.call_120_after_s))
    floor = w.now + timedelta(seconds=1)
    idle = w.now + timedelta(seconds=w.rules.chain_backoff_max_s)  # an open incident is never left without a timer
    return max(floor, min([*times, idle]))


__all__ = ["Decision", "Notice", "PageOrder", "ResidentNotice", "StaffMember", "next_step"]
