"""Slash commands: /empty-chair, /team-pulse, /pulse — acked at once, answered after.

The ack is empty and immediate (Slack allows 3 seconds); the answer goes to the response_url,
so only the requester sees it, except the empty chair's card, which is a visible post.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.runtime import SlackRuntime
from bot.slack.surface import SlackSurface
from bot.slack.translate import MalformedPayload, command_parts
from handlers.commands import Verb
from handlers.inputs import Command
from handlers.ports import Actor, Where
from handlers.surface import carry_out

logger = logging.getLogger(__name__)


async def bot_is_in(client: AsyncWebClient, where: Where) -> bool:
    """Whether the app can post in the conversation (a channel it was added to, or its own DM)."""
    if not where.conversation:
        return False
    try:
        info = (await client.conversations_info(channel=where.conversation))["channel"]
    except SlackApiError:
        return False  # private channels the app is not in are "channel_not_found"
    return bool(info.get("is_im") or info.get("is_member"))


def register(app: AsyncApp, rt: SlackRuntime) -> None:
    """Attach the three slash commands."""

    async def on_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        rt.later(lambda: answer(command, client))

    async def answer(command: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            user_id, team_id, name, where, text = command_parts(command)
        except MalformedPayload as exc:
            logger.warning("malformed command", extra={"error": str(exc)})
            return
        done = Command.parse(str(command.get("command", "")), text)
        actor: Actor = await rt.actor(client, user_id, team_id, name)
        surface = SlackSurface(rt, client, actor, where, respond_url=str(command.get("response_url") or ""),
                               trigger_id=str(command.get("trigger_id") or ""))
        opening_chair = done.verb is Verb.EMPTY_CHAIR and not done.asks_help
        if opening_chair and not await bot_is_in(client, where):
            # Refuse before anything is stored: a chair nobody can see would count in reports.
            await surface.reply(await rt.say(actor, "slack.not_in_channel"))
            return
        outcome = await rt.handle(actor, where, done)
        if outcome is not None:
            await carry_out(rt.ctx, outcome, surface)

    for verb in Verb:
        app.command(f"/{verb.value}")(on_command)
