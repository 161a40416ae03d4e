"""Writing and reading the audit log. The caller's transaction commits the entry with whatever it shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry


def record(
    session: Session, at: datetime, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None
) -> None:
    session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=detail or {}))


def recent(session: Session, *, since: datetime | None = None, limit: int = 200) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return list(session.scalars(query))
