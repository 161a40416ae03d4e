"""Password guessing is slowed down, never turned into a lock that shuts the owner out (ASVS V2.2).

There is no hard lock: five wrong passwords locked an account for 15 minutes, so anyone could keep any staff member
out (staff ids are sequential). Instead each failure makes the next try wait longer, counted three ways:

- one source guessing one login: 5 tries free, then 1, 2, 4 ... s, up to 5 minutes;
- one source guessing across logins (spraying): 20 free, then the same backoff;
- one login from every source: 20 free, then up to 1 minute. The owner never waits longer than that, and not at
  all from a source that has logged in to this login before, unless that source itself is the one guessing.

Failures and logins are rows in the audit log (actor: the source, subject: the login), so every process sees the
same counts. A try refused for waiting is not checked at all: it can neither succeed nor count as a failure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry
from dispatch.audit.service import record

WINDOW_S = 3600
FAILED = "login_failed"
SUCCEEDED = "login"


@dataclass(frozen=True)
class Backoff:
    free: int  # failures within the window before any wait
    cap_s: float

    def wait_s(self, failures: int) -> float:
        return 0.0 if failures < self.free else min(2.0 ** (failures - self.free), self.cap_s)


PAIR = Backoff(free=5, cap_s=300)
SOURCE = Backoff(free=20, cap_s=300)
LOGIN = Backoff(free=20, cap_s=60)


def _digest(kind: str, value: str) -> str:
    # A login may be a phone number, a source an IP address: the log keeps digests, never the values.
    return f"{kind}:" + hashlib.sha256(value.strip().lower().encode()).hexdigest()[:24]


def login_subject(login: str) -> str:
    return _digest("login", login)


def source_actor(source: str) -> str:
    return _digest("ip", source)


def _last(session: Session, action: str, *where: Any) -> tuple[int, datetime | None]:
    count, last = session.execute(
        select(func.count(), func.max(AuditEntry.at)).where(AuditEntry.action == action, *where)
    ).one()
    return int(count or 0), last


def wait_s(session: Session, login: str, source: str, now: datetime) -> float:
    """Seconds this source must still wait before trying this login; 0 when it may try now."""
    since = now - timedelta(seconds=WINDOW_S)
    subject, actor = login_subject(login), source_actor(source)
    known, last_login = _last(session, SUCCEEDED, AuditEntry.subject == subject, AuditEntry.actor == actor)
    # A login from this source wipes its own slate for this login: the owner's typos earlier do not add up.
    pair_since = max(since, last_login) if last_login is not None else since
    checks = [
        (PAIR, AuditEntry.subject == subject, AuditEntry.actor == actor, AuditEntry.at >= pair_since),
        (SOURCE, AuditEntry.actor == actor, AuditEntry.at >= since),
    ]
    if not known:
        checks.append((LOGIN, AuditEntry.subject == subject, AuditEntry.at >= since))
    longest = 0.0
    for backoff, *where in checks:
        failures, last = _last(session, FAILED, *where)
        if last is not None and (wait := backoff.wait_s(failures)) > 0:
            longest = max(longest, (last + timedelta(seconds=wait) - now).total_seconds())
    return longest


def record_failure(session: Session, login: str, source: str, now: datetime) -> None:
    record(session, now, source_actor(source), FAILED, login_subject(login))


def record_login(session: Session, login: str, source: str, now: datetime, staff_id: str) -> None:
    record(session, now, source_actor(source), SUCCEEDED, login_subject(login), {"staff": staff_id})
