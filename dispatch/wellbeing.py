"""Vanguard wellbeing: a follow-up some time after an incident closes, its answer recorded, and an opt-out.

The follow-up is an outbox row with a delivery time in the future, so it survives restarts like every other
message. An opt-out is honoured the moment it is recorded: queued follow-ups are withdrawn in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.community.models import Staff
from dispatch.context import DispatchContext
from dispatch.escalation.policy import Plan
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.states import Status
from dispatch.incidents.transitions import record
from notify import messages
from notify.models import PhonePreference, WellbeingCheck
from notify.outbox import cancel_pending, enqueue

ANSWER_WITHIN = timedelta(days=3)
_OPT_OUT = {"TD", "退订", "STOP", "UNSUBSCRIBE", "取消回访", "不要回访"}
_FINE = {"1", "好", "很好", "还好", "没事", "OK", "FINE", "GOOD", "YES", "Y"}
_SUPPORT = {"2", "需要", "要", "聊聊", "TALK", "HELP", "NEED"}


def _tokens(body: str) -> list[str]:
    text = unicodedata.normalize("NFKC", body).strip().upper()
    return re.sub(r"[.!?,;:。！？，；：、\"'“”#]+", " ", text).split()


def is_opt_out(body: str) -> bool:
    """'TD', 'stop', '退订': the whole message asks to stop follow-ups. Pure."""
    text = "".join(_tokens(body))
    return text in _OPT_OUT


def opted_out(session: Session, phone: str) -> bool:
    pref = session.get(PhonePreference, phone)
    return pref is not None and pref.wellbeing_opt_out_at is not None


def opt_out(session: Session, ctx: DispatchContext, phone: str, message_id: str) -> str:
    now = ctx.clock.now()
    pref = session.get(PhonePreference, phone)
    if pref is None:
        session.add(PhonePreference(phone=phone, wellbeing_opt_out_at=now))
    elif pref.wellbeing_opt_out_at is None:
        pref.wellbeing_opt_out_at = now
    session.execute(
        update(WellbeingCheck)
        .where(WellbeingCheck.phone == phone, WellbeingCheck.status == "scheduled", WellbeingCheck.due_at > now)
        .values(status="cancelled")
    )
    cancel_pending(session, to=phone, purpose="wellbeing")
    enqueue(
        session, dedupe_key=f"optout:{message_id}", to=phone, body=messages.opted_out_sms(), purpose="notice", now=now
    )
    return "opted_out"


def schedule_followup(session: Session, ctx: DispatchContext, incident: Incident) -> bool:
    """After an incident someone went to has closed, ask them later how it went. True when scheduled."""
    if incident.status not in (Status.RESOLVED.value, Status.FALSE_ALARM.value) or not incident.accepted_by:
        return False
    page = session.scalar(
        select(Page).where(
            Page.incident_id == incident.id, Page.person_id == incident.accepted_by, Page.person_kind == "vanguard"
        )
    )
    if page is None or opted_out(session, page.phone):
        return False
    exists = session.scalar(
        select(WellbeingCheck.id).where(
            WellbeingCheck.incident_id == incident.id, WellbeingCheck.person_id == page.person_id
        )
    )
    if exists is not None:
        return False
    now = ctx.clock.now()
    due = now + timedelta(seconds=Plan.from_json(incident.plan).wellbeing_after_s)
    session.add(
        WellbeingCheck(
            incident_id=incident.id, person_id=page.person_id, phone=page.phone, due_at=due, status="scheduled"
        )
    )
    enqueue(
        session,
        dedupe_key=f"{incident.id}:{page.person_id}:wellbeing",
        to=page.phone,
        body=messages.wellbeing_sms(incident.code),
        purpose="wellbeing",
        now=now,
        not_before=due,
        incident_id=incident.id,
    )
    record(session, incident.id, "wellbeing_scheduled", now, None, person=page.person_id, due_at=due.isoformat())
    return True


def read_answer(body: str) -> bool | None:
    """True: would like someone to talk to; False: all is well; None: not an answer we can read. Pure."""
    tokens = _tokens(body)
    if any(t in _SUPPORT for t in tokens):
        return True
    if any(t in _FINE for t in tokens):
        return False
    return None


def answer(session: Session, ctx: DispatchContext, phone: str, body: str, message_id: str) -> str | None:
    """A text from a phone we asked how it went. None when no follow-up is awaiting this phone's answer."""
    now = ctx.clock.now()
    check = session.scalar(
        select(WellbeingCheck)
        .where(
            WellbeingCheck.phone == phone,
            WellbeingCheck.status == "scheduled",
            WellbeingCheck.due_at <= now,
            WellbeingCheck.due_at > now - ANSWER_WITHIN,
        )
        .order_by(WellbeingCheck.due_at.desc())
        .limit(1)
    )
    if check is None:
        return None
    needs = read_answer(body)
    check.status, check.answer, check.answered_at, check.needs_support = "answered", body[:500], now, needs
    record(session, check.incident_id, "wellbeing_answer", now, check.person_id, answer=body[:500], needs_support=needs)
    reply = messages.wellbeing_thanks_sms(bool(needs))
    enqueue(session, dedupe_key=f"wellbeing:{message_id}", to=phone, body=reply, purpose="notice", now=now)
    if needs:
        incident = session.get(Incident, check.incident_id)
        page = session.scalar(
            select(Page).where(Page.incident_id == check.incident_id, Page.person_id == check.person_id)
        )
        name = page.name if page else check.person_id
        for officer in session.scalars(select(Staff).where(Staff.role == "duty_officer").order_by(Staff.id)):
            enqueue(
                session,
                dedupe_key=f"wellbeing:{message_id}:{officer.id}",
                to=officer.phone,
                body=messages.support_request_sms(name, phone, incident.code if incident else "?"),
                purpose="notice",
                now=now,
                incident_id=check.incident_id,
            )
        return "support_requested"
    return "wellbeing_answered"
