"""The vanguard's page behind the signed one-tap link from the SMS (`/r/{token}`): what happened, how far,
accept or decline; after accepting the exact door and a walking route on the community map; "I'm on scene";
and the person's own availability toggle and on-call schedule.

The link is the credential for this one page (signed, expiring). GET never changes anything: link previews and
scanners open links too. Every POST carries a CSRF field derived from the link.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dispatch import responses
from dispatch.audit import service as audit
from dispatch.auth.sessions import same_secret
from dispatch.community.models import Household
from dispatch.escalation import engine
from dispatch.incidents.models import Incident, Page
from dispatch.links import LinkError
from dispatch.matching import Aed
from dispatch.runtime import Runtime
from dispatch.vanguards import service as vanguard_service
from dispatch.vanguards.models import Vanguard
from dispatch.vanguards.schedule import ScheduleError, parse_schedule
from dispatch.web.deps import RuntimeDep
from dispatch.web.i18n import lang_of, t
from dispatch.web.maps import Marker, cached_map, render_svg
from dispatch.web.render import render
from dispatch.web.route import Point
from geo.crs import CoordinateError, Crs

router = APIRouter()
WALK_M_PER_S = 1.3  # a brisk walk through a residential compound, for the minutes shown on the route

OUTCOMES = {
    "accepted": ("谢谢！请尽快前往，门牌见上。", "Thank you: the door is shown above."),
    "already_accepted": ("您已接单。", "You already accepted."),
    "late": ("已有其他人接单，无需前往，谢谢！", "Someone else accepted first; thank you."),
    "declined": ("已转给其他人，谢谢。", "Noted; we are asking someone else."),
    "on_scene": ("已记录到场。", "On scene recorded."),
    "paused": ("已暂停接单。", "Alerts paused."),
    "resumed": ("已恢复接单。", "Alerts resumed."),
    "schedule_saved": ("值班时间已保存。", "Schedule saved."),
    "position_shared": ("已共享您的位置。", "Your position is shared."),
    "position_off": ("已停止共享位置。", "You no longer share your position."),
    "position_missing": ("未能获取位置，请允许浏览器定位。", "No position came: allow location in the browser."),
    "schedule_bad": ("无法识别该值班时间。", "Cannot read that schedule."),
}


def nearest_aed_on_the_way(aeds: Sequence[Aed], start: Point, goal: Point) -> Aed | None:
    """The AED with the shortest detour from `start` to `goal` (straight lines), as the matcher picks the fetcher."""
    return min(aeds, key=lambda a: math.dist(start, (a.x, a.y)) + math.dist((a.x, a.y), goal), default=None)


def link_csrf(runtime: Runtime, token: str) -> str:
    return hmac.new(runtime.settings.secret_key.encode(), f"csrf:{token}".encode(), hashlib.sha256).hexdigest()


def _page_id(runtime: Runtime, token: str) -> int:
    try:
        return runtime.ctx.links.page_id(token)
    except LinkError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


@router.get("/r/{token}", response_class=HTMLResponse)
def alert_page(request: Request, token: str, runtime: RuntimeDep, outcome: str | None = None) -> Response:
    lang = lang_of(request)
    page_id = _page_id(runtime, token)
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        page = session.get(Page, page_id)
        incident = session.get(Incident, page.incident_id) if page else None
        if page is None or incident is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "this alert no longer exists")
        building = runtime.ctx.directory.buildings.get(incident.building_id or "")
        place = engine.describe_place(building, incident)[1 if lang == "en" else 0]
        door = None
        if page.status == "accepted" and incident.household_id and incident.location_source == "household":
            # Privacy by stage: the exact door only for whoever accepted, and the view is audited.
            household = session.get(Household, incident.household_id)
            if household is not None:
                door = t(lang, "door_fmt", e=household.entrance, f=household.floor, u=household.unit)
                audit.record(
                    session, now, f"{page.person_kind}:{page.person_id}", "view_door",
                    f"household:{household.id}", {"incident": incident.id},
                )  # fmt: skip
        vanguard = session.get(Vanguard, page.person_id) if page.person_kind == "vanguard" else None
        data = cached_map(request.app.state, session, runtime.ctx.directory, runtime.settings.data_dir)
        page_status, incident_status, role = page.status, incident.status, page.role
        code, kind, distance_m, eta_s = incident.code, incident.kind, page.distance_m, page.eta_s
    me = runtime.ctx.directory.vanguard(vanguard.id) if vanguard else None
    aed_label: str | None = None
    markers: list[Marker] = []
    route_points: tuple[tuple[float, float], ...] = ()
    route_m: float | None = None
    focus: list[tuple[float, float]] = []
    if building is not None:
        markers.append(Marker(building.x, building.y, f"#{code}", "incident"))
        focus.append((building.x, building.y))
    if me is not None and building is not None:
        markers.append(Marker(me.x, me.y, t(lang, "you"), "you"))
        focus.append((me.x, me.y))
        aed = nearest_aed_on_the_way(runtime.ctx.directory.aeds, (me.x, me.y), (building.x, building.y))
        if role == "aed_fetcher" and aed is not None:
            markers.append(Marker(aed.x, aed.y, "AED", "aed"))
            aed_label = aed.label
            focus.append((aed.x, aed.y))
        if page_status == "accepted":
            if role == "aed_fetcher" and aed is not None:
                # The fetcher goes by the AED: two legs, joined at it.
                first = data.graph.route((me.x, me.y), (aed.x, aed.y))
                second = data.graph.route((aed.x, aed.y), (building.x, building.y))
                route_points, route_m = first.points + second.points[1:], first.length_m + second.length_m
            else:
                route = data.graph.route((me.x, me.y), (building.x, building.y))
                route_points, route_m = route.points, route.length_m
            focus.extend(route_points)
    svg = render_svg(data, title=place, lang=lang, focus=focus, markers=markers, route=route_points, pad_m=80)
    open_search = incident_status in ("reported", "dispatching")
    text = OUTCOMES.get(outcome or "")
    return render(
        request,
        "page_link.html",
        {
            "code": code,
            "kind": kind,
            "place": place,
            "distance_m": distance_m,
            "walk_min": max(1, round((eta_s or (distance_m or 0) / WALK_M_PER_S) / 60)),  # as in the SMS
            "status": incident_status,
            "door": door,
            "map_svg": svg,
            "route_m": route_m,
            "route_min": max(1, math.ceil(route_m / WALK_M_PER_S / 60)) if route_m else None,
            "can_answer": open_search and page_status == "paged",
            "can_confirm": page_status == "accepted" and incident_status == "accepted",
            "outcome": (text[1] if lang == "en" else text[0]) if text else None,
            "vanguard": vanguard,
            "aed": aed_label if role == "aed_fetcher" else None,
            "csrf": link_csrf(runtime, token),
        },
    )


def _set_vanguard(
    runtime: Runtime, vanguard_id: str, *, available: bool | None = None, on_call: str | None = None
) -> None:
    with runtime.sessions.begin() as session:
        vanguard = session.get(Vanguard, vanguard_id)
        if vanguard is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such vanguard")
        if available is not None:
            vanguard.available = available
        if on_call is not None:
            vanguard.on_call = on_call
        runtime.ctx.directory.changed_in(session, vanguard_id)  # other processes re-read them once this commits
    # This process's matching sees the change at once.
    directory = runtime.ctx.directory
    if available is not None:
        directory.set_available(vanguard_id, available)
    current = directory.vanguard(vanguard_id)
    if on_call is not None and current is not None:
        directory.upsert_vanguard(replace(current, on_call=on_call))


def _share_position(
    runtime: Runtime, token: str, vanguard_id: str, action: str, lat: float | None, lon: float | None, crs: Crs
) -> Response:
    """The vanguard's live position (optional, from the phone; it goes stale after the policy's limit and
    matching falls back to the home building)."""
    with runtime.sessions.begin() as session:
        if action == "position_off":
            vanguard_service.clear_position(session, runtime.ctx.directory, vanguard_id)
            outcome = "position_off"
        elif lat is None or lon is None:
            outcome = "position_missing"
        else:
            try:
                vanguard_service.report_position(
                    session, runtime.ctx.directory, vanguard_id, lat, lon, crs, runtime.ctx.clock.now()
                )
            except CoordinateError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
            outcome = "position_shared"
    return RedirectResponse(f"/r/{token}?outcome={outcome}", status.HTTP_303_SEE_OTHER)


@router.post("/r/{token}")
def answer_alert(
    token: str,
    runtime: RuntimeDep,
    action: Annotated[str, Form(max_length=16)],
    csrf: Annotated[str, Form()],
    on_call: Annotated[str | None, Form(max_length=200)] = None,
    lat: Annotated[float | None, Form()] = None,
    lon: Annotated[float | None, Form()] = None,
    crs: Annotated[Crs, Form()] = Crs.WGS84,
) -> Response:
    if not same_secret(csrf, link_csrf(runtime, token)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this form has expired; open the link again")
    page_id = _page_id(runtime, token)
    if action in ("pause", "resume", "schedule", "position", "position_off"):
        with runtime.readers() as session:
            page = session.get(Page, page_id)
            if page is None or page.person_kind != "vanguard":
                raise HTTPException(status.HTTP_404_NOT_FOUND, "only vanguards have an availability")
            vanguard_id = page.person_id
        if action in ("position", "position_off"):
            return _share_position(runtime, token, vanguard_id, action, lat, lon, crs)
        if action == "schedule":
            try:
                parse_schedule((on_call or "").strip())
            except ScheduleError:
                return RedirectResponse(f"/r/{token}?outcome=schedule_bad", status.HTTP_303_SEE_OTHER)
            _set_vanguard(runtime, vanguard_id, on_call=(on_call or "").strip())
            outcome = "schedule_saved"
        else:
            _set_vanguard(runtime, vanguard_id, available=action == "resume")
            outcome = "resumed" if action == "resume" else "paused"
        return RedirectResponse(f"/r/{token}?outcome={outcome}", status.HTTP_303_SEE_OTHER)
    try:
        intent = responses.Intent(action)
    except ValueError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "action must be accept, decline or on_scene"
        ) from exc
    with runtime.sessions.begin() as session:
        page = session.get(Page, page_id)
        incident = session.get(Incident, page.incident_id) if page else None
        if page is None or incident is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "this alert no longer exists")
        result = responses.respond(session, runtime.ctx, page, incident, intent, via="link")
    runtime.worker.wake()
    return RedirectResponse(f"/r/{token}?outcome={result}", status.HTTP_303_SEE_OTHER)
