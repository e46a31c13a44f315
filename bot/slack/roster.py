"""Rosters from Slack channels: members of a team's `slack_channel`, people only.

Bots, deleted users and guests (`is_restricted`, `is_ultra_restricted`) are never on a roster.
Each member's locale and time zone come from users.info with `include_locale`.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.runtime import actor_from_profile
from handlers.context import Context
from handlers.members import sync_roster
from handlers.ports import Actor

logger = logging.getLogger(__name__)

PAGE = 200
PARALLEL_LOOKUPS = 8


async def channel_members(client: AsyncWebClient, channel: str) -> list[str]:
    """Every user id in the channel (conversations.members, all pages)."""
    ids: list[str] = []
    cursor = ""
    while True:
        page = await client.conversations_members(channel=channel, limit=PAGE, cursor=cursor or None)
        ids.extend(page.get("members") or [])
        cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or ""
        if not cursor:
            return ids


def is_person(user: dict) -> bool:
    """A full member: not a bot, not deactivated, not a guest."""
    if user.get("is_bot") or user.get("deleted") or user.get("id") == "USLACKBOT":
        return False
    return not (user.get("is_restricted") or user.get("is_ultra_restricted"))


async def people_in(client: AsyncWebClient, channel: str, team_id: str) -> list[Actor]:
    """The people of a channel, with their Slack profile (name, locale, time zone)."""
    ids = await channel_members(client, channel)
    gate = asyncio.Semaphore(PARALLEL_LOOKUPS)

    async def look(user_id: str) -> Actor | None:
        async with gate:
            try:
                user = (await client.users_info(user=user_id, include_locale=True))["user"]
            except SlackApiError as exc:
                logger.warning("users.info failed", extra={"user": user_id, "error": exc.response.get("error")})
                return None
        if not is_person(user):
            return None
        return actor_from_profile(user_id, team_id, str(user.get("name") or ""), user)

    found = await asyncio.gather(*(look(u) for u in ids))
    return [a for a in found if a is not None]


async def sync_team(ctx: Context, client: AsyncWebClient, team_id: str, team_name: str) -> int:
    """Make the team's roster the people of its Slack channel; returns the roster size."""
    team = ctx.config.team(team_name)
    if team is None or not team.slack_channel:
        return 0
    people = await people_in(client, team.slack_channel, team_id)
    size = await sync_roster(ctx, team_name=team_name, members=people)
    logger.info("slack roster synced", extra={"team": team_name, "members": size})
    return size
