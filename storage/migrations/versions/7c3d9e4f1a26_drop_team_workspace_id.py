"""drop team.workspace_id: nothing ever read or wrote it (a team's workspace is its channel's)

Revision ID: 7c3d9e4f1a26
Revises: 5e1f0c2a7b90
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3d9e4f1a26"
down_revision: str | None = "5e1f0c2a7b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("workspace_id")


def downgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_team_workspace_id_workspace", "workspace", ["workspace_id"], ["id"])
