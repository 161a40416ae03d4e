"""Intake by phone, for residents without a smartphone: a registered household number that calls or texts the
community number opens an incident (caller ID -> household), with the button's durability and idempotency (the
provider's CallSid / MessageSid is the idempotency key). An unknown number reaches the community duty officer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.community.models import Household, Staff
from dispatch.context import DispatchContext
from dispatch.incidents.models import Incident
from dispatch.incidents.service import report
from dispatch.vanguards.models import Vanguard
from dispatch.vanguards.schedule import is_on_call
from notify import messages
from notify.outbox import enqueue

# What a resident might text; anything else is treated as a medical emergency (the most common and most urgent).
_KIND_WORDS = (
    ("fire", ("火", "烟", "FIRE", "SMOKE")),
    ("fall", ("摔", "跌", "倒", "FALL")),
    ("utility", ("漏水", "停电", "煤气", "燃气", "GAS", "WATER", "POWER")),
    ("security", ("小偷", "贼", "打架", "THIEF", "FIGHT")),
)


def kind_from_text(body: str) -> str:
    """The incident kind a free-text message suggests. Pure."""
    text = unicodedata.normalize("NFKC", body).upper()
    for kind, words in _KIND_WORDS:
        if any(w in text for w in words):
            return kind
    return "medical"


def household_for_phone(session: Session, phone: str) -> Household | None:
    return session.scalar(select(Household).where(Household.phone == phone).order_by(Household.id).limit(1))


def is_known_person(session: Session, phone: str) -> bool:
    vanguard = session.scalar(select(Vanguard.id).where(Vanguard.phone == phone).limit(1))
    staff = session.scalar(select(Staff.id).where(Staff.phone == phone).limit(1))
    return vanguard is not None or staff is not None


def duty_officers(session: Session, ctx: DispatchContext) -> list[Staff]:
    """On-call duty officers; if nobody is rostered right now, all of them (never nobody)."""
    people = list(session.scalars(select(Staff).where(Staff.role == "duty_officer").order_by(Staff.id)))
    now = ctx.clock.now()
    return [s for s in people if is_on_call(s.on_call, now)] or people


@dataclass(frozen=True)
class PhoneIntake:
    outcome: str  # opened, merged, unknown_caller
    incident: Incident | None
    duty_phones: tuple[str, ...] = ()


def open_by_phone(
    session: Session, ctx: DispatchContext, phone: str, body: str, provider_id: str, channel: str
) -> PhoneIntake:
    """A call or text to the community number from someone we did not page."""
    household = household_for_phone(session, phone)
    now = ctx.clock.now()
    if household is None:
        officers = duty_officers(session, ctx)
        if channel == "sms":
            for officer in officers:
                enqueue(
                    session,
                    dedupe_key=f"unknown:{provider_id}:{officer.id}",
                    to=officer.phone,
                    body=messages.unknown_sender_sms(phone, body),
                    purpose="forward",
                    now=now,
                )
        return PhoneIntake("unknown_caller", None, tuple(o.phone for o in officers))
    result = report(
        session,
        ctx,
        household=household,
        kind=kind_from_text(body),
        gps=None,
        note=f"{'电话' if channel == 'voice' else '短信'}求助 ({channel}): {body[:200]}".strip(),
        idempotency_key=f"{channel}:{provider_id}",
    )
    incident = result.incident
    if channel == "sms":
        enqueue(
            session,
            dedupe_key=f"intake:{incident.id}:{provider_id}",
            to=phone,
            body=messages.intake_sms(incident.code),
            purpose="notice",
            now=now,
            incident_id=incident.id,
        )
    return PhoneIntake("opened" if result.created else "merged", incident)
