"""Imports every ORM module so that `Base.metadata` knows all tables (for migrations and tests)."""

from __future__ import annotations

import dispatch.audit.models
import dispatch.auth.models  # noqa: F401
import notify.models  # noqa: F401
from dispatch.db.base import Base

metadata = Base.metadata
