"""pages by time: who has spent their daily alert budget is read from the last day's pages alone

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_pages_paged_at", "pages", ["paged_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_pages_paged_at", table_name="pages")
