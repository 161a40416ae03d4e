"""status checks: incidents, pages and escalation timers refuse a status their lifecycle does not know

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not read from the lifecycles: a migration stays what it was when a lifecycle changes.
INCIDENT = ("reported", "dispatching", "accepted", "on_scene", "resolved", "cancelled", "false_alarm")
PAGE = ("paged", "no_answer", "failed", "accepted", "declined", "on_scene", "lapsed", "stood_down", "late")
TIMER = ("pending", "claimed", "done", "skipped")


def _in(values: Sequence[str]) -> str:
    return "status IN ({})".format(", ".join(f"'{v}'" for v in values))


def upgrade() -> None:
    for table, values in (("pages", PAGE), ("escalation_timers", TIMER)):
        # SQLite cannot add a constraint to a table: the batch copies the table with it (indexes included).
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint(f"ck_{table}_status", _in(values))
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint("ck_incidents_status", "incidents", _in(INCIDENT))
        return
    # On SQLite the incidents table holds a SpatiaLite geometry, which a batch copy would lose from SpatiaLite's
    # own bookkeeping: the same rule as triggers, which refuse the row just as a CHECK would.
    for event in ("INSERT", "UPDATE OF status"):
        name = "ck_incidents_status_" + event.split()[0].lower()
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {event} ON incidents "
            f"WHEN NOT (NEW.{_in(INCIDENT)}) "
            "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ck_incidents_status'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("ck_incidents_status", "incidents", type_="check")
    else:
        op.execute("DROP TRIGGER IF EXISTS ck_incidents_status_insert")
        op.execute("DROP TRIGGER IF EXISTS ck_incidents_status_update")
    for table in ("escalation_timers", "pages"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"ck_{table}_status", type_="check")
