"""Durable escalation timers: one row per step, claimed with a lease so that exactly one process fires it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.base import Base, UTCDateTime
from dispatch.escalation.lifecycle import TimerStatus
from dispatch.incidents.models import status_check


class EscalationTimer(Base):
    __tablename__ = "escalation_timers"
    __table_args__ = (
        UniqueConstraint("incident_id", "step", name="uq_timer_step"),
        Index("ix_timers_due", "status", "due_at"),
        CheckConstraint(status_check(TimerStatus), name="ck_escalation_timers_status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending, claimed, done, skipped
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # step: an escalation level; on_scene_check: the accepter must be on scene by now or the search re-opens
    # (those use negative step numbers, one per acceptance, so they never collide with levels).
    kind: Mapped[str] = mapped_column(String(16), default="step", server_default="step")
