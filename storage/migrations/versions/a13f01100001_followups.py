"""follow-ups: every "we don't know" impact of an empty chair gets an owner, a due date and an answer

Existing "we don't know" impacts become open follow-ups owned by their author (unowned when the
author was forgotten), owned since they were added and due `followup_days` (the default, 7)
after this migration runs, so a store full of old ones does not remind everyone at once.

Revision ID: a13f01100001
Revises: a13e01120003
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a13f01100001"
down_revision: str | None = "a13e01120003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
BACKFILL_DAYS = 7  # `[pulse] followup_days`' default: a migration does not read the config file


def upgrade() -> None:
    followup = op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("impact_id", sa.Integer(), nullable=False),
        sa.Column("chair_id", sa.Integer(), nullable=False),
        sa.Column("owner", _S(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("console_seen", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effect", _S(length=16), nullable=True),
        sa.Column("note", _S(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["impact_id"], ["impact.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["chair_id"], ["empty_chair.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("impact_id"),
    )
    op.create_index("ix_followup_chair_id", "followup", ["chair_id"])
    op.create_index("ix_followup_owner", "followup", ["owner"])
    op.create_index("ix_followup_open_due", "followup", ["resolved_at", "due_at"])
    _backfill(followup)


def _backfill(followup: sa.Table) -> None:
    """Every "we don't know" impact already stored becomes an open follow-up of its author."""
    bind = op.get_bind()
    impact = sa.table("impact", sa.column("id"), sa.column("chair_id"), sa.column("author"),
                      sa.column("effect"), sa.column("created_at", sa.DateTime(timezone=True)))
    chair = sa.table("empty_chair", sa.column("id"), sa.column("platform"))
    rows = bind.execute(
        sa.select(impact.c.id, impact.c.chair_id, impact.c.author, impact.c.created_at, chair.c.platform)
        .join(chair, chair.c.id == impact.c.chair_id)
        .where(impact.c.effect == "unknown")
        .order_by(impact.c.id)
    ).all()
    due = datetime.now(UTC) + timedelta(days=BACKFILL_DAYS)
    if rows:
        op.bulk_insert(followup, [
            {"impact_id": r.id, "chair_id": r.chair_id, "owner": f"{r.platform}:{r.author}" if r.author else None,
             "created_at": r.created_at, "owned_at": r.created_at, "due_at": due, "reminders": 0,
             "console_seen": 0, "resolved_at": None, "effect": None, "note": ""}
            for r in rows
        ])


def downgrade() -> None:
    op.drop_index("ix_followup_open_due", table_name="followup")
    op.drop_index("ix_followup_owner", table_name="followup")
    op.drop_index("ix_followup_chair_id", table_name="followup")
    op.drop_table("followup")
