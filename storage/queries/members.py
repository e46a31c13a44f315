"""Members, their workspaces and team rosters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery, Member, Team, TeamMember, Workspace
from storage.queries.teams import every_leader, leaders_of


def member_named_in(refs: Any) -> ColumnElement[bool]:
    """SQL: the member is one of `refs` (a select of "platform:id" strings, e.g. `Leader.user_ref`),
    by platform and id, or on Teams by Entra object id; the SQL twin of `Actor.ids()`."""
    by_id = (col(Member.platform) + ":" + col(Member.user_id)).in_(refs)
    # coalesce: a Teams member without an Entra id must compare false, not NULL (NOT NULL is NULL,
    # which would drop them from a roster that excludes leaders).
    aad = "teams:" + func.lower(func.coalesce(col(Member.aad_id), ""))
    return or_(by_id, and_(col(Member.platform) == "teams", aad.in_(refs)))


async def find_member(session: AsyncSession, *, platform: str, user_id: str) -> Member | None:
    """The member with this platform identity, if the bot has met them."""
    stmt = select(Member).where(Member.platform == platform, Member.user_id == user_id)
    return (await session.exec(stmt)).first()


async def leader_member(session: AsyncSession, *, ref: str) -> Member | None:
    """The member a leader's "platform:id" (or Teams Entra id) names, if the bot has met them."""
    return (await session.exec(select(Member).where(member_named_in([ref])).order_by(col(Member.id)))).first()


async def update_profile(session: AsyncSession, *, member_id: int, values: dict[str, str]) -> None:
    """Set these profile columns of the member (no row, no change: a member forgotten meanwhile stays forgotten)."""
    await session.exec(update(Member).where(col(Member.id) == member_id).values(**values))  # type: ignore[call-overload]


async def member_by_id(session: AsyncSession, *, member_id: int) -> Member | None:
    """The member, or None."""
    return await session.get(Member, member_id)


async def add_member(
    session: AsyncSession, *, platform: str, user_id: str, workspace: str, created_at: datetime | None
) -> Member:
    """A new member row, in its workspace (created when new); added, not flushed."""
    member = Member(platform=platform, user_id=user_id, created_at=created_at)
    member.workspace_id = await _workspace_id(session, platform=platform, external_id=workspace)
    session.add(member)
    return member


async def _workspace_id(session: AsyncSession, *, platform: str, external_id: str) -> int | None:
    if not external_id:
        return None
    stmt = select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
    ws = (await session.exec(stmt)).first()
    if ws is None:
        ws = Workspace(platform=platform, external_id=external_id)
        session.add(ws)
        await session.flush()
    return ws.id


async def workspace_of(session: AsyncSession, *, member: Member) -> str:
    """The platform's id of the member's workspace ("" when unknown)."""
    if member.workspace_id is None:
        return ""
    ws = await session.get(Workspace, member.workspace_id)
    return ws.external_id if ws is not None else ""


async def delete_member(session: AsyncSession, *, platform: str, user_id: str) -> None:
    """Delete the member's profile (their roster rows and deliveries go with it)."""
    await session.exec(delete(Member).where(col(Member.platform) == platform, col(Member.user_id) == user_id))


async def a_team_locale(session: AsyncSession, *, member_id: int) -> str | None:
    """The language of some team the member is on, if any team of theirs has one."""
    stmt = (
        select(Team.locale)
        .join(TeamMember, col(TeamMember.team_id) == Team.id)
        .where(TeamMember.member_id == member_id, col(Team.locale).is_not(None))
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def active_team_names(session: AsyncSession, *, member_id: int) -> set[str]:
    """The names of the teams the member is on (actively)."""
    stmt = (
        select(Team.name)
        .join(TeamMember, col(TeamMember.team_id) == Team.id)
        .where(TeamMember.member_id == member_id, col(TeamMember.active).is_(True))
    )
    return set((await session.exec(stmt)).all())


async def team_user_ids(session: AsyncSession, *, team_name: str) -> list[str]:
    """The platform ids of everyone on the team's roster, active or not."""
    stmt = (
        select(Member.user_id)
        .join(TeamMember, col(TeamMember.member_id) == Member.id)
        .join(Team, col(Team.id) == TeamMember.team_id)
        .where(Team.name == team_name)
    )
    return list((await session.exec(stmt)).all())


async def leading_members(session: AsyncSession) -> list[Member]:
    """Every member who is a leader of some team or of all (by platform and id together)."""
    return list((await session.exec(select(Member).where(member_named_in(every_leader())))).all())


async def roster(session: AsyncSession, *, team_id: int) -> list[Member]:
    """Active, unpaused members of the team, in id order; its leaders and the global leaders left out."""
    stmt = (
        select(Member)
        .join(TeamMember, col(TeamMember.member_id) == Member.id)
        .where(
            TeamMember.team_id == team_id,
            col(TeamMember.active).is_(True),
            col(Member.paused).is_(False),
            ~member_named_in(leaders_of(team_id)),  # by platform and id, as leaders are stored
        )
        .order_by(col(Member.id))
    )
    return list((await session.exec(stmt)).all())


async def roster_zones(session: AsyncSession, *, team_name: str) -> set[str]:
    """The distinct time zones of a team's active members."""
    stmt = (
        select(Member.timezone)
        .join(TeamMember, col(TeamMember.member_id) == Member.id)
        .join(Team, col(Team.id) == TeamMember.team_id)
        .where(Team.name == team_name, col(TeamMember.active).is_(True), col(Member.timezone).is_not(None))
        .distinct()
    )
    return {tz for tz in (await session.exec(stmt)).all() if tz}


async def set_roster(session: AsyncSession, *, team_id: int, member_ids: set[int], only_add: bool = False) -> None:
    """Make `member_ids` the team's active roster: others on it become inactive (unless `only_add`),
    the new ones join."""
    rows = (await session.exec(select(TeamMember).where(TeamMember.team_id == team_id))).all()
    existing = {row.member_id: row for row in rows}
    if not only_add:
        for member_id, row in existing.items():
            row.active = member_id in member_ids
    for member_id in member_ids - existing.keys():
        session.add(TeamMember(team_id=team_id, member_id=member_id, active=True))


async def rounds_asked(session: AsyncSession, *, platform: str, user_id: str) -> list[int]:
    """The rounds this member was asked in (their deliveries say which)."""
    stmt = (
        select(Delivery.round_id)
        .join(Member, col(Member.id) == Delivery.member_id)
        .where(Member.platform == platform, Member.user_id == user_id)
    )
    return list((await session.exec(stmt)).all())
