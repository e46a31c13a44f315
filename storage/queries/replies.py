"""Anonymous replies: threads between a leader and the author of a frozen comment, and their queued relays.

No member id is written here: a thread knows its author only by the comment's respondent key, and
the bot finds the author by recomputing keys over the round's members (`askees`).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Delivery,
    Member,
    ReplyMessage,
    ReplyThread,
    Round,
    RoundComment,
    RoundSummary,
    Team,
)


class CommentPlace(NamedTuple):
    """A frozen comment with what a reply needs: its round, team, period and how many answered."""

    comment: RoundComment
    team_id: int
    team: str
    team_locale: str | None
    period: str
    respondents: int


async def comment_place(session: AsyncSession, *, comment_id: str) -> CommentPlace | None:
    """The frozen comment `comment_id` with its round's team and count of respondents; None if unknown."""
    stmt = (
        select(RoundComment, Round.team_id, Team.name, Team.locale, Round.period,  # type: ignore[call-overload]
               RoundSummary.respondents)
        .join(Round, col(Round.id) == RoundComment.round_id)
        .join(Team, col(Team.id) == Round.team_id)
        .join(RoundSummary, col(RoundSummary.round_id) == Round.id)
        .where(RoundComment.id == comment_id)
    )
    row = (await session.exec(stmt)).first()
    return None if row is None else CommentPlace(*row)


async def thread_by_id(session: AsyncSession, *, thread_id: str) -> ReplyThread | None:
    """The thread, if it exists."""
    return await session.get(ReplyThread, thread_id)


async def leader_thread(session: AsyncSession, *, comment_id: str, leader: str) -> ReplyThread | None:
    """This leader's thread about this comment, if they started one."""
    stmt = select(ReplyThread).where(ReplyThread.round_comment_id == comment_id, ReplyThread.leader == leader)
    return (await session.exec(stmt)).first()


async def add_thread(session: AsyncSession, *, comment: RoundComment, team_id: int, leader: str) -> ReplyThread:
    """A new thread about `comment`, keyed by the comment's respondent key; flushed."""
    thread = ReplyThread(round_comment_id=comment.id, respondent_key=comment.respondent_key,
                         team_id=team_id, leader=leader)
    session.add(thread)
    await session.flush()
    return thread


async def queue_message(
    session: AsyncSession, *, thread_id: str, direction: str, text: str, due_at: datetime, kind: str = "text"
) -> None:
    """Queue one relay for the batch that ends at `due_at`; flushed. The same words already waiting
    for the same batch (a double click, a platform's retry) are not queued twice."""
    m = ReplyMessage
    same = select(m.id).where(m.thread_id == thread_id, m.direction == direction, m.kind == kind,
                              m.text == text, m.due_at == due_at, m.status == "pending")
    if (await session.exec(same)).first() is not None:
        return
    session.add(ReplyMessage(thread_id=thread_id, direction=direction, kind=kind, text=text, due_at=due_at))
    await session.flush()


async def drop_pending(session: AsyncSession, *, thread_ids: list[str], direction: str | None = None) -> int:
    """Pending relays of these threads will not be sent (stopped or closed); returns how many."""
    if not thread_ids:
        return 0
    stmt = update(ReplyMessage).where(col(ReplyMessage.thread_id).in_(thread_ids),
                                      col(ReplyMessage.status).in_(("pending", "recheck")))
    if direction is not None:
        stmt = stmt.where(col(ReplyMessage.direction) == direction)
    result = await session.exec(stmt.values(status="dropped"))  # type: ignore[call-overload]
    return int(result.rowcount)


async def forget_author(session: AsyncSession, *, keys: list[str], at: datetime) -> int:
    """A forgotten member's threads close (no more relays, their words stay) and their comments can
    no longer be answered: every copy of their keys is cleared. Returns how many threads closed."""
    if not keys:
        return 0
    ids = list((await session.exec(select(ReplyThread.id).where(col(ReplyThread.respondent_key).in_(keys)))).all())
    await drop_pending(session, thread_ids=ids)
    await session.exec(update(ReplyThread).where(col(ReplyThread.id).in_(ids))  # type: ignore[call-overload]
                       .values(respondent_key=None, closed_at=func.coalesce(ReplyThread.closed_at, at)))
    await session.exec(update(RoundComment).where(col(RoundComment.respondent_key).in_(keys))  # type: ignore[call-overload]
                       .values(respondent_key=None))
    return len(ids)


async def forget_leader_threads(session: AsyncSession, *, leader: str, at: datetime) -> int:
    """A forgotten leader's threads close and no longer name them; returns how many."""
    threads = (await session.exec(select(ReplyThread).where(ReplyThread.leader == leader))).all()
    await drop_pending(session, thread_ids=[t.id for t in threads])
    for thread in threads:
        thread.leader = f"forgotten:{thread.id}"
        thread.closed_at = thread.closed_at or at
    await session.flush()
    return len(threads)


