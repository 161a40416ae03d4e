"""outbox status check: the database refuses a status the message lifecycle does not know

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not read from notify.lifecycle: a migration stays what it was when the lifecycle changes.
STATUSES = ("pending", "sending", "sent", "failed", "withdrawn", "cancelled")


def upgrade() -> None:
    # SQLite cannot add a constraint to a table: the batch copies the table with it (indexes included).
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.create_check_constraint(
            "ck_outbox_status", "status IN ({})".format(", ".join(f"'{s}'" for s in STATUSES))
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_constraint("ck_outbox_status", type_="check")
