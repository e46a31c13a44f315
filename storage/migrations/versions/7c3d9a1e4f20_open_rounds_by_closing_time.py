"""open rounds by closing time: a partial index, so closing due rounds never reads closed history

`close_due_rounds` runs before every report and on every clock tick; without this index it
scanned every round ever held, so a report's cost grew with the store instead of its window.

Revision ID: 7c3d9a1e4f20
Revises: 7c3d9e4f1a26
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3d9a1e4f20"
down_revision: str | None = "7c3d9e4f1a26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_round_open_closes", "round", ["closes_at"], unique=False,
                    sqlite_where=sa.text("closed_at IS NULL"), postgresql_where=sa.text("closed_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_round_open_closes", table_name="round")
