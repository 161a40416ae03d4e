"""Twilio voice webhooks: the keypress on an alert call (Gather action) and calls to the community number.

Both verify X-Twilio-Signature (403 otherwise) and are idempotent: a repeated keypress request finds the page
already answered, and a repeated incoming call finds the incident its CallSid already opened.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from dispatch import phone_intake, responses
from dispatch.escalation import engine
from dispatch.incidents.models import Incident, Page
from dispatch.web.deps import RuntimeDep
from dispatch.web.webhooks import verified_form
from notify import messages, twiml

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/twilio/voice")
TWIML = "application/xml"


def _speech(pair: tuple[str, str]) -> Response:
    return Response(twiml.say_twiml(*pair), media_type=TWIML)


@router.post("/gather")
async def keypress(request: Request, runtime: RuntimeDep) -> Response:
    """The alert call's `Gather` action: 1 accepts, 2 declines (the page is named in our own signed URL)."""
    params = await verified_form(request, runtime)
    try:
        page_id = int(request.query_params.get("page", ""))
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "page is required") from exc
    digits = params.get("Digits", "").strip()

    def handle() -> tuple[str, tuple[str, str]]:
        with runtime.sessions.begin() as session:
            page = session.get(Page, page_id)
            incident = session.get(Incident, page.incident_id) if page else None
            if page is None or incident is None:
                return "no_page", messages.taken_speech()
            intent = {"1": responses.Intent.ACCEPT, "2": responses.Intent.DECLINE}.get(digits)
            if intent is None:
                return "unknown_key", messages.declined_speech()
            outcome = responses.respond(session, runtime.ctx, page, incident, intent, via="voice")
            if outcome in ("accepted", "already_accepted"):
                building = runtime.ctx.directory.buildings.get(incident.building_id or "")
                return outcome, messages.accepted_speech(*engine.describe_place(building, incident))
            if outcome == "declined":
                return outcome, messages.declined_speech()
            return outcome, messages.taken_speech()

    outcome, speech = await run_in_threadpool(handle)
    log.info("keypress %r on page %s -> %s", digits, page_id, outcome)
    runtime.worker.wake()
    return _speech(speech)


@router.post("/incoming")
async def incoming_call(request: Request, runtime: RuntimeDep) -> Response:
    """Someone calls the community number: a registered household opens an incident; anyone else is put through
    to the duty officer."""
    params = await verified_form(request, runtime)
    phone, sid = params.get("From", ""), params.get("CallSid", "")
    if not phone or not sid:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "From and CallSid are required")

    def handle() -> phone_intake.PhoneIntake:
        for attempt in range(3):
            try:
                with runtime.sessions.begin() as session:
                    if phone_intake.is_known_person(session, phone):
                        officers = phone_intake.duty_officers(session, runtime.ctx)
                        return phone_intake.PhoneIntake("staff_or_vanguard", None, tuple(o.phone for o in officers))
                    return phone_intake.open_by_phone(session, runtime.ctx, phone, "", sid, "voice")
            except IntegrityError:
                # A concurrent twin of this call's webhook (the winner's incident is found next time round), or
                # an incident code drawn twice at once (another is drawn).
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    result = await run_in_threadpool(handle)
    log.info("incoming call %s -> %s", sid, result.outcome)
    runtime.worker.wake()
    if result.incident is not None:
        return _speech(messages.intake_speech(result.incident.code))
    zh, en = messages.unknown_caller_speech()
    return Response(twiml.dial_twiml(zh, en, list(result.duty_phones)), media_type=TWIML)
