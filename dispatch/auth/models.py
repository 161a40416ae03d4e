"""ORM models of sign-in state kept on the server: spent login-form tokens, and staff sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.base import Base, UTCDateTime


class SpentFormToken(Base):
    """A login or pairing form's token once used: it is never taken again (kept for as long as it would be valid)."""

    __tablename__ = "spent_form_tokens"
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class StaffSession(Base):
    """A signed-in staff browser. The cookie holds a secret; only its digest is kept here, so a copy of the database
    signs nobody in. Deleting the row ends the session at once (logout, password change)."""

    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's secret
    staff_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
