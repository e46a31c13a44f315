"""commitments: a leader's focus after a closed round, its outbox of notes, and the follow-up answer

A round that closed with figures gets a `round_commitment` (its team's leaders are invited); the
first leader to commit sets it. `commitment_note` is the outbox of invitations and posts. The
next round's answers carry `focus_score` ("did things improve on <focus>?"), frozen at close as
`round_summary.focus_n` / `focus_sum`.

Revision ID: a13c01110002
Revises: a13f01100001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a13c01110002"
down_revision: str | None = "a13f01100001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("focus_score", sa.Integer(), nullable=True))
    with op.batch_alter_table("round_summary") as batch:
        batch.add_column(sa.Column("focus_n", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("focus_sum", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "round_commitment",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("status", _S(length=16), nullable=False),
        sa.Column("driver", _S(length=32), nullable=True),
        sa.Column("sentence", sa.Text(), nullable=True),
        sa.Column("leader", _S(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id"),
    )
    op.create_table(
        "commitment_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", _S(length=16), nullable=False),
        sa.Column("target", _S(length=400), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("status", _S(length=16), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "kind", "target"),
    )
    op.create_index("ix_commitment_note_status", "commitment_note", ["status"])
    op.create_index("ix_commitment_note_member_id", "commitment_note", ["member_id"])


def downgrade() -> None:
    op.drop_table("commitment_note")
    op.drop_table("round_commitment")
    with op.batch_alter_table("round_summary") as batch:
        batch.drop_column("focus_sum")
        batch.drop_column("focus_n")
    with op.batch_alter_table("response") as batch:
        batch.drop_column("focus_score")
