"""Server-rendered pages: the index and the simulated phones of the demo (mounted only while no provider is set)."""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select

from dispatch import responses
from dispatch.auth.sessions import same_secret
from dispatch.community.models import Staff
from dispatch.incidents.models import Incident, Page
from dispatch.runtime import Runtime
from dispatch.vanguards.models import Vanguard
from dispatch.web.demo_gate import demo_access
from dispatch.web.deps import RuntimeDep
from dispatch.web.render import render
from notify.simulated import inbox, record_typed

router = APIRouter()
demo_router = APIRouter(dependencies=[Depends(demo_access)])
_LINK = re.compile(r"https?://[^\s]+/r/[\w.\-]+")


def linkify(body: str) -> Markup:
    """One-tap links inside a simulated SMS become clickable, pointed at this server (a relative /r/ link)."""
    out, last = [], 0
    for m in _LINK.finditer(body):
        out.append(escape(body[last : m.start()]))
        path = m.group(0)[m.group(0).index("/r/") :]
        out.append(Markup('<a href="{}">{}</a>').format(path, m.group(0)))
        last = m.end()
    out.append(escape(body[last:]))
    return Markup("").join(out)


@dataclass(frozen=True)
class Call:
    """A simulated voice call, read from its TwiML: what is said, and the alert it asks a key for."""

    said: str
    page_id: int | None


def read_call(twiml: str) -> Call | None:
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return None
    gather = root.find("Gather")
    says = (gather if gather is not None else root).findall("Say")
    page = None
    if gather is not None:
        query = parse_qs(urlsplit(gather.get("action", "")).query)
        page = int(query["page"][0]) if query.get("page", [""])[0].isdigit() else None
    return Call(" ".join((s.text or "").strip() for s in says), page)


def _shown(message: object) -> dict[str, object]:
    body = str(getattr(message, "body", ""))
    call = read_call(body) if getattr(message, "channel", "") == "voice" else None
    return {"m": message, "body": escape(call.said) if call else linkify(body), "call": call}


def phone_ref(runtime: Runtime, phone: str) -> str:
    """An opaque name for a phone in URLs: numbers stay out of addresses and access logs."""
    digest = hmac.new(runtime.settings.secret_key.encode(), f"phone:{phone}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


@demo_router.get("/demo/phones", response_class=HTMLResponse)
def demo_phones(request: Request, runtime: RuntimeDep, ref: str | None = None) -> Response:
    with runtime.readers() as session:
        phones = sorted({m.phone for m in inbox(session, None, limit=2000)})
        phone = next((p for p in phones if ref and same_secret(phone_ref(runtime, p), ref)), None)
        messages = inbox(session, phone) if phone else inbox(session, None)
        names = dict(session.execute(select(Vanguard.phone, Vanguard.name).where(Vanguard.phone.in_(phones))).all())
        names.update(session.execute(select(Staff.phone, Staff.name).where(Staff.phone.in_(phones))).all())
    return render(
        request,
        "phones.html",
        {
            "messages": [_shown(m) for m in messages],
            "phone": phone,
            "phones": [(p, names.get(p, ""), phone_ref(runtime, p)) for p in phones],
        },
    )


def simulated_reply(runtime: Runtime, phone: str, body: str) -> str:
    """A reply typed on a simulated phone goes through the same handling as a Twilio SMS webhook."""
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        record_typed(session, phone, body, now)
        message_id = f"SIM{now.timestamp():.6f}:{phone}"
        outcome = responses.handle_sms(session, runtime.ctx, phone, body, message_id)
    runtime.worker.wake()
    return outcome


@demo_router.post("/demo/phones/reply")
def demo_reply(
    runtime: RuntimeDep, phone: Annotated[str, Form(max_length=20)], body: Annotated[str, Form(max_length=320)]
) -> RedirectResponse:
    simulated_reply(runtime, phone, body)
    return RedirectResponse(f"/demo/phones?ref={phone_ref(runtime, phone)}", status_code=status.HTTP_303_SEE_OTHER)


@demo_router.post("/demo/phones/keypress")
def demo_keypress(
    runtime: RuntimeDep,
    phone: Annotated[str, Form(max_length=20)],
    page: Annotated[int, Form()],
    digit: Annotated[str, Form(pattern="^[0-9]$")],
) -> RedirectResponse:
    """A key pressed during a simulated alert call: 1 accepts, 2 declines, as the voice webhook does."""
    intent = {"1": responses.Intent.ACCEPT, "2": responses.Intent.DECLINE}.get(digit)
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        found = session.get(Page, page)
        if found is None or found.phone != phone:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "this phone has no such call")
        record_typed(session, phone, f"[按键 key {digit}]", now)
        incident = session.get(Incident, found.incident_id)
        if intent is not None and incident is not None:
            responses.respond(session, runtime.ctx, found, incident, intent, via="voice")
    runtime.worker.wake()
    return RedirectResponse(f"/demo/phones?ref={phone_ref(runtime, phone)}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, runtime: RuntimeDep) -> Response:
    return render(request, "index.html", {"simulated": runtime.settings.simulated_phones})
