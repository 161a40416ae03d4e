"""What people answer: accept, decline, on scene. By SMS reply, keypress or one-tap link, the same rules apply.

The first acceptance wins (a compare-and-set on the incident's status); the winner gets the exact door, everyone
else paged is stood down, and the pending escalation timers are cancelled in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import phone_intake, wellbeing
from dispatch.community.models import Household
from dispatch.context import DispatchContext
from dispatch.escalation import engine, moves, standdown
from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.incidents.service import CODE_ALPHABET
from dispatch.incidents.states import ACTIVE, OPEN_SEARCH, Status
from dispatch.incidents.transitions import record, transition
from notify import messages
from notify.outbox import enqueue


class Intent(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    ON_SCENE = "on_scene"
    UNKNOWN = "unknown"


_ACCEPT = {"1", "Y", "YES", "OK", "是", "接", "接单", "好", "可以", "ACCEPT"}
_DECLINE = {"2", "N", "NO", "否", "不", "不行", "无法", "DECLINE"}
_ON_SCENE = {"3", "到", "到达", "已到", "ARRIVED", "ONSCENE"}
_CODE = re.compile(rf"#?([{CODE_ALPHABET}]{{3,6}})")


AWAITING = ("paged", "no_answer", "failed")


class Reply(NamedTuple):
    intent: Intent
    code: str | None


def parse_reply(body: str) -> Reply:
    """'1', ' y ', '是', '1 K7Q', '#K7Q 2', 'Yes!' -> intent and optional incident code. Pure."""
    text = unicodedata.normalize("NFKC", body).strip().upper()
    text = re.sub(r"[.!?,;:。！？，；：、\"'“”]+", " ", text)
    tokens = text.split()
    intent = Intent.UNKNOWN
    code: str | None = None
    for token in tokens:
        bare = token.lstrip("#")
        if intent is Intent.UNKNOWN and bare in _ACCEPT:
            intent = Intent.ACCEPT
        elif intent is Intent.UNKNOWN and bare in _DECLINE:
            intent = Intent.DECLINE
        elif intent is Intent.UNKNOWN and bare in _ON_SCENE:
            intent = Intent.ON_SCENE
        elif code is None and (m := _CODE.fullmatch(token)) and (not bare.isdigit() or intent is not Intent.UNKNOWN):
            code = m.group(1)
    if (
        intent is Intent.UNKNOWN
        and len(tokens) == 1
        and tokens[0][:1] in ("1", "2", "3")
        and (glued := _CODE.fullmatch(tokens[0][1:]))
    ):
        # "1K7Q" typed without a space (and only then: "1/4" is no answer)
        intent = {"1": Intent.ACCEPT, "2": Intent.DECLINE, "3": Intent.ON_SCENE}[tokens[0][0]]
        code = glued.group(1)
    return Reply(intent, code)


def _reply(session: Session, ctx: DispatchContext, phone: str, body: str, key: str) -> None:
    enqueue(session, dedupe_key=key, to=phone, body=body, purpose="reply", now=ctx.clock.now())


def open_pages_for_phone(session: Session, phone: str) -> list[tuple[Page, Incident]]:
    rows = session.execute(
        select(Page, Incident)
        .join(Incident, Incident.id == Page.incident_id)
        .where(
            Page.phone == phone,
            Incident.status.in_([s.value for s in ACTIVE]),
            Page.status.in_(["paged", "accepted", "stood_down", "lapsed", "no_answer", "failed"]),
        )
        .order_by(Page.paged_at.desc())
    ).all()
    return [(p, i) for p, i in rows]


def handle_sms(session: Session, ctx: DispatchContext, phone: str, body: str, message_id: str) -> str:
    """An SMS to the community number. Returns what happened, for the log and the tests.

    In order: an opt-out; an answer to an open alert; an answer to a wellbeing follow-up; a resident asking for
    help (registered household number) or a stranger (forwarded to the duty officer); otherwise a help text.
    """
    if wellbeing.is_opt_out(body):
        return wellbeing.opt_out(session, ctx, phone, message_id)
    reply = parse_reply(body)
    pages = open_pages_for_phone(session, phone)
    if not pages:
        answered = wellbeing.answer(session, ctx, phone, body, message_id)
        if answered is not None:
            return answered
        if not phone_intake.is_known_person(session, phone):
            return phone_intake.open_by_phone(session, ctx, phone, body, message_id, "sms").outcome
    if reply.intent is Intent.UNKNOWN:
        _reply(session, ctx, phone, messages.unknown_reply_sms(), f"reply:{message_id}")
        return "unknown"
    if reply.code:
        pages = [(p, i) for p, i in pages if i.code == reply.code]
    elif reply.intent is Intent.ON_SCENE:
        pages = [(p, i) for p, i in pages if p.status in ("accepted", "lapsed")]
    else:
        # Prefer alerts still awaiting an answer; an answer to one already stood down hears it was taken.
        # A missed call or a failed SMS does not stop a later answer from counting.
        pages = [(p, i) for p, i in pages if p.status in AWAITING] or [
            (p, i) for p, i in pages if p.status == "stood_down"
        ]
    if not pages:
        _reply(session, ctx, phone, messages.nothing_open_sms(), f"reply:{message_id}")
        return "nothing_open"
    if len(pages) > 1:
        codes = sorted({i.code for _, i in pages})
        _reply(session, ctx, phone, messages.ambiguous_reply_sms(codes), f"reply:{message_id}")
        return "ambiguous"
    page, incident = pages[0]
    return respond(session, ctx, page, incident, reply.intent, via="sms")


def respond(session: Session, ctx: DispatchContext, page: Page, incident: Incident, intent: Intent, via: str) -> str:
    if intent is Intent.ACCEPT:
        return accept(session, ctx, page, incident, via)
    if intent is Intent.DECLINE:
        return decline(session, ctx, page, incident, via)
    if intent is Intent.ON_SCENE:
        return on_scene(session, ctx, page, incident, via)
    return "unknown"


def _lock(session: Session, page: Page, incident: Incident) -> None:
    """On PostgreSQL, lock the incident and read both afresh before answering: a step being fired or another
    answer being recorded on this incident finishes first, so this answer is ordered after it and sees what it
    changed. Every path that changes an incident's pages locks the incident first, so none can deadlock on them.
    (SQLite: the transaction already holds the one write lock, and read everything under it.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(incident, with_for_update=True)
        session.refresh(page)


def accept(session: Session, ctx: DispatchContext, page: Page, incident: Incident, via: str) -> str:
    # Ordered after a step being fired: the acceptance stands down the pages it wrote, not timestamped before them.
    _lock(session, page, incident)
    now = ctx.clock.now()
    if page.status == "accepted":
        return "already_accepted"
    if page.status == "stood_down":
        _reply(
            session, ctx, page.phone, messages.late_accept_sms(incident.code), f"{incident.id}:{page.person_id}:late"
        )
        return "late"
    if is_support_role(page) and Status(incident.status) in ACTIVE:
        return accept_support(session, ctx, page, incident, via)
    if Status(incident.status) not in OPEN_SEARCH:
        # Someone else accepted, or a grid worker already confirmed help on scene, or it closed.
        return _too_late(session, ctx, page, incident, via, now)
    won = transition(
        session,
        incident,
        Status.ACCEPTED,
        now,
        actor=page.person_id,
        only_from=OPEN_SEARCH,
        values={"accepted_by": page.person_id, "accepted_at": now},
        via=via,
        name=page.name,
        role=page.role,
    )
    page.responded_at = now
    if not won:
        return _too_late(session, ctx, page, incident, via, now)
    page.status = "accepted"
    engine.stop_search(session, incident)
    moves.schedule_on_scene_check(session, incident, now)
    send_door_details(session, ctx, page, incident)
    # The responder's place is taken; support roles nobody has taken yet (an AED on its way) stay open.
    still_wanted = open_support_roles(session, incident)
    standdown.stand_down_waiting(session, ctx, incident, keep=page.id, spare_roles=still_wanted)
    return "accepted"


def open_support_roles(session: Session, incident: Incident) -> frozenset[str]:
    pages = list(session.scalars(select(Page).where(Page.incident_id == incident.id, Page.person_kind == "vanguard")))
    roles = {p.role for p in pages if p.role != "responder"}
    filled = {p.role for p in pages if p.role != "responder" and p.status == "accepted"}
    return frozenset(roles - filled)


def is_support_role(page: Page) -> bool:
    """A vanguard paged for a support role (AED fetcher, carrier), not as the responder to the patient."""
    return page.person_kind == "vanguard" and page.role != "responder"


def _too_late(session: Session, ctx: DispatchContext, page: Page, incident: Incident, via: str, now: datetime) -> str:
    page.status, page.responded_at = "late", now
    record(session, incident.id, "late_accept", now, page.person_id, via=via)
    body = (
        messages.late_accept_sms(incident.code)
        if Status(incident.status) in ACTIVE
        else messages.closed_sms(incident.code, "结束")
    )
    _reply(session, ctx, page.phone, body, f"{incident.id}:{page.person_id}:late")
    return "late"


def _task_of(session: Session, page: Page) -> str | None:
    """What the matcher asked of this person (e.g. which AED to fetch), from the paged event's explanation."""
    events = session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == page.incident_id, IncidentEvent.type == "paged")
    )
    for event in events:
        for recipient in (event.detail or {}).get("recipients", []):
            if recipient.get("person") == page.person_id and recipient.get("why"):
                return str(recipient["why"])
    return None


