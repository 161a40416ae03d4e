"""The only code that changes an incident's status: check the table, compare-and-set, append the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dispatch.incidents.models import Incident, IncidentEvent
from dispatch.incidents.states import ALLOWED, CLOSED, Status, check_transition

_APPEND_EVENT = insert(IncidentEvent.__table__)  # type: ignore[arg-type]


def record(
    session: Session, incident_id: str, type_: str, at: datetime, actor: str | None = None, **detail: Any
) -> None:
    """Append an event to the incident's timeline, written at once.

    A plain INSERT rather than an ORM object: nobody needs the event's row back, and on SQLite the ORM writes each
    new object with its own INSERT ... RETURNING (it cannot match several returned ids to their rows), at about
    twice the cost. The flush first writes whatever the event may name that is still pending (the incident itself,
    on a press: foreign keys are enforced)."""
    session.flush()
    session.execute(
        _APPEND_EVENT, {"incident_id": incident_id, "at": at, "type": type_, "actor": actor, "detail": detail}
    )


def transition(
    session: Session,
    incident: Incident,
    target: Status,
    at: datetime,
    *,
    actor: str | None = None,
    only_from: frozenset[Status] | None = None,
    values: dict[str, Any] | None = None,
    **detail: Any,
) -> bool:
    """Move `incident` to `target` if it still is in a state that allows it (and in `only_from`, if given).

    The UPDATE's WHERE clause is the arbiter, so of two concurrent transitions (two people accepting at once)
    exactly one wins, on SQLite and PostgreSQL alike. False means another writer got there first.
    """
    check_transition(incident.status, target.value)
    sources = {s for s, targets in ALLOWED.items() if target in targets}
    if only_from is not None:
        sources &= only_from
    changes: dict[str, Any] = {"status": target.value, **(values or {})}
    if target in CLOSED:
        changes["closed_at"] = at
    result = session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status.in_([s.value for s in sources]))
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(incident)
        return False
    # The UPDATE matched, so the row now holds exactly these values: no need to read it back.
    for key, value in changes.items():
        set_committed_value(incident, key, value)
    record(session, incident.id, target.value, at, actor, **detail)
    return True
