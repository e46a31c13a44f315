"""Answers, found only by their respondent keys: the store holds no other way to a member's answer."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import update as sa_update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Response, Round, Team


class OwnAnswer(NamedTuple):
    """One of a member's answers as they may see it: the team, the period and the answer."""

    team: str
    period: str
    response: Response


async def response_of(session: AsyncSession, *, round_id: int, respondent_key: str) -> Response | None:
    """The answer stored under this key in this round, if any."""
    stmt = select(Response).where(Response.round_id == round_id, Response.respondent_key == respondent_key)
    return (await session.exec(stmt)).first()


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
    await session.execute(stmt, pairs)
    # Drivers do not all report an executemany's row count: count the answers that moved instead.
    new = {p["new"] for p in pairs}
    return sum(1 for key in (await session.exec(select(Response.respondent_key))).all() if key in new)


async def count_answers(session: AsyncSession) -> int:
    """How many answers the store holds."""
    return len((await session.exec(select(Response.id))).all())