def accept_support(session: Session, ctx: DispatchContext, page: Page, incident: Incident, via: str) -> str:
    """A support role's acceptance is recorded and briefed, but does not close the search for the responder:
    an AED fetcher saying yes must never stand the doctor down."""
    now = ctx.clock.now()
    page.status, page.responded_at = "accepted", now
    record(session, incident.id, "support_accepted", now, page.person_id, via=via, name=page.name, role=page.role)
    fetch = re.search(r"fetches (\S+) \(([^)]*)\)", _task_of(session, page) or "")
    if fetch:
        task = (
            f"。请先取AED {fetch.group(1)}（{fetch.group(2)}）再前往",
            f". Fetch AED {fetch.group(1)} ({fetch.group(2)}) on the way",
        )
        send_door_details(session, ctx, page, incident, task)
    else:
        send_door_details(session, ctx, page, incident)
    standdown.stand_down_waiting(session, ctx, incident, keep=page.id, only_role=page.role)
    return "support_accepted"


def decline(session: Session, ctx: DispatchContext, page: Page, incident: Incident, via: str) -> str:
    # A decline that waited for an acceptance must see it: otherwise it pages a replacement on a closed search.
    _lock(session, page, incident)
    now = ctx.clock.now()
    if page.status not in AWAITING:
        return f"already_{page.status}"
    if page.status != "paged":  # the search already moved past them; just record the answer
        page.status, page.responded_at = "declined", now
        record(session, incident.id, "declined", now, page.person_id, via=via, name=page.name)
        return "declined"
    page.responded_at = now
    record(session, incident.id, "declined", now, page.person_id, via=via, name=page.name)
    if via != "voice":
        ack = messages.declined_ack_sms(incident.code)
        _reply(session, ctx, page.phone, ack, f"{incident.id}:{page.person_id}:ack:{page.step}")
    if moves.move_on(session, ctx, incident, page, "declined", via) == "ignored":
        page.status = "declined"
    return "declined"


