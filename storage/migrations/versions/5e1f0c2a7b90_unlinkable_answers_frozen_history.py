"""unlinkable answers, frozen history, the secret's fingerprint, shared rate-limit pauses

Responses lose their time and their ordered id (random ids; WITHOUT ROWID in SQLite), deliveries
lose `answered_at`, and closed rounds get their figures and comments frozen in `round_summary`
and `round_comment` (backfilled here for rounds already closed).

One-way: once answers are unlinked there is nothing to link them back with.

Revision ID: 5e1f0c2a7b90
Revises: bc7cb4dd6013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5e1f0c2a7b90"
down_revision: str | None = "bc7cb4dd6013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def _random_id(dialect: str) -> str:
    if dialect == "sqlite":
        return "lower(hex(randomblob(16)))"
    return "replace(gen_random_uuid()::text, '-', '')"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "store_meta",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "workspace_pause",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "workspace"),
    )
    figures = ("delivered", "answered", "failed", "uncertain", "respondents", "mood_1", "mood_2", "mood_3",
               "mood_4", "mood_5", "driver_n", "driver_sum", "enps_n", "promoters", "detractors")
    op.create_table(
        "round_summary",
        sa.Column("round_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in figures),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id"),
    )
    op.create_table(
        "round_comment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("round_comment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_comment_round_id"), ["round_id"], unique=False)

    # Freeze the rounds that are already closed, from the data as it stands.
    op.execute(
        "INSERT INTO round_summary (round_id, delivered, answered, failed, uncertain, respondents, mood_1, "
        "mood_2, mood_3, mood_4, mood_5, driver_n, driver_sum, enps_n, promoters, detractors) "
        "SELECT r.id, "
        "(SELECT count(*) FROM delivery d WHERE d.round_id = r.id), "
        "(SELECT count(*) FROM response s WHERE s.round_id = r.id), "
        "(SELECT count(*) FROM delivery d WHERE d.round_id = r.id AND d.status = 'failed'), "
        "(SELECT count(*) FROM delivery d WHERE d.round_id = r.id AND d.status = 'uncertain'), "
        "(SELECT count(*) FROM response s WHERE s.round_id = r.id), "
        + ", ".join(f"(SELECT count(*) FROM response s WHERE s.round_id = r.id AND s.mood = {v})" for v in range(1, 6))
        + ", (SELECT count(s.driver_score) FROM response s WHERE s.round_id = r.id), "
        "(SELECT coalesce(sum(s.driver_score), 0) FROM response s WHERE s.round_id = r.id), "
        "(SELECT count(s.enps) FROM response s WHERE s.round_id = r.id), "
        "(SELECT count(*) FROM response s WHERE s.round_id = r.id AND s.enps >= 9), "
        "(SELECT count(*) FROM response s WHERE s.round_id = r.id AND s.enps <= 6) "
        "FROM round r WHERE r.closed_at IS NOT NULL"
    )
    op.execute(
        f"INSERT INTO round_comment (id, round_id, comment) SELECT {_random_id(dialect)}, s.round_id, s.comment "
        "FROM response s JOIN round r ON r.id = s.round_id "
        "WHERE r.closed_at IS NOT NULL AND s.comment IS NOT NULL AND s.comment <> '' ORDER BY random()"
    )

    # Deliveries no longer learn that their member answered.
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_round_status")
        batch_op.drop_column("answered_at")
        batch_op.create_index("ix_delivery_round_status", ["round_id", "status"], unique=False)

    # Responses: a new table with random ids and no time, filled in random order, then swapped in.
    op.create_table(
        "response_new",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("mood", sa.Integer(), nullable=True),
        sa.Column("driver", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("driver_score", sa.Integer(), nullable=True),
        sa.Column("enps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "respondent_key"),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO response_new (id, round_id, respondent_key, mood, driver, driver_score, enps, comment) "
        f"SELECT {_random_id(dialect)}, round_id, respondent_key, mood, driver, driver_score, enps, comment "
        "FROM response ORDER BY random()"
    )
    op.drop_table("response")
    op.rename_table("response_new", "response")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_response_respondent_key"), ["respondent_key"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("answers were unlinked from time and order; there is nothing to restore")
