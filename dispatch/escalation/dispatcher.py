"""The runner of the dispatch core: load the incident, ask `next_step`, carry the decision out.

Every entry point that changes whom we page goes through `decide`: a timer (`Tick`), an answer (`Accepted`,
`Declined`, `Arrived`), a failed alert (`Unreachable`), a grid worker's confirmation and a close. It runs inside
the caller's transaction, with the incident already locked (PostgreSQL) or under the write lock (SQLite), so the
pages, messages, timeline and the next timer commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.context import DispatchContext
from dispatch.escalation import briefing, engine
from dispatch.escalation.decision import Decision, Notice, PageOrder, ResidentNotice, next_step
from dispatch.escalation.lifecycle import PageStatus, TimerStatus, check_page
from dispatch.escalation.loading import Loaded, load
from dispatch.escalation.models import EscalationTimer
from dispatch.escalation.snapshot import (
    MARK_PRIMARY,
    Accepted,
    ChainAction,
    ConfirmedOnScene,
    Declined,
    Event,
    Pressed,
    Tick,
    Unreachable,
)
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.states import ALLOWED, CLOSED, Status
from dispatch.incidents.transitions import record, transition

# Events after which someone new may be paged: only then is it worth ranking who could be.
_MAY_PAGE = (Pressed, Tick, Declined, Unreachable, Accepted)


def decide(session: Session, ctx: DispatchContext, incident: Incident, events: Sequence[Event]) -> Decision:
    now = ctx.clock.now()
    loaded = load(session, ctx, incident, now, offers=any(isinstance(e, _MAY_PAGE) for e in events))
    decision = next_step(loaded.snapshot, events, now, loaded.rules)
    _carry_out(session, ctx, incident, loaded, decision, events, now)
    return decision


def _via(events: Sequence[Event], person: str) -> str:
    return next((str(getattr(e, "via", "")) for e in events if getattr(e, "person_id", None) == person), "") or "-"


def _carry_out(
    session: Session,
    ctx: DispatchContext,
    incident: Incident,
    loaded: Loaded,
    decision: Decision,
    events: Sequence[Event],
    now: datetime,
) -> None:
    pending_status = decision.status
    pages = loaded.pages
    stood_down: list[str] = []
    for person, status in decision.changes:
        page = pages[person]
        check_page(page.status, status)
        page.status = status.value
        via = _via(events, person)
        if status in (PageStatus.ACCEPTED, PageStatus.DECLINED, PageStatus.LATE):
            page.responded_at = now
        if status is PageStatus.STOOD_DOWN:
            stood_down.append(person)
        elif status is PageStatus.ACCEPTED:
            pending_status = _record_acceptance(session, incident, page, via, pending_status, now)
        elif status is PageStatus.ON_SCENE:
            if pending_status is Status.ON_SCENE and incident.status != Status.ON_SCENE.value:
                transition(session, incident, Status.ON_SCENE, now, actor=person, via=via, role=page.role)
                pending_status = None
            else:
                record(session, incident.id, "arrived", now, person, via=via, role=page.role, name=page.name)
        elif status in (PageStatus.DECLINED, PageStatus.FAILED, PageStatus.NO_ANSWER, PageStatus.LATE):
            type_ = "late_accept" if status is PageStatus.LATE else status.value
            record(session, incident.id, type_, now, person, via=via, name=page.name)
    if pending_status is Status.DISPATCHING and incident.status == Status.REPORTED.value:
        transition(session, incident, Status.DISPATCHING, now)  # before the pages, as the timeline reads
        pending_status = None
    _page(session, ctx, incident, loaded, decision.pages, now)
    for person, notice in decision.messages:
        if notice is Notice.DECLINE_ACK and _via(events, person) == "voice":
            continue  # the caller heard it spoken
        briefing.tell(session, ctx, incident, pages[person], notice, now)
    if stood_down:
        record(session, incident.id, "stood_down", now, None, people=stood_down)
    if ResidentNotice.CALL_120_NOW in decision.resident:
        briefing.tell_resident_call_120(session, ctx, incident, now)
    if pending_status is not None and pending_status in ALLOWED[Status(incident.status)]:
        actor = next((e.actor for e in events if isinstance(e, ConfirmedOnScene)), None)
        transition(session, incident, pending_status, now, actor=actor, reason="dispatch")
    for type_, detail in decision.marks:
        record(session, incident.id, type_, now, None, **detail)
        if type_ == MARK_PRIMARY:
            incident.accepted_by = str(detail["person"])
    schedule(session, incident.id, decision.wake_at)


def _record_acceptance(
    session: Session, incident: Incident, page: Page, via: str, pending: Status | None, now: datetime
) -> Status | None:
    """The first acceptance moves the incident (and is its `accepted` event); later ones are recorded beside it."""
    support = page.person_kind == "vanguard" and page.role != "responder"
    if support:
        record(session, incident.id, "support_accepted", now, page.person_id, via=via, name=page.name, role=page.role)
        return pending
    if pending is Status.ACCEPTED and incident.status != Status.ACCEPTED.value:
        values = {"accepted_by": page.person_id, "accepted_at": now}
        transition(
            session, incident, Status.ACCEPTED, now, actor=page.person_id, values=values,
            via=via, name=page.name, role=page.role,
        )  # fmt: skip
        return None
    record(session, incident.id, "accepted", now, page.person_id, via=via, name=page.name, role=page.role, more=True)
    return pending


def _page(
    session: Session,
    ctx: DispatchContext,
    incident: Incident,
    loaded: Loaded,
    orders: Sequence[PageOrder],
    now: datetime,
) -> None:
    last = len(loaded.rules.steps) - 1

    def key(o: PageOrder) -> tuple[int, tuple[str, ...], bool]:
        return (o.step, o.channels, o.repeat)

    for (step, channels, repeat), group in groupby(orders, key=key):
        chosen = [loaded.recipients[o.person_id] for o in group]
        if repeat:
            # A reminder: the page exists; its alert goes out again under a tag of its own (and says which time).
            for r in chosen:
                times = _times_paged(loaded, r.person_id) + 1
                engine.page_recipients(
                    session, ctx, incident, last + times - 1, [r], now, tag=f"rot{times}", channels=channels
                )
            continue
        new = engine.page_recipients(session, ctx, incident, step, chosen, now, tag=f"s{step}", channels=channels)
        loaded.pages.update({p.person_id: p for p in new})
        if step != loaded.rules.chain_step_of(ChainAction.BUILDING_LEADER):  # at t = 0 it is no escalation
            incident.escalation_level = max(incident.escalation_level, step)


def _times_paged(loaded: Loaded, person: str) -> int:
    view = loaded.snapshot.page(person)
    return view.times_paged if view is not None else 0


def schedule(session: Session, incident_id: str, due_at: datetime | None) -> None:
    """The incident's one pending timer is now `due_at` (none once it closed). Earlier pending ones are superseded;
    each row fires at most once, so a stale wake-up can never act twice."""
    session.execute(
        update(EscalationTimer)
        .where(EscalationTimer.incident_id == incident_id, EscalationTimer.status == TimerStatus.PENDING.value)
        .values(status=TimerStatus.SKIPPED.value)
    )
    if due_at is None:
        return
    last = session.scalar(select(func.max(EscalationTimer.step)).where(EscalationTimer.incident_id == incident_id))
    session.add(
        EscalationTimer(
            incident_id=incident_id,
            step=(last if last is not None else -1) + 1,
            due_at=due_at,
            status=TimerStatus.PENDING.value,
            attempts=0,
        )
    )


def unreachable(session: Session, ctx: DispatchContext, incident: Incident, page: Page, outcome: str, via: str) -> str:
    """An alert did not get through (`failed`) or a call went unanswered (`no_answer`): move on at once.
    Idempotent: a page no longer awaiting its first answer is left alone."""
    if page.status != PageStatus.PAGED.value or Status(incident.status) in CLOSED:
        return "ignored"
    event = Unreachable(page.person_id, "no_answer" if outcome == "no_answer" else "failed", via)
    decision = decide(session, ctx, incident, [event])
    return "replaced" if any(o.reason == "replacement" for o in decision.pages) else "moved_on"
