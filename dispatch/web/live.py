"""What a screen shows about an incident right now, and server-sent events that push changes.

Every process can serve the stream: it polls the database (the timeline's newest event id is the fingerprint),
so a change made by another process, or by the worker, reaches every open screen within a poll interval.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.incidents.states import CLOSED
from dispatch.web.i18n import t

POLL_S = 0.5
HEARTBEAT_S = 15.0
# EventSource reconnects on its own; a bounded stream frees the worker thread of a screen that went away.
STREAM_LIFETIME_S = 300.0


@dataclass(frozen=True)
class PageView:
    name: str
    role: str
    status: str
    distance_m: float | None
    eta_s: float | None


@dataclass(frozen=True)
class Snapshot:
    id: str
    code: str
    kind: str
    status: str
    level: int
    alerted: int
    accepted_name: str | None
    accepted_eta_s: float | None
    closed: bool
    pages: tuple[PageView, ...]


def snapshot(session: Session, incident: Incident) -> Snapshot:
    pages = list(session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.paged_at, Page.id)))
    accepted = next((p for p in pages if p.person_id == incident.accepted_by), None)
    return Snapshot(
        incident.id,
        incident.code,
        incident.kind,
        incident.status,
        incident.escalation_level,
        sum(p.person_kind == "vanguard" for p in pages),
        accepted.name if accepted else None,
        accepted.eta_s if accepted else None,
        incident.status in CLOSED,
        tuple(PageView(p.name, p.role, p.status, p.distance_m, p.eta_s) for p in pages),
    )


def status_line(snap: Snapshot, lang: str) -> str:
    """The one sentence a resident reads: '3 vanguards alerted' -> 'Dr. Li accepted, about 2 min away'."""
    if snap.status == "accepted" and snap.accepted_name:
        minutes = max(1, round((snap.accepted_eta_s or 60) / 60))  # rounded as in the SMS
        return t(lang, "st_accepted", name=snap.accepted_name, min=minutes)
    if snap.status in ("on_scene", "resolved", "cancelled", "false_alarm"):
        return t(lang, f"st_{snap.status}")
    if snap.alerted:
        line = t(lang, "st_alerted", n=snap.alerted)
        return line + (" · " + t(lang, "st_escalated", n=snap.level) if snap.level > 1 else "")
    return t(lang, "st_reported")


def snapshot_json(snap: Snapshot, lang: str) -> dict[str, Any]:
    data = asdict(snap)
    data.pop("pages")  # names of everyone alerted are not the resident's business
    data["line"] = status_line(snap, lang)
    return data


def newest_event_id(session: Session, *where: Any) -> int:
    query = select(func.max(IncidentEvent.id)).join(Incident, Incident.id == IncidentEvent.incident_id)
    return int(session.scalar(query.where(*where)) or 0)


async def sse(
    poll: Callable[[], tuple[int, dict[str, Any]]],
    *,
    gone: Callable[[], Awaitable[bool]] | None = None,
    lifetime_s: float | None = None,
    poll_s: float = POLL_S,
) -> AsyncIterator[str]:
    """Send `poll()`'s payload whenever its fingerprint changes; ends when the payload says `closed`, when the
    screen went away (`gone`), or after the stream's lifetime. The database is read in a worker thread; waiting
    holds no thread, so a screen left open costs nothing but a socket."""
    lifetime = STREAM_LIFETIME_S if lifetime_s is None else lifetime_s
    started = last_beat = time.monotonic()
    last: int | None = None
    yield "retry: 2000\n\n"
    while True:
        fingerprint, payload = await run_in_threadpool(poll)
        if fingerprint != last:
            last = fingerprint
            yield f"data: {json.dumps(payload, ensure_ascii=False, default=str)}\n\n"
            last_beat = time.monotonic()
        if payload.get("closed") or time.monotonic() - started >= lifetime:
            return
        if time.monotonic() - last_beat >= HEARTBEAT_S:
            yield ": keep-alive\n\n"
            last_beat = time.monotonic()
        await asyncio.sleep(poll_s)
        if gone is not None and await gone():
            return
