"""ORM models of sign-in state kept on the server: spent login-form tokens, and staff sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db.base import Base, UTCDateTime


class SpentFormToken(Base):
    """A login or pairing form's token once used: it is never taken again (kept for as long as it would be valid)."""

    __tablename__ = "spent_form_tokens"
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
