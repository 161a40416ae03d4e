"""JSON access to the simulated phones, for scripts and tests (mounted only while no provider is set; web/demo_gate.py
says who may use them)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from dispatch.web.demo_gate import demo_access
from dispatch.web.deps import RuntimeDep
from dispatch.web.pages import simulated_reply
from dispatch.web.schemas import ReplyIn
from notify.simulated import inbox

router = APIRouter(prefix="/api/v1/demo", dependencies=[Depends(demo_access)])


class SimulatedMessageOut(BaseModel):
    phone: str
    direction: str
    channel: str
    body: str
    at: datetime


@router.get("/inbox", response_model=list[SimulatedMessageOut])
def read_inbox(runtime: RuntimeDep, phone: str | None = None) -> list[SimulatedMessageOut]:
    with runtime.readers() as session:
        return [
            SimulatedMessageOut(phone=m.phone, direction=m.direction, channel=m.channel, body=m.body, at=m.at)
            for m in inbox(session, phone)
        ]


@router.post("/phones/{phone}/reply")
def reply(phone: str, body: ReplyIn, runtime: RuntimeDep) -> dict[str, str]:
    return {"outcome": simulated_reply(runtime, phone, body.body)}
