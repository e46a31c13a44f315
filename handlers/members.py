"""Members and rosters: profiles from the platforms, respondent keys, team membership, leaders."""

from __future__ import annotations

import hashlib
import hmac
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.i18n import normalize_locale
from handlers.ports import Actor, Recipient
from storage.db import retry_on_conflict
from storage.models import Member, Team
from storage.queries import members as rows
from storage.queries.teams import leader_refs, team_named

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


async def recipient_in(session: AsyncSession, member: Member) -> Recipient:
    """`recipient(member)` with the member's workspace id (which Slack token, with many workspaces)."""
    return recipient(member, await rows.workspace_of(session, member=member))


async def own_keys(session: AsyncSession, secret: bytes, actor: Actor) -> list[str]:
    """The actor's respondent keys: one per round they were asked in (their deliveries say which)."""
    asked = await rows.rounds_asked(session, platform=actor.platform, user_id=actor.user_id)
    return [respondent_key(secret, actor.key, round_id=r) for r in asked]


async def find_member(session: AsyncSession, actor: Actor) -> Member | None:
    """The member row of this actor, if the bot has met them."""
    return await rows.find_member(session, platform=actor.platform, user_id=actor.user_id)


def _profile_values(
    member: Member, actor: Actor, dm_conversation: str | None, conversation_ref: str | None
) -> dict[str, str]:
    """The member row's profile as the platform tells it now: only what the platform said (a
    locale the member chose with `lang` wins over the platform's hint)."""
    values: dict[str, str] = {}
    if actor.name:
        values["name"] = actor.name[:200]
    if actor.aad_id:
        values["aad_id"] = actor.aad_id
    if (tz := valid_timezone(actor.timezone)) is not None:
        values["timezone"] = tz
    if not member.locale_chosen and (lang := normalize_locale(actor.locale)):
        values["locale"] = lang
    if dm_conversation:
        values["dm_conversation"] = dm_conversation
    if conversation_ref:
        values["conversation_ref"] = conversation_ref
    return values


def profile_changes(
    member: Member, actor: Actor, *, dm_conversation: str | None = None, conversation_ref: str | None = None
) -> dict[str, str]:
    """What the platform's profile (and these conversation ids) would change on the member row:
    empty when the row already says it all, so an unchanged profile costs no write."""
    wanted = _profile_values(member, actor, dm_conversation, conversation_ref)
    return {column: value for column, value in wanted.items() if getattr(member, column) != value}


def _apply_profile(member: Member, actor: Actor, dm_conversation: str | None, conversation_ref: str | None) -> None:
    for column, value in profile_changes(member, actor, dm_conversation=dm_conversation,
                                         conversation_ref=conversation_ref).items():
        setattr(member, column, value)


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
        member = await rows.add_member(session, platform=actor.platform, user_id=actor.user_id,
                                       workspace=actor.workspace, created_at=now)
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


async def refresh_member(ctx: Context, actor: Actor, *, dm_conversation: str | None = None) -> bool:
    """Refresh a known member's name, locale and time zone from the platform (and the DM they
    wrote from); False when there is no such member. Writes only what changed: an unchanged
    profile costs one read. Never creates a member: a profile read after the request it came
    with (the Slack face reads it once the answer is stored and acknowledged) may find the member
    forgotten since, and a forgotten member must stay forgotten."""
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        if member is None:
            return False
        _apply_profile(member, actor, dm_conversation, None)
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
        team = await team_named(session, name=team_name)
        if team is None or team.id is None:
            raise LookupError(f"no team named {team_name!r}")
        leaders = await leader_refs(session, team_id=team.id, with_global=True)
        keep: set[int] = set()
        for actor in members:
            if actor.ids() & leaders:
                continue  # a team's leaders read its report; they are not part of it
            member = await upsert_in(session, actor, now=ctx.clock.now())
            assert member.id is not None
            keep.add(member.id)
        await rows.set_roster(session, team_id=team.id, member_ids=keep)
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
        if (lang := await rows.a_team_locale(session, member_id=member.id)) is not None:
            return lang
    return ctx.config.pulse.default_locale


async def actor_locale(ctx: Context, actor: Actor) -> str:
    """The language to answer this actor in."""
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        if member is None:
            return normalize_locale(actor.locale) or ctx.config.pulse.default_locale
        return await member_locale(session, ctx, member)

