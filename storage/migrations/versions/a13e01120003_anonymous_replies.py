"""anonymous replies: a comment keeps its respondent key; reply threads and batched relay messages

A leader may reply to a frozen comment; the bot finds its author by recomputing respondent keys
(the key is an HMAC of PULSEBOT_SECRET, meaningless without it). A thread keeps that key, never a
member id; its messages carry only the batch they are relayed in.

Revision ID: a13e01120003
Revises: d4b1e8a6c302
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a13e01120003"
down_revision: str | None = "d4b1e8a6c302"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_NO_ROWID = {"sqlite_with_rowid": False}


def upgrade() -> None:
    with op.batch_alter_table("round_comment") as batch:
        batch.add_column(sa.Column("respondent_key", _S(length=64), nullable=True))
    op.create_table(
        "reply_thread",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("round_comment_id", _S(length=32), nullable=False),
        sa.Column("respondent_key", _S(length=64), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("leader", _S(length=200), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["round_comment_id"], ["round_comment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_comment_id", "leader"),
        **_NO_ROWID,
    )
    op.create_index("ix_reply_thread_round_comment_id", "reply_thread", ["round_comment_id"])
    op.create_index("ix_reply_thread_respondent_key", "reply_thread", ["respondent_key"])
    op.create_index("ix_reply_thread_leader", "reply_thread", ["leader"])
    op.create_table(
        "reply_message",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("thread_id", _S(length=32), nullable=False),
        sa.Column("direction", _S(length=16), nullable=False),
        sa.Column("kind", _S(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", _S(length=16), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["reply_thread.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        **_NO_ROWID,
    )
    op.create_index("ix_reply_message_thread_id", "reply_message", ["thread_id"])
    op.create_index("ix_reply_message_status_due", "reply_message", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("reply_message")
    op.drop_table("reply_thread")
    with op.batch_alter_table("round_comment") as batch:
        batch.drop_column("respondent_key")
