"""Imports every ORM module so that `Base.metadata` knows all tables (for migrations and tests).

Every module is named here, not reached through another's imports: the Alembic environment may be the first
thing a process loads (`dispatch migrate`), and a table missing from the metadata breaks foreign keys to it.
"""

from __future__ import annotations

import dispatch.audit.models
import dispatch.community.models
import dispatch.escalation.models
import dispatch.incidents.models
import dispatch.vanguards.models  # noqa: F401
import notify.models  # noqa: F401
from dbschema.base import Base

metadata = Base.metadata
