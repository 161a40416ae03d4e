"""ORM models of the notification outbox, the simulated phone network, wellbeing follow-ups and opt-outs.

The outbox row is written in the same transaction as the state change that wants the message sent, so a crash
never loses a message the database already promised; delivery happens after commit, with retries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from dbschema.base import Base, UTCDateTime
from notify.lifecycle import OutboxStatus, check_transition

# The database refuses a status the lifecycle does not know, whoever writes it (a bulk UPDATE, a shell).
OUTBOX_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OutboxStatus))


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        CheckConstraint(OUTBOX_STATUS_CHECK, name="ck_outbox_status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Same key, same message: a retried step cannot queue a second copy.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    incident_id: Mapped[str | None] = mapped_column(String(32), index=True)
    page_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))  # sms | voice
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(24))  # alert, details, stand_down, reply
    # Stored as its plain value in a VARCHAR(12): the check constraint, not a database enum type, guards it.
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=12, values_callable=lambda e: [s.value for s in e]),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    # The same alert as a voice call (TwiML), used when SMS keeps failing: the step moves to another channel.
    fallback_body: Mapped[str | None] = mapped_column(Text)

    @validates("status")
    def _moves(self, _key: str, target: str) -> OutboxStatus:
        return check_transition(self.status, target)


class SimulatedMessage(Base):
    """A message in the simulated phone network used when no Twilio credentials are configured."""

    __tablename__ = "simulated_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # the simulated handset
    direction: Mapped[str] = mapped_column(String(4))  # in (to the handset) | out (typed on it)
    channel: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    provider_id: Mapped[str] = mapped_column(String(64))


class WellbeingCheck(Base):
    """A follow-up to a vanguard some time after an incident closed, and what they answered."""

    __tablename__ = "wellbeing_checks"
    __table_args__ = (UniqueConstraint("incident_id", "person_id", name="uq_wellbeing_person"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    person_id: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))  # scheduled, answered, cancelled
    answer: Mapped[str | None] = mapped_column(Text)
    needs_support: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PhonePreference(Base):
    """What a phone's owner asked of us by SMS. An opt-out takes effect the moment it is recorded."""

    __tablename__ = "phone_preferences"
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    wellbeing_opt_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundSeen(Base):
    """Inbound webhooks already handled (by the provider's MessageSid / CallSid): Twilio retries, we act once."""

    __tablename__ = "inbound_seen"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
