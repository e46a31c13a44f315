"""The store's tables (SQLModel). Imports nothing of the project.

Anonymity lives here as much as in the reports: a `Response` has a pseudonymous respondent key
and no member id; a `Delivery` knows who answered, never what.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class Workspace(SQLModel, table=True):
    """A Slack workspace or a Teams tenant (or the console)."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)


class Team(SQLModel, table=True):
    """A team from the config file: its roster source, cadence and language."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    workspace_id: int | None = Field(default=None, foreign_key="workspace.id")
    slack_channel: str | None = Field(default=None, max_length=64)
    teams_conversation: str | None = Field(default=None, max_length=300)
    locale: str | None = Field(default=None, max_length=8)
    timezone: str | None = Field(default=None, max_length=64)


class Member(SQLModel, table=True):
    """A person the bot knows, by platform identity. `forget` deletes this row."""

    __table_args__ = (UniqueConstraint("platform", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=200)
    workspace_id: int | None = Field(default=None, foreign_key="workspace.id")
    aad_id: str | None = Field(default=None, max_length=64, index=True)
    name: str = Field(default="", max_length=200)
    locale: str | None = Field(default=None, max_length=8)
    locale_chosen: bool = False  # set by `lang es|en`; platform hints no longer override it
    timezone: str | None = Field(default=None, max_length=64)
    paused: bool = False
    dm_conversation: str | None = Field(default=None, max_length=300)
    conversation_ref: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=_ts())


class TeamMember(SQLModel, table=True):
    """Membership of a member in a team's roster."""

    __tablename__ = "team_member"
    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    active: bool = True


class Leader(SQLModel, table=True):
    """Who may read a team's report; `team_id` NULL means every team (a global leader)."""

    __table_args__ = (UniqueConstraint("team_id", "user_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="CASCADE")
    user_ref: str = Field(max_length=200, index=True)  # platform user id or Entra object id


class Round(SQLModel, table=True):
    """One check-in for one team and one period."""

    __table_args__ = (
        UniqueConstraint("team_id", "period"),
        Index("ix_round_team_period_start", "team_id", "period_start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    period: str = Field(max_length=16)  # "2026-W48", "2026-11" (monthly)
    period_start: datetime = Field(sa_column=_ts(False))
    opened_at: datetime = Field(sa_column=_ts(False))
    closes_at: datetime = Field(sa_column=_ts(False))
    closed_at: datetime | None = Field(default=None, sa_column=_ts())
    driver: str = Field(max_length=32)
    enps: bool = False


class Delivery(SQLModel, table=True):
    """One member's copy of a round's message: the outbox row.

    status: pending → sending → sent, or failed (with `last_error`). `answered_at` says that the
    member answered, never what.
    """

    __table_args__ = (
        UniqueConstraint("round_id", "member_id"),
        Index("ix_delivery_status_due", "status", "due_at"),
        # Participation per round from the index alone (reports.py).
        Index("ix_delivery_round_status", "round_id", "status", "answered_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    due_at: datetime = Field(sa_column=_ts(False))
    next_try_at: datetime | None = Field(default=None, sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts())
    conversation: str | None = Field(default=None, max_length=300)
    message_ref: str | None = Field(default=None, max_length=300)
    answered_at: datetime | None = Field(default=None, sa_column=_ts())
    reminded_at: datetime | None = Field(default=None, sa_column=_ts())


class Response(SQLModel, table=True):
    """An answer, under the HMAC respondent key; one per round and respondent, changed in place."""

    __table_args__ = (
        UniqueConstraint("round_id", "respondent_key"),
        # The report's GROUP BY round reads only this index (no table lookups); reports.py.
        Index("ix_response_round_figures", "round_id", "mood", "driver_score"),
        # eNPS is asked once a quarter: its figures come from the few answers that have one.
        Index(
            "ix_response_round_enps", "round_id", "enps",
            sqlite_where=text("enps IS NOT NULL"), postgresql_where=text("enps IS NOT NULL"),
        ),
        # Comments are few: a partial index finds them without visiting every response, and the
        # report samples them from this index alone (same predicate as reports.py's query).
        Index(
            "ix_response_round_comment", "round_id",
            sqlite_where=text("comment IS NOT NULL AND comment <> ''"),
            postgresql_where=text("comment IS NOT NULL AND comment <> ''"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", ondelete="CASCADE")
    respondent_key: str = Field(max_length=64, index=True)
    mood: int | None = None
    driver: str | None = Field(default=None, max_length=32)
    driver_score: int | None = None
    enps: int | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime = Field(sa_column=_ts(False))


class EmptyChair(SQLModel, table=True):
    """One client-impact prompt opened in one channel, with an optional topic."""

    __tablename__ = "empty_chair"
    __table_args__ = (Index("ix_chair_team_opened", "team_id", "opened_at"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    conversation: str = Field(max_length=300)
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="SET NULL")
    topic: str = Field(default="", max_length=200)
    opened_by: str = Field(max_length=200)
    locale: str = Field(default="en", max_length=8)
    opened_at: datetime = Field(sa_column=_ts(False))
    closed_at: datetime | None = Field(default=None, sa_column=_ts())
    message_ref: str | None = Field(default=None, max_length=300)


class Impact(SQLModel, table=True):
    """An answer to an empty chair: better, worse, no change or we don't know; who; a note."""

    id: int | None = Field(default=None, primary_key=True)
    chair_id: int = Field(foreign_key="empty_chair.id", index=True, ondelete="CASCADE")
    author: str = Field(max_length=200)
    effect: str = Field(max_length=16)  # better | worse | no_change | unknown
    who: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)
    created_at: datetime = Field(sa_column=_ts(False))


class ConversationRef(SQLModel, table=True):
    """Where a face can post in a channel or chat after a restart (Teams: service URL, tenant, bot)."""

    __tablename__ = "conversation_ref"
    __table_args__ = (UniqueConstraint("platform", "conversation"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    conversation: str = Field(max_length=300)
    reference: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime | None = Field(default=None, sa_column=_ts())
