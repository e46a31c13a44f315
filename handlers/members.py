"""Members and rosters: profiles from the platforms, respondent keys, team membership, leaders."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.i18n import normalize_locale
from handlers.ports import Actor, Recipient
from storage.db import retry_on_conflict
from storage.models import Delivery, Leader, Member, Team, TeamMember, Workspace

logger = logging.getLogger(__name__)


def respondent_key(secret: bytes, member_key: str, *, round_id: int) -> str:
    """The pseudonymous key a response is stored under: HMAC-SHA256(secret, "round|platform:user").

    A new key in every round: without the secret, two answers of the same person (in two rounds,
    or two teams) cannot be told to be one person's, so nothing about who answered can be learnt
    by matching keys across rounds against rosters.
    """
    return hmac.new(secret, f"{round_id}|{member_key}".encode(), hashlib.sha256).hexdigest()


def stable_key(secret: bytes, member_key: str) -> str:
    """The key before per-round keys (one per person for every round); only for re-keying old stores."""
    return hmac.new(secret, member_key.encode(), hashlib.sha256).hexdigest()


def valid_timezone(value: str | None) -> str | None:
    """The time zone if zoneinfo knows it, else None (platforms send odd values)."""
    if not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def recipient(member: Member, workspace: str = "") -> Recipient:
    """How a Messenger reaches this member directly."""
    return Recipient(
        platform=member.platform,
        user_id=member.user_id,
        workspace=workspace,
        dm_conversation=member.dm_conversation,
        conversation_ref=member.conversation_ref,
    )


def member_named_in(refs: Any) -> ColumnElement[bool]:
    """SQL: the member is one of `refs` (a select of "platform:id" strings, e.g. `Leader.user_ref`),
    by platform and id, or on Teams by Entra object id; the SQL twin of `Actor.ids()`."""
    by_id = (col(Member.platform) + ":" + col(Member.user_id)).in_(refs)
    # coalesce: a Teams member without an Entra id must compare false, not NULL (NOT NULL is NULL,
    # which would drop them from a roster that excludes leaders).
    aad = "teams:" + func.lower(func.coalesce(col(Member.aad_id), ""))
    return or_(by_id, and_(col(Member.platform) == "teams", aad.in_(refs)))


def leaders_of(team_id: int | None) -> Any:
    """SQL: the `user_ref` of everyone on no roster of this team: its own leaders and the global
    leaders (who read every team, so answer in none)."""
    return select(Leader.user_ref).where(or_(col(Leader.team_id) == team_id, col(Leader.team_id).is_(None)))


async def recipient_in(session: AsyncSession, member: Member) -> Recipient:
    """`recipient(member)` with the member's workspace id (which Slack token, with many workspaces)."""
    workspace = ""
    if member.workspace_id is not None:
        ws = await session.get(Workspace, member.workspace_id)
        workspace = ws.external_id if ws is not None else ""
    return recipient(member, workspace)


async def own_keys(session: AsyncSession, secret: bytes, actor: Actor) -> list[str]:
    """The actor's respondent keys: one per round they were asked in (their deliveries say which)."""
    stmt = (
        select(Delivery.round_id)
        .join(Member, col(Member.id) == Delivery.member_id)
        .where(Member.platform == actor.platform, Member.user_id == actor.user_id)
    )
    return [respondent_key(secret, actor.key, round_id=r) for r in (await session.exec(stmt)).all()]


async def find_member(session: AsyncSession, actor: Actor) -> Member | None:
    """The member row of this actor, if the bot has met them."""
    stmt = select(Member).where(Member.platform == actor.platform, Member.user_id == actor.user_id)
    return (await session.exec(stmt)).first()


async def _workspace_id(session: AsyncSession, platform: str, external_id: str) -> int | None:
    if not external_id:
        return None
    stmt = select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
    ws = (await session.exec(stmt)).first()
    if ws is None:
        ws = Workspace(platform=platform, external_id=external_id)
        session.add(ws)
        await session.flush()
    return ws.id


def _apply_profile(member: Member, actor: Actor, dm_conversation: str | None, conversation_ref: str | None) -> None:
    if actor.name:
        member.name = actor.name[:200]
    if actor.aad_id:
        member.aad_id = actor.aad_id
    if (tz := valid_timezone(actor.timezone)) is not None:
        member.timezone = tz
    if not member.locale_chosen and (lang := normalize_locale(actor.locale)):
        member.locale = lang
    if dm_conversation:
        member.dm_conversation = dm_conversation
    if conversation_ref:
        member.conversation_ref = conversation_ref


