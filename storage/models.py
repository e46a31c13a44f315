"""The store's tables (SQLModel). Imports nothing of the project.

Anonymity lives here as much as in the reports: a `Response` has a pseudonymous respondent key,
a random id and no time, and nothing else in the store shares a value with it but its round; a
`Delivery` never changes when its member answers. A closed round's figures live in `RoundSummary`
and its comments in `RoundComment`, so erasing a member or old answers leaves history as it was.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


def random_id() -> str:
    """A random row id: it follows neither time nor answer order (unlike an autoincrement)."""
    return secrets.token_hex(16)


# SQLite gives every table a hidden `rowid` in insertion order unless it is declared WITHOUT ROWID:
# tables whose row order must tell nothing (answers, frozen comments) are stored by their random id.
_NO_ROWID = {"sqlite_with_rowid": False}


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
        # The rounds still open, by closing time: what every report and clock tick looks for
        # first (`close_due_rounds`), without reading the store's closed history.
        Index("ix_round_open_closes", "closes_at", sqlite_where=text("closed_at IS NULL"),
              postgresql_where=text("closed_at IS NULL")),
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

    status: pending → sending → sent, or failed (with `last_error`), or uncertain ("maybe
    delivered": the answer was lost where the platform cannot look; never sent again). It does
    not change when its member answers: who answered is worked out inside the bot from the
    respondent keys (it holds the secret), so no row, time or transaction in the store ties an
    answer to a member.
    """

    __table_args__ = (
        UniqueConstraint("round_id", "member_id"),
        Index("ix_delivery_status_due", "status", "due_at"),
        # Participation per round from the index alone (reports.py).
        Index("ix_delivery_round_status", "round_id", "status"),
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
    reminded_at: datetime | None = Field(default=None, sa_column=_ts())


class Response(SQLModel, table=True):
    """An answer, under the HMAC respondent key; one per round and respondent, changed in place.

    No time and no ordered id: nothing here says when it was given or in which order.
    """

    __table_args__ = (UniqueConstraint("round_id", "respondent_key"), _NO_ROWID)
    id: str = Field(default_factory=random_id, primary_key=True, max_length=32,
                    sa_column_kwargs={"default": random_id})
    round_id: int = Field(foreign_key="round.id", ondelete="CASCADE")
    respondent_key: str = Field(max_length=64, index=True)
    mood: int | None = None
    driver: str | None = Field(default=None, max_length=32)
    driver_score: int | None = None
    enps: int | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # "Since the last pulse, did things improve on <focus>?" (1–5), asked when the team's previous
    # round got a leader's commitment (`RoundCommitment`); released and suppressed like the rest.
    focus_score: int | None = None


class RoundSummary(SQLModel, table=True):
    """A closed round's figures, written once when it closes and never changed (frozen history).

    Reports read closed rounds from here, so `forget` and retention, which delete raw answers and
    deliveries, cannot change what a leader saw before.
    """

    __tablename__ = "round_summary"
    round_id: int = Field(foreign_key="round.id", primary_key=True, ondelete="CASCADE")
    delivered: int = 0
    answered: int = 0
    failed: int = 0
    uncertain: int = 0  # maybe delivered: counted in `delivered`, apart from `failed`
    respondents: int = 0
    mood_1: int = 0
    mood_2: int = 0
    mood_3: int = 0
    mood_4: int = 0
    mood_5: int = 0
    driver_n: int = 0
    driver_sum: int = 0
    enps_n: int = 0
    promoters: int = 0
    detractors: int = 0
    focus_n: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    focus_sum: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class RoundComment(SQLModel, table=True):
    """A closed round's comment, copied from its answer at close; no member id, name or time.

    `respondent_key` is the answer's own respondent key (HMAC of PULSEBOT_SECRET, the round and the
    member): meaningless without the secret, it lets the bot alone find the author again when a
    leader replies (`handlers.replies`), by recomputing the keys of the round's members. `forget`
    sets it to NULL, so a forgotten author can no longer be reached; NULL also for comments frozen
    before replies existed.
    """

    __tablename__ = "round_comment"
    __table_args__ = (_NO_ROWID,)
    id: str = Field(default_factory=random_id, primary_key=True, max_length=32,
                    sa_column_kwargs={"default": random_id})
    round_id: int = Field(foreign_key="round.id", index=True, ondelete="CASCADE")
    comment: str = Field(sa_column=Column(Text, nullable=False))
    respondent_key: str | None = Field(default=None, max_length=64)


class WorkspacePause(SQLModel, table=True):
    """Until when a workspace must not be sent to: a 429's Retry-After, shared by every process."""

    __tablename__ = "workspace_pause"
    platform: str = Field(primary_key=True, max_length=16)
    workspace: str = Field(primary_key=True, max_length=64)
    paused_until: datetime = Field(sa_column=_ts(False))


class StoreMeta(SQLModel, table=True):
    """Facts about the store itself: the fingerprint of the secret its respondent keys were made with."""

    __tablename__ = "store_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)


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


# The answers an empty chair takes (`Impact.effect`), in the order cards and reports show them.
IMPACT_EFFECTS = ("better", "worse", "no_change", "unknown")


class Impact(SQLModel, table=True):
    """An answer to an empty chair: better, worse, no change or we don't know; who; a note."""

    id: int | None = Field(default=None, primary_key=True)
    chair_id: int = Field(foreign_key="empty_chair.id", index=True, ondelete="CASCADE")
    author: str = Field(max_length=200)
    effect: str = Field(max_length=16)  # one of IMPACT_EFFECTS
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


class DashboardLink(SQLModel, table=True):
    """A one-time dashboard link of a leader, known only by a keyed hash of its token (never the token)."""

    __tablename__ = "dashboard_link"
    token_hash: str = Field(primary_key=True, max_length=64)
    leader: str = Field(max_length=200)  # "platform:id", as leaders are stored
    expires_at: datetime = Field(sa_column=_ts(False))
    spent_at: datetime | None = Field(default=None, sa_column=_ts())


class DashboardSession(SQLModel, table=True):
    """A leader's dashboard session, shared by every replica; known only by a keyed hash of its id."""

    __tablename__ = "dashboard_session"
    id_hash: str = Field(primary_key=True, max_length=64)
    leader: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=_ts(False))


