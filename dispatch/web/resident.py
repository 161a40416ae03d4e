"""The resident's screen: pair the household device once, one big button, a live status, a cancel.

The device code (the household's device token) is typed into a form once and kept in a signed cookie, never in a
URL. Pressing twice is safe: each page load carries its own idempotency key, and the service merges presses from
one household within five minutes.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from dispatch.community.loader import token_hash
from dispatch.community.models import Household
from dispatch.incidents import service
from dispatch.incidents.models import Incident
from dispatch.incidents.states import Status
from dispatch.web.api import change_status, press_button
from dispatch.web.auth_deps import HouseholdDep, require_csrf, show_form, spend_form_token, start_session
from dispatch.web.deps import RuntimeDep
from dispatch.web.i18n import lang_of
from dispatch.web.live import newest_event_id, snapshot, snapshot_json, sse, status_line
from dispatch.web.render import render
from dispatch.web.schemas import IncidentKind
from geo.crs import Crs

router = APIRouter(prefix="/resident")
KINDS = ("medical", "fall", "fire", "utility", "security", "distress")


def _open_incident(runtime: RuntimeDep, household_id: str) -> Incident | None:
    with runtime.readers() as session:
        return session.scalar(
            select(Incident)
            .where(Incident.household_id == household_id, Incident.closed_at.is_(None))
            .order_by(Incident.reported_at.desc())
            .limit(1)
        )


@router.get("", response_class=HTMLResponse)
def resident_page(request: Request, runtime: RuntimeDep, viewer: HouseholdDep, error: str | None = None) -> Response:
    lang = lang_of(request)
    if viewer is None:
        return show_form(request, "resident_pair.html", {"error": error})
    incident = _open_incident(runtime, viewer.principal.id)
    context: dict[str, object] = {"csrf": viewer.session.csrf, "kinds": KINDS, "error": error}
    if incident is None:
        context["idempotency_key"] = secrets.token_urlsafe(12)
        return render(request, "resident.html", context)
    with runtime.readers() as session:
        snap = snapshot(session, incident)
    context.update(incident=snap, line=status_line(snap, lang))
    return render(request, "resident.html", context)


@router.post("/pair")
def pair(
    request: Request,
    runtime: RuntimeDep,
    device_code: Annotated[str, Form(max_length=128)],
    form_token: Annotated[str, Form(max_length=200)],
) -> Response:
    with runtime.sessions.begin() as session:
        if not spend_form_token(request, session, form_token, runtime.ctx.clock.now()):
            return RedirectResponse("/resident?error=form_expired", status.HTTP_303_SEE_OTHER)
        household = session.scalar(
            select(Household).where(Household.device_token_hash == token_hash(device_code.strip()))
        )
    if household is None:
        return RedirectResponse("/resident?error=pair_failed", status.HTTP_303_SEE_OTHER)
    response = RedirectResponse("/resident", status.HTTP_303_SEE_OTHER)
    start_session(request, response, "household", household.id)
    return response


@router.post("/press")
def press(
    runtime: RuntimeDep,
    viewer: HouseholdDep,
    csrf: Annotated[str, Form()],
    idempotency_key: Annotated[str, Form(max_length=64)],
    kind: Annotated[IncidentKind, Form()] = "medical",
    lat: Annotated[str | None, Form(max_length=40)] = None,
    lon: Annotated[str | None, Form(max_length=40)] = None,
    crs: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    if viewer is None:
        return RedirectResponse("/resident", status.HTTP_303_SEE_OTHER)
    require_csrf(viewer.session, csrf)
    gps, problem = _fix(lat, lon, crs)
    press_button(runtime, viewer.principal.id, kind, gps, None, idempotency_key, unusable_location=problem)
    return RedirectResponse("/resident", status.HTTP_303_SEE_OTHER)


def _fix(lat: str | None, lon: str | None, crs: str | None) -> tuple[service.GpsFix | None, str | None]:
    """The browser's position, read leniently: whatever is wrong with it, the press goes through (at home)."""
    if not (lat or lon or crs):
        return None, None
    try:
        return service.GpsFix(float(lat or "nan"), float(lon or "nan"), Crs(crs or "")), None
    except ValueError:
        return None, "the position sent by the page is not a usable lat, lon and crs"


@router.post("/cancel")
def cancel(
    runtime: RuntimeDep, viewer: HouseholdDep, csrf: Annotated[str, Form()], incident_id: Annotated[str, Form()]
) -> Response:
    if viewer is None:
        return RedirectResponse("/resident", status.HTTP_303_SEE_OTHER)
    require_csrf(viewer.session, csrf)
    change_status(runtime, viewer.principal, incident_id, Status.CANCELLED, "false alarm (resident page)")
    return RedirectResponse("/resident", status.HTTP_303_SEE_OTHER)


@router.get("/events")
def events(request: Request, runtime: RuntimeDep, viewer: HouseholdDep, incident: str) -> StreamingResponse:
    if viewer is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "pair this device first")
    lang = lang_of(request)

    def poll() -> tuple[int, dict[str, object]]:
        with runtime.readers() as session:
            found = session.get(Incident, incident)
            if found is None or found.household_id != viewer.principal.id:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident")
            return newest_event_id(session, Incident.id == incident), snapshot_json(snapshot(session, found), lang)

    poll()  # refuse before the stream starts: a stream cannot change its status code later
    stream = sse(poll, gone=request.is_disconnected)
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})
