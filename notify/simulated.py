"""The simulated phone network: with no Twilio credentials, every message lands in a database inbox.

The demo pages and the tests read it, and can reply from any simulated handset, so the whole flow can be played
without an account. Rows live in the database so that every app process sees the same phones.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notify.models import SimulatedMessage
from notify.ports import Sent

_counter = itertools.count(1)


class SimulatedPhoneNetwork:
    name = "simulated"

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def _deliver(self, to: str, body: str, channel: str, prefix: str) -> Sent:
        provider_id = f"{prefix}{secrets.token_hex(15)}{next(_counter):02d}"
        with self._sessions.begin() as session:
            session.add(
                SimulatedMessage(
                    phone=to, direction="in", channel=channel, body=body, at=self._now(), provider_id=provider_id
                )
            )
        return Sent(self.name, provider_id, "delivered")

    def send_sms(self, to: str, body: str, *, status_callback: str | None = None) -> Sent:
        return self._deliver(to, body, "sms", "SIMSM")

    def place_call(self, to: str, twiml: str, *, status_callback: str | None = None) -> Sent:
        return self._deliver(to, twiml, "voice", "SIMCA")

    def find_sent(self, to: str, body: str, *, channel: str, since: datetime) -> Sent | None:
        with self._sessions() as session:
            found = session.scalar(
                select(SimulatedMessage.provider_id)
                .where(
                    SimulatedMessage.phone == to,
                    SimulatedMessage.direction == "in",
                    SimulatedMessage.channel == channel,
                    SimulatedMessage.body == body,
                    SimulatedMessage.at >= since,
                )
                .limit(1)
            )
        return None if found is None else Sent(self.name, found, "delivered")


def record_typed(session: Session, phone: str, body: str, at: datetime) -> None:
    """A reply typed on a simulated handset, kept so the demo shows both sides of the conversation."""
    session.add(
        SimulatedMessage(
            phone=phone, direction="out", channel="sms", body=body, at=at, provider_id=f"SIMIN{secrets.token_hex(15)}"
        )
    )


def inbox(session: Session, phone: str | None = None, limit: int = 200) -> list[SimulatedMessage]:
    query = select(SimulatedMessage).order_by(SimulatedMessage.id.desc()).limit(limit)
    if phone:
        query = query.where(SimulatedMessage.phone == phone)
    return list(reversed(session.scalars(query).all()))
