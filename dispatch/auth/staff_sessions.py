"""Staff sessions live on the server: a logout or a password change ends them at once, and so does idleness.

A signed cookie alone outlived its logout: a copy of it stayed valid for the rest of its 12 hours. Now the cookie
also carries a random secret whose digest must be a row here. A row unused for IDLE_S is gone; so is one older than
a shift (sessions.STAFF_MAX_AGE_S), however busy. An open board keeps its session alive: its event stream is
opened again every few minutes, and each opening is a use.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, update
from sqlalchemy.orm import Session

from dispatch.auth import sessions
from dispatch.auth.models import StaffSession

IDLE_S = 30 * 60
TOUCH_EVERY_S = 60  # a use is written at most once a minute: not a write on every request


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(session: Session, staff_id: str, now: datetime) -> str:
    """A new session; returns the secret for the cookie. Also clears this person's dead sessions."""
    session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id, _dead(now)))
    secret = secrets.token_urlsafe(32)
    session.add(StaffSession(id=_digest(secret), staff_id=staff_id, created_at=now, last_seen_at=now))
    return secret


def _dead(now: datetime) -> ColumnElement[bool]:
    return or_(
        StaffSession.last_seen_at < now - timedelta(seconds=IDLE_S),
        StaffSession.created_at < now - timedelta(seconds=sessions.STAFF_MAX_AGE_S),
    )


def alive(session: Session, staff_id: str, secret: str, now: datetime) -> tuple[bool, bool]:
    """(alive, worth recording this use) for the session with this secret."""
    row = session.get(StaffSession, _digest(secret))
    if row is None or row.staff_id != staff_id:
        return False, False
    idle = (now - row.last_seen_at).total_seconds()
    age = (now - row.created_at).total_seconds()
    if idle > IDLE_S or age > sessions.STAFF_MAX_AGE_S:
        return False, False
    return True, idle >= TOUCH_EVERY_S


def touch(session: Session, secret: str, now: datetime) -> None:
    session.execute(update(StaffSession).where(StaffSession.id == _digest(secret)).values(last_seen_at=now))


def revoke(session: Session, secret: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.id == _digest(secret)))


def revoke_all(session: Session, staff_id: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