async def upsert_in(
    session: AsyncSession,
    actor: Actor,
    *,
    dm_conversation: str | None = None,
    conversation_ref: str | None = None,
    now=None,  # noqa: ANN001 - a datetime; kept loose for callers that have none
) -> Member:
    """Create or refresh a member inside an open session (flushes, does not commit)."""
    member = await find_member(session, actor)
    if member is None:
        member = Member(platform=actor.platform, user_id=actor.user_id, created_at=now)
        member.workspace_id = await _workspace_id(session, actor.platform, actor.workspace)
        session.add(member)
    _apply_profile(member, actor, dm_conversation, conversation_ref)
    await session.flush()
    return member


async def upsert_member(
    ctx: Context, actor: Actor, *, dm_conversation: str | None = None, conversation_ref: str | None = None
) -> Member:
    """Create or refresh a member's profile from what the platform told us.

    A locale the member chose with `lang` wins over the platform's hint. Two requests that meet
    the same new member at once: the second finds the first's row (`retry_on_conflict`).
    """

    async def upsert() -> Member:
        async with ctx.store.session() as session:
            member = await upsert_in(
                session, actor, dm_conversation=dm_conversation,
                conversation_ref=conversation_ref, now=ctx.clock.now(),
            )
            await session.commit()
            return member

    return await retry_on_conflict(upsert)


async def refresh_member(ctx: Context, actor: Actor) -> bool:
    """Refresh a known member's name, locale and time zone from the platform; False when there is
    no such member. Never creates one: a profile read after the request it came with (the Slack
    face reads it once the answer is stored and acknowledged) may find the member forgotten since,
    and a forgotten member must stay forgotten."""
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        if member is None:
            return False
        _apply_profile(member, actor, None, None)
        try:
            await session.commit()
        except StaleDataError:  # deleted (`privacy.forget`) between the read and the write
            return False
    return True


async def sync_roster(ctx: Context, *, team_name: str, members: list[Actor]) -> int:
    """Make `members` the team's active roster (leaders of the team excluded). Returns its size.

    Replicas started together each sync the rosters at start: the one that loses the race to
    insert a new member simply syncs again and finds the other's rows.
    """
    return await retry_on_conflict(lambda: _sync_roster(ctx, team_name=team_name, members=members), attempts=3)


async def _sync_roster(ctx: Context, *, team_name: str, members: list[Actor]) -> int:
    async with ctx.store.session() as session:
        team = (await session.exec(select(Team).where(Team.name == team_name))).first()
        if team is None:
            raise LookupError(f"no team named {team_name!r}")
        leader_refs = set((await session.exec(leaders_of(team.id))).all())
        keep: set[int] = set()
        for actor in members:
            if actor.ids() & leader_refs:
                continue  # a team's leaders read its report; they are not part of it
            member = await upsert_in(session, actor, now=ctx.clock.now())
            assert member.id is not None
            keep.add(member.id)
        rows = (await session.exec(select(TeamMember).where(TeamMember.team_id == team.id))).all()
        existing = {row.member_id: row for row in rows}
        for member_id, row in existing.items():
            row.active = member_id in keep
        assert team.id is not None
        for member_id in keep - existing.keys():
            session.add(TeamMember(team_id=team.id, member_id=member_id, active=True))
        await session.commit()
    logger.info("roster synced", extra={"team": team_name, "members": len(keep)})
    return len(keep)


async def member_locale(session: AsyncSession, ctx: Context, member: Member | None, team: Team | None = None) -> str:
    """The member's language: their profile, else the team's, else any team of theirs, else the default."""
    if member is not None and member.locale:
        return member.locale
    if team is not None and team.locale:
        return team.locale
    if member is not None and member.id is not None:
        stmt = (
            select(Team.locale)
            .join(TeamMember, col(TeamMember.team_id) == Team.id)
            .where(TeamMember.member_id == member.id, col(Team.locale).is_not(None))
            .limit(1)
        )
        if (lang := (await session.exec(stmt)).first()) is not None:
            return lang
    return ctx.config.pulse.default_locale


async def actor_locale(ctx: Context, actor: Actor) -> str:
    """The language to answer this actor in."""
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        if member is None:
            return normalize_locale(actor.locale) or ctx.config.pulse.default_locale
        return await member_locale(session, ctx, member)

