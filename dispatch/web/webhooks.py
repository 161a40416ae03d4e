"""Twilio webhooks: SMS replies and delivery status. Every request must carry a valid X-Twilio-Signature.

Voice webhooks (keypresses, incoming calls) are in `web.voice`. Every handler is idempotent: Twilio retries.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from dispatch import delivery, responses
from dispatch.runtime import Runtime
from dispatch.web.deps import RuntimeDep
from notify.models import InboundSeen
from notify.signatures import public_url, verify_twilio_signature

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/twilio")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def verified_form(request: Request, runtime: Runtime) -> dict[str, str]:
    settings = runtime.settings
    if settings.twilio is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Twilio is not configured; the demo uses simulated phones")
    form = await request.form()
    params = {k: str(v) for k, v in form.multi_items()}
    url = public_url(settings.public_base_url, request.url.path, request.url.query)
    if not verify_twilio_signature(settings.twilio.auth_token, url, params, request.headers.get("X-Twilio-Signature")):
        log.warning("rejected a Twilio webhook with a bad or missing signature for %s", request.url.path)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid X-Twilio-Signature")
    return params


@router.post("/sms")
async def inbound_sms(request: Request, runtime: RuntimeDep) -> Response:
    params = await verified_form(request, runtime)
    phone, body, sid = params.get("From", ""), params.get("Body", ""), params.get("MessageSid", "")
    if not phone or not sid:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "From and MessageSid are required")

    def handle() -> str:
        for attempt in range(3):
            try:
                with runtime.sessions.begin() as session:
                    if session.scalar(select(InboundSeen.id).where(InboundSeen.provider_id == sid)) is not None:
                        return "duplicate"  # Twilio retried a webhook we already handled
                    session.add(InboundSeen(provider_id=sid, at=runtime.ctx.clock.now()))
                    return responses.handle_sms(session, runtime.ctx, phone, body, sid)
            except IntegrityError:
                # A concurrent twin of this request, or an incident code drawn twice at once: run it again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    outcome = await run_in_threadpool(handle)
    log.info("sms reply %s -> %s", sid, outcome)
    runtime.worker.wake()
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.post("/status")
async def delivery_status(request: Request, runtime: RuntimeDep) -> Response:
    params = await verified_form(request, runtime)
    sid = params.get("MessageSid") or params.get("CallSid")
    state = params.get("MessageStatus") or params.get("CallStatus")
    if not sid or not state:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "MessageSid/CallSid and a status are required")

    def handle() -> str:
        with runtime.sessions.begin() as session:
            return delivery.record_status(runtime.ctx, session, sid, state)

    outcome = await run_in_threadpool(handle)
    log.info("status %s for %s -> %s", state, sid, outcome)
    runtime.worker.wake()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
