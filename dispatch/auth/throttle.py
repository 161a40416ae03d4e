"""Password guessing is slowed per login name: after MAX_FAILURES wrong passwords within WINDOW_S, that login is
refused until the window passes. Failures are rows in the audit log, so every process sees the same count."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry
from dispatch.audit.service import record

MAX_FAILURES = 5
WINDOW_S = 15 * 60


def login_subject(login: str) -> str:
    # A login may be a phone number: the log keeps a digest, never the number itself.
    return "login:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()[:24]


def locked(session: Session, login: str, now: datetime) -> bool:
    since = now - timedelta(seconds=WINDOW_S)
    failures = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "login_failed", AuditEntry.subject == login_subject(login), AuditEntry.at >= since)
    )
    return (failures or 0) >= MAX_FAILURES


def record_failure(session: Session, login: str, now: datetime) -> None:
    record(session, now, "anonymous", "login_failed", login_subject(login))