class ReplyThread(SQLModel, table=True):
    """A leader's anonymous conversation with the author of one frozen comment.

    It keeps the comment's respondent key (never a member id): the bot finds the author by
    recomputing the keys of the round's members with the secret. `leader` is the replying
    leader's "platform:id". `stopped_at` (the author pressed stop) and `closed_at` (the author
    was forgotten or can no longer be reached) are rounded down to the relay batch, so they say
    no more about when the author acted than the relayed messages do.
    """

    __tablename__ = "reply_thread"
    __table_args__ = (UniqueConstraint("round_comment_id", "leader"), _NO_ROWID)
    id: str = Field(default_factory=random_id, primary_key=True, max_length=32,
                    sa_column_kwargs={"default": random_id})
    round_comment_id: str = Field(foreign_key="round_comment.id", index=True, ondelete="CASCADE", max_length=32)
    respondent_key: str | None = Field(default=None, max_length=64, index=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    leader: str = Field(max_length=200, index=True)
    stopped_at: datetime | None = Field(default=None, sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=_ts())


class ReplyMessage(SQLModel, table=True):
    """One relayed message of a thread, queued for its batch: `to_author` or `to_leader`.

    `due_at` is the end of the batch it was written in (a multiple of `relay_batch_minutes`), the
    only time it has: no time of writing, no time of sending. `status`: pending → sending → sent
    (claimed with a conditional UPDATE before sending, so nothing goes twice; a row a crash left in
    'sending' becomes 'recheck' when the next clock holder starts, and is looked for at its platform
    before it is sent, or never sent again where the platform cannot look), failed, dropped (the thread was stopped or closed before its
    batch), or read (a console person's inbox is the store: shown once). `kind` "stopped" tells the leader that the
    author ended the conversation; its text is empty.
    """

    __tablename__ = "reply_message"
    __table_args__ = (Index("ix_reply_message_status_due", "status", "due_at"), _NO_ROWID)
    id: str = Field(default_factory=random_id, primary_key=True, max_length=32,
                    sa_column_kwargs={"default": random_id})
    thread_id: str = Field(foreign_key="reply_thread.id", index=True, ondelete="CASCADE", max_length=32)
    direction: str = Field(max_length=16)  # "to_author" or "to_leader"
    kind: str = Field(default="text", max_length=16)  # "text" or "stopped"
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    due_at: datetime = Field(sa_column=_ts(False))
    status: str = Field(default="pending", max_length=16)


class Followup(SQLModel, table=True):
    """A "we don't know" impact of an empty chair, kept open until someone finds out.

    `owner` is the "platform:id" of who added the impact or last pressed "I'll find out"; NULL
    when nobody owns it (its owner was forgotten). `due_at` is counted from `owned_at`
    (`[pulse] followup_days`). `reminders` (0, 1 or 2) is claimed before each reminder is sent, so
    none goes twice; `console_seen` is how many of them a console owner has been shown. Like the
    impact it follows, it is an open decision record of a channel, not an answer.
    """

    __table_args__ = (Index("ix_followup_open_due", "resolved_at", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    impact_id: int = Field(foreign_key="impact.id", unique=True, ondelete="CASCADE")
    chair_id: int = Field(foreign_key="empty_chair.id", index=True, ondelete="CASCADE")
    owner: str | None = Field(default=None, max_length=200, index=True)
    created_at: datetime = Field(sa_column=_ts(False))
    owned_at: datetime = Field(sa_column=_ts(False))
    due_at: datetime = Field(sa_column=_ts(False))
    reminders: int = 0
    console_seen: int = 0
    resolved_at: datetime | None = Field(default=None, sa_column=_ts())
    effect: str | None = Field(default=None, max_length=16)  # what was learned: better, worse, no_change
    note: str = Field(default="", max_length=1000)


class RoundCommitment(SQLModel, table=True):
    """A leader's commitment after a closed round: one focus (a driver) and one sentence.

    Written when the round closes with figures (`status` "open": its team's own leaders are
    invited); the first leader to commit wins with a conditional UPDATE ("set"); "skipped" when a
    leader chose to skip (another may still commit). `leader` is the leader's "platform:id":
    leaders are not anonymous. Nothing here refers to a respondent or an answer.
    """

    __tablename__ = "round_commitment"
    round_id: int = Field(foreign_key="round.id", primary_key=True, ondelete="CASCADE")
    status: str = Field(default="open", max_length=16)  # open, set, skipped
    driver: str | None = Field(default=None, max_length=32)
    sentence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    leader: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=_ts())


class CommitmentNote(SQLModel, table=True):
    """One message about a commitment, queued in the store and sent once by the clock (an outbox row).

    `kind`: "invite" (a team leader is asked for a focus), "told" (another leader already set it),
    "post" (the commitment, to a member by DM or to the team's channel). `target` is unique per
    round and kind: "m:<member id>", "l:<leader ref>" or "c:<platform>:<conversation>".
    `member_id` ties a member's copy to them, so `forget` deletes it. `status`: pending → sending →
    sent (claimed with a conditional UPDATE), failed, or read (a console person's inbox is the store).
    """

    __tablename__ = "commitment_note"
    __table_args__ = (UniqueConstraint("round_id", "kind", "target"), Index("ix_commitment_note_status", "status"))
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)
    target: str = Field(max_length=400)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True, ondelete="CASCADE")
    status: str = Field(default="pending", max_length=16)
