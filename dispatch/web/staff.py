"""Staff screens: login, the live incident board of one's grid (or all, for the coordinator and duty officer),
an incident's details, and the confirm buttons. Every route checks the role and the grid scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.audit import service as audit
from dispatch.auth import staff_sessions, throttle
from dispatch.auth.passwords import authenticate
from dispatch.auth.sessions import BOARD_ROLES, CONFIRM_ROLES
from dispatch.community.models import Household
from dispatch.escalation import engine
from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.incidents.states import Status
from dispatch.web.api import change_status
from dispatch.web.auth_deps import (
    StaffDep,
    StaffViewer,
    end_session,
    read_session,
    require_csrf,
    show_form,
    spend_form_token,
    start_session,
)
from dispatch.web.deps import RuntimeDep
from dispatch.web.i18n import lang_of
from dispatch.web.live import newest_event_id, snapshot, sse
from dispatch.web.maps import Marker, cached_map, render_svg
from dispatch.web.render import render
from dispatch.web.views import check_can_see, visible_to

router = APIRouter()
CLOSED_SHOWN_H = 12


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, error: str | None = None) -> Response:
    return show_form(request, "login.html", {"error": error})


def _sign_in(
    request: Request, runtime: RuntimeDep, login: str, password: str, form_token: str
) -> tuple[str, str] | str:
    """(staff id, session secret) once signed in, or the error to show on the login form."""
    demo_dir = runtime.settings.data_dir if runtime.settings.load_demo else None
    source = request.client.host if request.client else "unknown"
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        if not spend_form_token(request, session, form_token, now):
            return "form_expired"
        if throttle.wait_s(session, login, source, now) > 0:
            return "login_throttled"
        staff = authenticate(session, login, password, demo_dir)
        if staff is None:
            throttle.record_failure(session, login, source, now)
            return "login_failed"
        throttle.record_login(session, login, source, now, staff.id)
        return staff.id, staff_sessions.open_session(session, staff.id, now)


@router.post("/login")
def login(
    request: Request,
    runtime: RuntimeDep,
    login: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=200)],
    form_token: Annotated[str, Form(max_length=200)],
) -> Response:
    outcome = _sign_in(request, runtime, login, password, form_token)
    if isinstance(outcome, str):
        return RedirectResponse(f"/login?error={outcome}", status.HTTP_303_SEE_OTHER)
    staff_id, secret = outcome
    response = RedirectResponse("/staff", status.HTTP_303_SEE_OTHER)
    start_session(request, response, "staff", staff_id, secret)
    return response


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep, csrf: Annotated[str, Form()]) -> Response:
    session = read_session(request)
    require_csrf(session, csrf)
    if session is not None and session.secret:
        with runtime.sessions.begin() as db:
            staff_sessions.revoke(db, session.secret)  # a copy of the cookie is worth nothing from now on
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    end_session(response)
    return response


def _board_incidents(session: Session, viewer: StaffViewer, since_closed: object) -> list[Incident]:
    query = (
        select(Incident)
        .where(*visible_to(viewer.principal))
        .where(or_(Incident.closed_at.is_(None), Incident.closed_at >= since_closed))
        .order_by(Incident.reported_at.desc())
        .limit(100)
    )
    return list(session.scalars(query))


def _board_context(request: Request, runtime: RuntimeDep, viewer: StaffViewer) -> dict[str, object]:
    viewer.require(BOARD_ROLES)
    lang = lang_of(request)
    since = runtime.ctx.clock.now() - timedelta(hours=CLOSED_SHOWN_H)
    with runtime.readers() as session:
        newest = newest_event_id(session, *visible_to(viewer.principal))
        incidents = _board_incidents(session, viewer, since)
        snaps = [snapshot(session, i) for i in incidents]
        data = cached_map(request.app.state, session, runtime.ctx.directory, runtime.settings.data_dir)
    directory = runtime.ctx.directory
    rows = []
    markers = []
    for incident, snap in zip(incidents, snaps, strict=True):
        building = directory.buildings.get(incident.building_id or "")
        place = engine.describe_place(building, incident)[1 if lang == "en" else 0]
        rows.append({"snap": snap, "place": place, "reported": incident.reported_at, "grid": incident.grid_id})
        if building is not None:
            css = "incident-closed" if snap.closed else "incident"
            markers.append(Marker(building.x, building.y, f"#{snap.code}", css))
    grid = data.grid(viewer.principal.grid_id)
    svg = render_svg(
        data,
        title=(grid.name_en if lang == "en" else grid.name) if grid else "map",
        lang=lang,
        focus=grid.ring if grid else (),
        highlight_grid=grid.id if grid else None,
        markers=markers,
    )
    return {
        "viewer": viewer,
        "rows": rows,
        "map_svg": svg,
        "scope": (grid.name_en if lang == "en" else grid.name) if grid else None,
        "can_confirm": viewer.principal.role in CONFIRM_ROLES,
        "newest": newest,
    }


@router.get("/staff", response_class=HTMLResponse)
def board(request: Request, runtime: RuntimeDep, viewer: StaffDep) -> Response:
    return render(request, "board.html", _board_context(request, runtime, viewer))


@router.get("/staff/board-fragment", response_class=HTMLResponse)
def board_fragment(request: Request, runtime: RuntimeDep, viewer: StaffDep) -> Response:
    """The list and map alone, fetched by the board's script when the event stream says something changed."""
    return render(request, "_board_body.html", _board_context(request, runtime, viewer))


