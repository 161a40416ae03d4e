"""ORM model of the audit log: one row per view or export of personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.base import Base, JSONText, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(40), index=True)  # "staff:S3", "vanguard:V1"
    action: Mapped[str] = mapped_column(String(32))  # view_incident, view_door, export_csv, ...
    subject: Mapped[str] = mapped_column(String(64), index=True)  # whose data: "household:H1", "incident:..."
    detail: Mapped[Any] = mapped_column(JSONText, default=dict)
