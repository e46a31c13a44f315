"""Teams and their leaders: found by name or channel, brought in line with the config file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Leader, Team


async def team_named(session: AsyncSession, *, name: str) -> Team | None:
    """The team with this name, or None."""
    return (await session.exec(select(Team).where(Team.name == name))).first()


async def team_by_id(session: AsyncSession, *, team_id: int) -> Team | None:
    """The team, or None."""
    return await session.get(Team, team_id)


async def team_id_named(session: AsyncSession, *, name: str) -> int | None:
    """The id of the team with this name, or None."""
    return (await session.exec(select(Team.id).where(Team.name == name))).first()


async def team_id_of_channel(session: AsyncSession, *, conversation: str) -> int | None:
    """The team whose own Slack channel or Teams conversation this is, or None."""
    stmt = select(Team.id).where(
        (col(Team.slack_channel) == conversation) | (col(Team.teams_conversation) == conversation)
    )
    return (await session.exec(stmt)).first()


async def team_names(session: AsyncSession, *, ids: list[int] | None = None) -> list[str]:
    """Team names in name order: every team, or those with these ids."""
    stmt = select(Team.name).order_by(Team.name)
    if ids is not None:
        stmt = stmt.where(col(Team.id).in_(ids))
    return list((await session.exec(stmt)).all())


async def save_team(
    session: AsyncSession,
    *,
    name: str,
    slack_channel: str | None,
    teams_conversation: str | None,
    locale: str | None,
    timezone: str | None,
) -> Team:
    """Create the team or update it to these values (flushed, so it has its id)."""
    team = await team_named(session, name=name)
    if team is None:
        team = Team(name=name)
        session.add(team)
    team.slack_channel = slack_channel
    team.teams_conversation = teams_conversation
    team.locale = locale
    team.timezone = timezone
    await session.flush()
    return team


def leaders_of(team_id: int | None) -> Any:
    """SQL: the `user_ref` of everyone on no roster of this team: its own leaders and the global
    leaders (who read every team, so answer in none)."""
    return select(Leader.user_ref).where(or_(col(Leader.team_id) == team_id, col(Leader.team_id).is_(None)))


def every_leader() -> Any:
    """SQL: the `user_ref` of every leader, of a team or global."""
    return select(Leader.user_ref)


async def led_team_ids(session: AsyncSession, *, refs: set[str] | list[str]) -> list[int | None]:
    """The teams these identities lead ("platform:id" refs); None stands for every team (a global leader)."""
    return list((await session.exec(select(Leader.team_id).where(col(Leader.user_ref).in_(refs)))).all())


async def leader_refs(session: AsyncSession, *, team_id: int | None, with_global: bool = False) -> set[str]:
    """The stored refs of the team's leaders (`team_id` None: the global leaders); with the global
    ones too when `with_global`."""
    if with_global:
        return set((await session.exec(leaders_of(team_id))).all())
    cond = col(Leader.team_id).is_(None) if team_id is None else col(Leader.team_id) == team_id
    return set((await session.exec(select(Leader.user_ref).where(cond))).all())


async def set_leaders(session: AsyncSession, *, team_id: int | None, refs: set[str]) -> None:
    """Make `refs` exactly the team's leaders (`team_id` None: the global leaders)."""
    cond = col(Leader.team_id).is_(None) if team_id is None else col(Leader.team_id) == team_id
    current = await leader_refs(session, team_id=team_id)
    if gone := current - refs:
        await session.exec(delete(Leader).where(cond, col(Leader.user_ref).in_(gone)))
    for ref in refs - current:
        session.add(Leader(team_id=team_id, user_ref=ref))
