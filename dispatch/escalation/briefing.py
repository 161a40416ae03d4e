"""What each person is told after the alert: the door for whoever goes, notices for the others, and the resident's
"call 120 now". Every message goes through the outbox, in the caller's transaction."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.community.models import Household
from dispatch.context import DispatchContext
from dispatch.escalation.decision import Notice
from dispatch.escalation.engine import describe_place
from dispatch.incidents.models import Incident, IncidentEvent, Page
from notify import messages, twiml
from notify.outbox import enqueue

_CLOSED_ZH = {"resolved": "解决", "cancelled": "取消", "false_alarm": "确认为误报"}


def task_of(session: Session, page: Page) -> str | None:
    """What the matcher asked of this person (e.g. which AED to fetch), from the paged event's explanation."""
    events = session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == page.incident_id, IncidentEvent.type == "paged")
    )
    for event in events:
        for recipient in (event.detail or {}).get("recipients", []):
            if recipient.get("person") == page.person_id and recipient.get("why"):
                return str(recipient["why"])
    return None


def send_door_details(
    session: Session, ctx: DispatchContext, page: Page, incident: Incident, task: tuple[str, str] = ("", "")
) -> None:
    """Privacy by stage: the exact entrance, floor and unit go to whoever accepted, and to nobody else."""
    building = ctx.directory.buildings.get(incident.building_id or "")
    household = session.get(Household, incident.household_id) if incident.household_id else None
    place_zh, place_en = describe_place(building, incident)
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


def _support_task(session: Session, page: Page) -> tuple[str, str]:
    fetch = re.search(r"fetches (\S+) \(([^)]*)\)", task_of(session, page) or "")
    if not fetch:
        return ("", "")
    return (
        f"。请先取AED {fetch.group(1)}（{fetch.group(2)}）再前往",
        f". Fetch AED {fetch.group(1)} ({fetch.group(2)}) on the way",
    )


def tell(session: Session, ctx: DispatchContext, incident: Incident, page: Page, notice: Notice, now: datetime) -> None:
    """Carry out one notice of a decision."""
    if notice is Notice.DOOR_PRIMARY or notice is Notice.DOOR_BACKUP:
        send_door_details(session, ctx, page, incident, messages.role_line(notice is Notice.DOOR_PRIMARY))
        return
    if notice is Notice.DOOR_SUPPORT:
        send_door_details(session, ctx, page, incident, _support_task(session, page))
        return
    if notice is Notice.DOOR_STAFF:
        send_door_details(session, ctx, page, incident)
        return
    code = incident.code
    body, purpose, key = {
        Notice.NOW_BACKUP: (messages.now_backup_sms(code), "notice", "backup"),
        Notice.PROMOTED: (messages.promoted_sms(code), "notice", f"promoted:{now.isoformat()}"),
        Notice.LAPSED: (messages.lapsed_sms(code), "notice", f"lapsed:{now.isoformat()}"),
        Notice.STOOD_DOWN: (messages.stand_down_sms(code), "stand_down", "stand_down"),
        Notice.THANKS_ARRIVED: (messages.thanks_arrived_sms(code), "stand_down", "stand_down"),
        Notice.LATE: (messages.late_accept_sms(code), "reply", "late"),
        Notice.CLOSED: (messages.closed_sms(code, _CLOSED_ZH.get(incident.status, "结束")), "stand_down", "closed"),
        Notice.DECLINE_ACK: (messages.declined_ack_sms(code), "reply", f"ack:{page.step}"),
    }[notice]
    enqueue(
        session,
        dedupe_key=f"{incident.id}:{page.person_id}:{key}",
        to=page.phone,
        body=body,
        purpose=purpose,
        now=now,
        incident_id=incident.id,
        page_id=page.id,
    )


def tell_resident_call_120(session: Session, ctx: DispatchContext, incident: Incident, now: datetime) -> None:
    """Nobody qualified is on the way (or the place is out of our area): the household hears it by SMS and by a
    call, as well as on its page, and is told to call 120 now."""
    household = session.get(Household, incident.household_id) if incident.household_id else None
    if household is None or not household.phone:
        return
    enqueue(
        session,
        dedupe_key=f"{incident.id}:resident:call_120",
        to=household.phone,
        body=messages.call_120_sms(incident.code),
        purpose="resident",
        now=now,
        incident_id=incident.id,
    )
    zh, en = messages.call_120_speech(incident.code)
    enqueue(
        session,
        dedupe_key=f"{incident.id}:resident:call_120:voice",
        to=household.phone,
        body=twiml.say_twiml(zh, en),
        purpose="resident",
        now=now,
        incident_id=incident.id,
        channel="voice",
    )