@router.get("/staff/events")
def board_events(request: Request, runtime: RuntimeDep, viewer: StaffDep) -> StreamingResponse:
    viewer.require(BOARD_ROLES)
    scope = visible_to(viewer.principal)

    def poll() -> tuple[int, dict[str, object]]:
        with runtime.readers() as session:
            newest = newest_event_id(session, *scope)
        return newest, {"newest": newest}

    stream = sse(poll, gone=request.is_disconnected)
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/staff/incidents/{incident_id}", response_class=HTMLResponse)
def incident_detail(request: Request, incident_id: str, runtime: RuntimeDep, viewer: StaffDep) -> Response:
    viewer.require(BOARD_ROLES)
    lang = lang_of(request)
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident")
        check_can_see(viewer.principal, incident)
        pages = list(session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.id)))
        events = list(
            session.scalars(
                select(IncidentEvent).where(IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.id)
            )
        )
        household = session.get(Household, incident.household_id) if incident.household_id else None
        # The door and everyone's phone number are personal data: this view is written to the audit log.
        audit.record(
            session,
            now,
            viewer.actor,
            "view_incident",
            f"household:{household.id}" if household else f"incident:{incident.id}",
            {"incident": incident.id, "phones": len(pages)},
        )
        snap = snapshot(session, incident)
        data = cached_map(request.app.state, session, runtime.ctx.directory, runtime.settings.data_dir)
    building = runtime.ctx.directory.buildings.get(incident.building_id or "")
    place = engine.describe_place(building, incident)[1 if lang == "en" else 0]
    markers = [Marker(building.x, building.y, f"#{incident.code}", "incident")] if building else []
    svg = render_svg(
        data,
        title=place,
        lang=lang,
        focus=[(building.x - 250, building.y - 250), (building.x + 250, building.y + 250)] if building else (),
        highlight_grid=incident.grid_id,
        markers=markers,
    )
    door = None
    if household is not None and incident.location_source == "household":
        door = {"e": household.entrance, "f": household.floor, "u": household.unit, "phone": household.phone}
    return render(
        request,
        "incident.html",
        {
            "viewer": viewer,
            "snap": snap,
            "incident": incident,
            "place": place,
            "pages": pages,
            "events": events,
            "door": door,
            "map_svg": svg,
            "can_confirm": viewer.principal.role in CONFIRM_ROLES,
        },
    )


@router.post("/staff/incidents/{incident_id}/confirm")
def confirm(
    incident_id: str,
    runtime: RuntimeDep,
    viewer: StaffDep,
    csrf: Annotated[str, Form()],
    outcome: Annotated[Literal["on_scene", "resolved", "false_alarm"], Form()],
) -> Response:
    viewer.require(CONFIRM_ROLES)
    require_csrf(viewer.session, csrf)
    change_status(runtime, viewer.principal, incident_id, Status(outcome), "confirmed on the staff screen")
    return RedirectResponse("/staff", status.HTTP_303_SEE_OTHER)
