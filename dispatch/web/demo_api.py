"""JSON access to the simulated phones, for scripts and tests (only while no Twilio credentials are set)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from dispatch.web.deps import RuntimeDep
from dispatch.web.pages import simulated_reply
from dispatch.web.schemas import ReplyIn
from notify.simulated import inbox

router = APIRouter(prefix="/api/v1/demo")


class SimulatedMessageOut(BaseModel):
    phone: str
    direction: str
    channel: str
    body: str
    at: datetime


def _require_simulated(runtime: RuntimeDep) -> None:
    if not runtime.settings.simulated_phones:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "real phones are in use (Twilio is configured)")


@router.get("/inbox", response_model=list[SimulatedMessageOut])
def read_inbox(runtime: RuntimeDep, phone: str | None = None) -> list[SimulatedMessageOut]:
    _require_simulated(runtime)
    with runtime.readers() as session:
        return [
            SimulatedMessageOut(phone=m.phone, direction=m.direction, channel=m.channel, body=m.body, at=m.at)
            for m in inbox(session, phone)
        ]


@router.post("/phones/{phone}/reply")
def reply(phone: str, body: ReplyIn, runtime: RuntimeDep) -> dict[str, str]:
    _require_simulated(runtime)
    return {"outcome": simulated_reply(runtime, phone, body.body)}
