"""Answers, found only by their respondent keys: the store holds no other way to a member's answer."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery, Member, Response, Round, Team
from storage.queries.commitments import focus_of


class OwnAnswer(NamedTuple):
    """One of a member's answers as they may see it: the team, the period and the answer."""

    team: str
    period: str
    response: Response


class Answering(NamedTuple):
    """What answering a round needs, read in one statement: the round and its team, the member
    (None when the bot has not met them), whether the round asked them, and their answer so far."""

    round: Round
    team: Team
    member: Member | None
    asked: bool
    response: Response | None
    focus: str | None  # the commitment this round follows up (`commitments.focus_of`), if any


def _answering(*, for_share: bool) -> Any:
    stmt = (
        sa_select(Round, Team, Member, col(Delivery.id), Response, focus_of(Round))
        .join(Team, col(Team.id) == Round.team_id)
        .outerjoin(Member, and_(col(Member.platform) == bindparam("platform"),
                                col(Member.user_id) == bindparam("user_id")))
        .outerjoin(Delivery, and_(col(Delivery.round_id) == Round.id, col(Delivery.member_id) == Member.id))
        .outerjoin(Response, and_(col(Response.round_id) == Round.id,
                                  col(Response.respondent_key) == bindparam("respondent_key")))
        .where(col(Round.id) == bindparam("round_id"))
    )
    # FOR SHARE OF round (PostgreSQL): the round's row only; SQLite has no row locks.
    return stmt.with_for_update(read=True, of=Round) if for_share else stmt  # type: ignore[arg-type]


# Built once: a check-in tap runs this on every tap, and building it cost more than running it.
_ANSWERING = {share: _answering(for_share=share) for share in (False, True)}


async def answering(
    session: AsyncSession, *, round_id: int, platform: str, user_id: str, respondent_key: str, for_share: bool = False
) -> Answering | None:
    """The round (None when there is no such round) with its team, the member of this platform
    identity, their delivery in it and the answer under `respondent_key`: one statement, where a
    check-in tap used to take five (each a trip to SQLite's thread, issue 14).

    `for_share` takes a shared lock on the round's row (PostgreSQL) that a close waits for.
    """
    params = {"round_id": round_id, "platform": platform, "user_id": user_id, "respondent_key": respondent_key}
    row = (await session.exec(_ANSWERING[for_share], params=params)).first()
    if row is None:
        return None
    rnd, team, member, delivery_id, response, focus = row
    return Answering(rnd, team, member, delivery_id is not None, response, focus)


def add_response(session: AsyncSession, *, round_id: int, respondent_key: str) -> Response:
    """A new, empty answer (added to the session; the caller fills it and commits)."""
    response = Response(round_id=round_id, respondent_key=respondent_key)
    session.add(response)
    return response


async def keys_that_answered(session: AsyncSession, *, round_id: int, keys: list[str]) -> set[str]:
    """Which of these respondent keys have an answer in the round."""
    stmt = select(Response.respondent_key).where(
        Response.round_id == round_id, col(Response.respondent_key).in_(keys)
    )
    return set((await session.exec(stmt)).all())


async def rounds_answered(session: AsyncSession, *, keys: list[str]) -> set[int]:
    """The rounds that hold an answer under one of these keys."""
    return set((await session.exec(select(Response.round_id).where(col(Response.respondent_key).in_(keys)))).all())


async def own_answers(session: AsyncSession, *, keys: list[str], limit: int) -> list[OwnAnswer]:
    """The answers under these keys, newest period first."""
    stmt = (
        select(Team.name, Round.period, Response)
        .join(Round, col(Round.id) == Response.round_id)
        .join(Team, col(Team.id) == Round.team_id)
        .where(col(Response.respondent_key).in_(keys))
        .order_by(col(Round.period_start).desc())
        .limit(limit)
    )
    return [OwnAnswer(team, period, response) for team, period, response in (await session.exec(stmt)).all()]


async def delete_answers(session: AsyncSession, *, keys: list[str]) -> int:
    """Delete every answer under these keys; how many went."""
    result = await session.exec(delete(Response).where(col(Response.respondent_key).in_(keys)))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def rekey_answers(session: AsyncSession, *, pairs: list[dict[str, str]]) -> int:
    """Replace each `old` key by its `new` one (executemany); how many answers now carry a new key."""
    if not pairs:
        return 0
    table = Response.__table__  # type: ignore[attr-defined]
    stmt = sa_update(table).where(table.c.respondent_key == bindparam("old")).values(respondent_key=bindparam("new"))
    await session.exec(stmt, params=pairs)  # type: ignore[call-overload]
    # Drivers do not all report an executemany's row count: count the answers that moved instead.
    new = {p["new"] for p in pairs}
    return sum(1 for key in (await session.exec(select(Response.respondent_key))).all() if key in new)


async def count_answers(session: AsyncSession) -> int:
    """How many answers the store holds."""
    return len((await session.exec(select(Response.id))).all())
