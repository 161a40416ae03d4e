"""Server-rendered pages: the vanguard's one-tap link, the simulated phones of the demo, the index."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from dispatch import responses
from dispatch.community.models import Household
from dispatch.escalation import engine
from dispatch.incidents.models import Incident, Page
from dispatch.links import LinkError
from dispatch.runtime import Runtime
from dispatch.web.deps import RuntimeDep
from notify.simulated import inbox, record_typed

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

STATUS_LABELS = {
    "reported": "已受理 reported",
    "dispatching": "正在呼叫先锋 alerting vanguards",
    "accepted": "已有人接单 accepted",
    "on_scene": "已到场 on scene",
    "resolved": "已解决 resolved",
    "cancelled": "已取消 cancelled",
    "false_alarm": "误报 false alarm",
}
OUTCOMES = {
    "accepted": "谢谢！请尽快前往，门牌见上。 Thank you: the door is shown above.",
    "already_accepted": "您已接单。 You already accepted.",
    "late": "已有其他人接单，无需前往，谢谢！ Someone else accepted first; thank you.",
    "declined": "已转给其他人，谢谢。 Noted; we are asking someone else.",
    "on_scene": "已记录到场。 On scene recorded.",
}


def _csrf(runtime: Runtime, token: str) -> str:
    return hmac.new(runtime.settings.secret_key.encode(), f"csrf:{token}".encode(), hashlib.sha256).hexdigest()


def _page_context(runtime: Runtime, token: str, outcome: str | None) -> dict[str, object]:
    try:
        page_id = runtime.ctx.links.page_id(token)
    except LinkError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    with runtime.readers() as session:
        page = session.get(Page, page_id)
        incident = session.get(Incident, page.incident_id) if page else None
        if page is None or incident is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "this alert no longer exists")
        building = runtime.ctx.directory.buildings.get(incident.building_id or "")
        place_zh, place_en = engine.describe_place(building, incident)
        door = None
        if page.status == "accepted" and incident.household_id and incident.location_source == "household":
            # Privacy by stage: the exact door only for whoever accepted.
            household = session.get(Household, incident.household_id)
            if household is not None:
                door = f"{household.entrance}单元 {household.floor}楼 {household.unit}室"
        open_search = incident.status in ("reported", "dispatching")
        return {
            "code": incident.code,
            "kind_zh": runtime.ctx.policy.label(incident.kind, "zh"),
            "kind_en": runtime.ctx.policy.label(incident.kind, "en"),
            "place_zh": place_zh,
            "place_en": place_en,
            "distance_m": page.distance_m,
            "status_label": STATUS_LABELS.get(incident.status, incident.status),
            "door": door,
            "can_answer": open_search and page.status == "paged",
            "can_confirm": page.status == "accepted" and incident.status == "accepted",
            "outcome": OUTCOMES.get(outcome or "", outcome),
            "csrf": _csrf(runtime, token),
        }


@router.get("/r/{token}", response_class=HTMLResponse)
def alert_page(request: Request, token: str, runtime: RuntimeDep, outcome: str | None = None) -> HTMLResponse:
    # GET never changes anything: link previews and scanners open links too.
    return templates.TemplateResponse(request, "page_link.html", _page_context(runtime, token, outcome))


@router.post("/r/{token}")
def answer_alert(
    token: str, runtime: RuntimeDep, action: Annotated[str, Form()], csrf: Annotated[str, Form()]
) -> RedirectResponse:
    if not hmac.compare_digest(csrf, _csrf(runtime, token)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this form has expired; open the link again")
    try:
        intent = responses.Intent(action)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "action must be accept, decline or on_scene") from exc
    try:
        page_id = runtime.ctx.links.page_id(token)
    except LinkError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    with runtime.sessions.begin() as session:
        page = session.get(Page, page_id)
        incident = session.get(Incident, page.incident_id) if page else None
        if page is None or incident is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "this alert no longer exists")
        outcome = responses.respond(session, runtime.ctx, page, incident, intent, via="link")
    runtime.worker.wake_outbox()
    return RedirectResponse(f"/r/{token}?outcome={outcome}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/demo/phones", response_class=HTMLResponse)
def demo_phones(request: Request, runtime: RuntimeDep, phone: str | None = None) -> HTMLResponse:
    if not runtime.settings.simulated_phones:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "real phones are in use (Twilio is configured)")
    with runtime.readers() as session:
        messages = inbox(session, phone or None)
    return templates.TemplateResponse(request, "phones.html", {"messages": messages, "phone": phone})


def simulated_reply(runtime: Runtime, phone: str, body: str) -> str:
    """A reply typed on a simulated phone goes through the same handling as a Twilio SMS webhook."""
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        record_typed(session, phone, body, now)
        message_id = f"SIM{now.timestamp():.6f}:{phone}"
        outcome = responses.handle_sms(session, runtime.ctx, phone, body, message_id)
    runtime.worker.wake_outbox()
    return outcome


@router.post("/demo/phones/reply")
def demo_reply(
    runtime: RuntimeDep, phone: Annotated[str, Form(max_length=20)], body: Annotated[str, Form(max_length=320)]
) -> RedirectResponse:
    if not runtime.settings.simulated_phones:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "real phones are in use (Twilio is configured)")
    simulated_reply(runtime, phone, body)
    return RedirectResponse(f"/demo/phones?phone={phone}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"simulated": runtime.settings.simulated_phones})