def on_scene(session: Session, ctx: DispatchContext, page: Page, incident: Incident, via: str) -> str:
    now = ctx.clock.now()
    if page.status == "lapsed" and Status(incident.status) in OPEN_SEARCH:
        # Late but there: the re-opened search ends, the person who is at the door keeps the incident.
        if not transition(
            session,
            incident,
            Status.ON_SCENE,
            now,
            actor=page.person_id,
            only_from=OPEN_SEARCH,
            values={"accepted_by": page.person_id},
            via=via,
        ):
            return "not_accepted"
        page.status = "accepted"
        engine.stop_search(session, incident)
        return "on_scene"
    if page.status != "accepted" or incident.status != Status.ACCEPTED.value:
        return "not_accepted"
    transition(session, incident, Status.ON_SCENE, now, actor=page.person_id, via=via)
    return "on_scene"


def send_door_details(
    session: Session, ctx: DispatchContext, page: Page, incident: Incident, task: tuple[str, str] = ("", "")
) -> None:
    """Privacy by stage: the exact entrance, floor and unit go to whoever accepted, and to nobody else."""
    building = ctx.directory.buildings.get(incident.building_id or "")
    household = session.get(Household, incident.household_id) if incident.household_id else None
    place_zh, place_en = engine.describe_place(building, incident)
    if household is not None and incident.location_source == "household":
        place_zh += f" {household.entrance}单元 {household.floor}楼 {household.unit}室"
        place_en += f", entrance {household.entrance}, floor {household.floor}, unit {household.unit}"
    enqueue(
        session,
        dedupe_key=f"{incident.id}:{page.person_id}:details",
        to=page.phone,
        body=messages.details_sms(
            incident.code, place_zh + task[0], place_en + task[1], household.phone if household else None
        ),
        purpose="details",
        now=ctx.clock.now(),
        incident_id=incident.id,
        page_id=page.id,
    )
