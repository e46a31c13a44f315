"""Commitments: a leader's focus after a closed round, claimed once, and its outbox of notes.

The commitment row is keyed by its round; no row here refers to a respondent or an answer. A note
is one message (an invitation, a "already set", a post) queued once per round, kind and target,
and claimed with a conditional UPDATE before it is sent, so nothing goes twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import CommitmentNote, Round, RoundCommitment, RoundSummary

OPEN, SET, SKIPPED = "open", "set", "skipped"


class CommitmentFigures(NamedTuple):
    """A round's commitment (if any) and the follow-up answers frozen in its summary (report input)."""

    round_id: int
    status: str | None
    driver: str | None
    sentence: str | None
    focus_n: int | None
    focus_sum: int | None


async def add_commitment(session: AsyncSession, *, round_id: int) -> RoundCommitment:
    """The round's commitment, open for its leaders (added in the transaction that closes the round)."""
    row = RoundCommitment(round_id=round_id, status=OPEN)
    session.add(row)
    return row


async def commitment_of(session: AsyncSession, *, round_id: int) -> RoundCommitment | None:
    """The round's commitment row, or None (the round closed without figures, or before commitments)."""
    return await session.get(RoundCommitment, round_id, populate_existing=True)


async def claim_commit(
    session: AsyncSession, *, round_id: int, driver: str, sentence: str, leader: str, now: datetime
) -> bool:
    """Set the commitment if nobody set it yet; False when another leader was first (the UPDATE is the claim)."""
    stmt = (update(RoundCommitment)
            .where(col(RoundCommitment.round_id) == round_id, col(RoundCommitment.status).in_((OPEN, SKIPPED)))
            .values(status=SET, driver=driver, sentence=sentence, leader=leader, decided_at=now))
    return bool((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


async def mark_skipped(session: AsyncSession, *, round_id: int, leader: str, now: datetime) -> bool:
    """Record a skip if nothing was set; a later commitment (another leader, or `/team-pulse commit`) still wins."""
    stmt = (update(RoundCommitment)
            .where(col(RoundCommitment.round_id) == round_id, col(RoundCommitment.status) == OPEN)
            .values(status=SKIPPED, leader=leader, decided_at=now))
    return bool((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


def focus_of(rnd: Any) -> Any:
    """A scalar subquery: the focus (driver) committed after the previous round of `rnd`'s team,
    if set; `rnd` is the Round class (correlated inside a larger statement) or a Round row."""
    previous = aliased(Round)
    previous_id = (sa_select(col(previous.id))
                   .where(col(previous.team_id) == rnd.team_id, col(previous.period_start) < rnd.period_start)
                   .order_by(col(previous.period_start).desc()).limit(1)
                   # Two levels down from the statement that holds `rnd`: only an explicit
                   # correlation reaches it (auto-correlation stops at the enclosing select, and the
                   # subquery would read every team's rounds).
                   .correlate(Round).scalar_subquery())
    return (sa_select(col(RoundCommitment.driver))
            .where(col(RoundCommitment.round_id) == previous_id, col(RoundCommitment.status) == SET)
            .scalar_subquery())


async def focus_for(session: AsyncSession, *, rnd: Round) -> str | None:
    """The focus the round follows up: the driver committed after the team's previous round, if set."""
    return (await session.exec(sa_select(focus_of(rnd)))).scalar()  # type: ignore[call-overload]


async def last_closed_with_figures(session: AsyncSession, *, team_id: int) -> int | None:
    """The team's latest closed round that has a commitment row (it closed with figures)."""
    stmt = (select(Round.id).join(RoundCommitment, col(RoundCommitment.round_id) == Round.id)
            .where(Round.team_id == team_id, col(Round.closed_at).is_not(None))
            .order_by(col(Round.period_start).desc()).limit(1))
    return (await session.exec(stmt)).first()


async def queue_notes(session: AsyncSession, *, round_id: int, kind: str, targets: list[tuple[str, int | None]]) -> int:
    """Queue one note per (target, member id) not queued yet for this round and kind; returns how many."""
    have = set((await session.exec(select(CommitmentNote.target).where(
        CommitmentNote.round_id == round_id, CommitmentNote.kind == kind))).all())
    new = [(t, m) for t, m in dict(targets).items() if t not in have]
    session.add_all(CommitmentNote(round_id=round_id, kind=kind, target=t, member_id=m) for t, m in new)
    await session.flush()
    return len(new)


async def due_notes(session: AsyncSession, *, limit: int = 500) -> list[tuple[int, str]]:
    """(id, status) of notes waiting to be sent: pending, or left by a crash ("recheck")."""
    stmt = (select(CommitmentNote.id, CommitmentNote.status)
            .where(col(CommitmentNote.status).in_(("pending", "recheck"))).order_by(col(CommitmentNote.id)).limit(limit))
    return [(i, s) for i, s in (await session.exec(stmt)).all() if i is not None]


async def claim_note(session: AsyncSession, *, note_id: int, status: str) -> bool:
    """pending (or recheck) → sending, by one process only."""
    stmt = (update(CommitmentNote).where(col(CommitmentNote.id) == note_id, col(CommitmentNote.status) == status)
            .values(status="sending"))
    return bool((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


async def note_by_id(session: AsyncSession, *, note_id: int) -> CommitmentNote | None:
    """The note, or None (its member was forgotten)."""
    return await session.get(CommitmentNote, note_id, populate_existing=True)


async def set_note_status(session: AsyncSession, *, note_id: int, status: str) -> None:
    """Record what became of a claimed note."""
    await session.exec(update(CommitmentNote).where(col(CommitmentNote.id) == note_id).values(status=status))  # type: ignore[call-overload]


async def recheck_left_sending(session: AsyncSession) -> int:
    """Notes a crashed clock holder left in 'sending' are looked for before they are sent again."""
    stmt = update(CommitmentNote).where(col(CommitmentNote.status) == "sending").values(status="recheck")
    return int((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


async def arrived_for(session: AsyncSession, *, targets: list[str]) -> list[CommitmentNote]:
    """Notes to these targets not shown yet, sent or still pending (a console person's inbox is the store)."""
    stmt = (select(CommitmentNote).where(col(CommitmentNote.target).in_(targets),
                                         col(CommitmentNote.status).in_(("pending", "sent")))
            .order_by(col(CommitmentNote.id)))
    return list((await session.exec(stmt)).all())


async def mark_read(session: AsyncSession, *, note_id: int, status: str) -> bool:
    """pending or sent → read, once (a second reader, or the sender, finds it gone)."""
    stmt = (update(CommitmentNote).where(col(CommitmentNote.id) == note_id, col(CommitmentNote.status) == status)
            .values(status="read"))
    return bool((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


async def commitment_figures(conn: AsyncConnection, *, round_ids: list[int]) -> list[CommitmentFigures]:
    """Per round: its commitment and its frozen follow-up answers (count and sum), for the report."""
    if not round_ids:
        return []
    rnd, com, summ = Round.__table__, RoundCommitment.__table__, RoundSummary.__table__  # type: ignore[attr-defined]
    stmt: Any = (sa_select(rnd.c.id, com.c.status, com.c.driver, com.c.sentence, summ.c.focus_n, summ.c.focus_sum)
                 .select_from(rnd.outerjoin(com, com.c.round_id == rnd.c.id)
                              .outerjoin(summ, summ.c.round_id == rnd.c.id))
                 .where(rnd.c.id.in_(round_ids)))
    return [CommitmentFigures(*row) for row in (await conn.execute(stmt)).all()]
