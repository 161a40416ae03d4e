"""What people answer: accept, decline, on scene. By SMS reply, keypress or one-tap link, the same rules apply.

Every answer is handed to the dispatch core (`escalation.dispatcher.decide`), which decides what follows: several
may accept, the one due first is primary and the others back up, and nobody is stood down before a qualified
responder is on scene. This module parses what people send and finds which alert they answer.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import phone_intake, wellbeing
from dispatch.context import DispatchContext
from dispatch.escalation import dispatcher
from dispatch.escalation.lifecycle import PageStatus, Role
from dispatch.escalation.snapshot import Accepted, Arrived, Declined
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.service import CODE_ALPHABET
from dispatch.incidents.states import ACTIVE, CLOSED, Status
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


AWAITING = ("paged", "no_answer", "failed")  # may still answer


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
    before = page.status
    if before in (PageStatus.ACCEPTED.value, PageStatus.ON_SCENE.value):
        return "already_accepted"
    dispatcher.decide(session, ctx, incident, [Accepted(page.person_id, via)])
    if page.status == PageStatus.ACCEPTED.value:
        support = page.person_kind == "vanguard" and page.role != Role.RESPONDER.value
        return "support_accepted" if support else "accepted"
    return "late"


def decline(session: Session, ctx: DispatchContext, page: Page, incident: Incident, via: str) -> str:
    # A decline that waited for an acceptance must see it: otherwise it pages a replacement on a closed search.
    _lock(session, page, incident)
    if page.status not in AWAITING:
        return f"already_{page.status}"
    dispatcher.decide(session, ctx, incident, [Declined(page.person_id, via)])
    return "declined"


def on_scene(session: Session, ctx: DispatchContext, page: Page, incident: Incident, via: str) -> str:
    _lock(session, page, incident)
    if page.status not in (PageStatus.ACCEPTED.value, PageStatus.LAPSED.value) or Status(incident.status) in CLOSED:
        return "not_accepted"
    dispatcher.decide(session, ctx, incident, [Arrived(page.person_id, via)])
    return "on_scene" if page.status == PageStatus.ON_SCENE.value else "not_accepted"