async def due_message_ids(session: AsyncSession, *, now: datetime) -> list[tuple[str, str]]:
    """(id, status) of each relay to handle now, in random order (no order says who wrote first):
    pending ones whose batch has ended, and 'recheck' ones (a crash left them half-sent)."""
    stmt = (select(ReplyMessage.id, ReplyMessage.status)
            .where(or_(and_(col(ReplyMessage.status) == "pending", col(ReplyMessage.due_at) <= now),
                       col(ReplyMessage.status) == "recheck"))
            .order_by(func.random()))
    return [(row[0], row[1]) for row in (await session.exec(stmt)).all()]


async def claim_message(session: AsyncSession, *, message_id: str, status: str = "pending") -> bool:
    """pending (or recheck) → sending, by one process only (the conditional UPDATE is the claim)."""
    stmt = (update(ReplyMessage).where(col(ReplyMessage.id) == message_id, col(ReplyMessage.status) == status)
            .values(status="sending"))
    return bool((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


async def recheck_left_sending(session: AsyncSession) -> int:
    """Relays a stopped or crashed clock holder left in 'sending' become 'recheck': the next run
    looks for each at its platform before sending it (or, where it cannot look, never sends it
    again). Called when a process becomes the clock holder, before its jobs start."""
    stmt = update(ReplyMessage).where(col(ReplyMessage.status) == "sending").values(status="recheck")
    return int((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


async def set_status(session: AsyncSession, *, message_id: str, status: str) -> None:
    """Record how a claimed relay ended: sent, failed, dropped, or pending again (nothing was posted)."""
    await session.exec(update(ReplyMessage).where(col(ReplyMessage.id) == message_id)  # type: ignore[call-overload]
                       .values(status=status))


async def message_by_id(session: AsyncSession, *, message_id: str) -> ReplyMessage | None:
    """The relay row."""
    return await session.get(ReplyMessage, message_id)


async def askees(session: AsyncSession, *, round_id: int) -> list[Member]:
    """The members asked in a round (its deliveries): the only people who can have written its comments."""
    stmt = select(Member).join(Delivery, col(Delivery.member_id) == Member.id).where(Delivery.round_id == round_id)
    return list((await session.exec(stmt)).all())


async def close_thread(session: AsyncSession, *, thread_id: str, at: datetime) -> None:
    """The author cannot be reached any more: no more relays either way."""
    await drop_pending(session, thread_ids=[thread_id])
    await session.exec(update(ReplyThread).where(col(ReplyThread.id) == thread_id)  # type: ignore[call-overload]
                       .values(closed_at=func.coalesce(ReplyThread.closed_at, at)))


async def arrived_for(
    session: AsyncSession, *, keys: list[str], leader: str, now: datetime
) -> list[tuple[ReplyMessage, ReplyThread]]:
    """Relays addressed to one console person, there to read: sent, or pending with their batch
    ended (a console inbox is the store itself). To them as an author (by their keys), or as a leader."""
    to_author = (col(ReplyMessage.direction) == "to_author") & col(ReplyThread.respondent_key).in_(keys) \
        & col(ReplyThread.stopped_at).is_(None) & col(ReplyThread.closed_at).is_(None)
    to_leader = (col(ReplyMessage.direction) == "to_leader") & (col(ReplyThread.leader) == leader)
    arrived = (col(ReplyMessage.status) == "sent") | (
        (col(ReplyMessage.status) == "pending") & (col(ReplyMessage.due_at) <= now))
    stmt = (select(ReplyMessage, ReplyThread).join(ReplyThread, col(ReplyThread.id) == ReplyMessage.thread_id)
            .where(arrived & (to_author | to_leader)))
    return [(m, t) for m, t in (await session.exec(stmt)).all()]


async def mark_read(session: AsyncSession, *, message_id: str) -> bool:
    """sent or pending → read, once (the conditional UPDATE is the claim): shown to one reader once."""
    stmt = (update(ReplyMessage).where(col(ReplyMessage.id) == message_id,
                                       col(ReplyMessage.status).in_(("sent", "pending")))
            .values(status="read"))
    return bool((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


async def rekey_replies(session: AsyncSession, *, pairs: list[dict[str, str]]) -> None:
    """`secret rotate`: frozen comments and threads follow their answers from each `old` key to its `new` one."""
    if not pairs:
        return
    tables = (RoundComment.__table__, ReplyThread.__table__)  # type: ignore[attr-defined]
    for table in tables:
        stmt = update(table).where(table.c.respondent_key == bindparam("old")).values(respondent_key=bindparam("new"))
        await session.exec(stmt, params=pairs)  # type: ignore[call-overload]
