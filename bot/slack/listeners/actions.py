"""Button taps (block_actions): one listener for every pulsebot button.

The neutral action and value travel through untouched (`blocks.action_of` only strips the index
Block Kit needs to keep action ids unique in a block). The tap is acked at once; the card is
updated in place after. A double tap records the same answer twice: nothing changes twice.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import action_of
from bot.slack.runtime import SlackRuntime
from bot.slack.translate import MalformedPayload, action_of_body, tapped_of, user_of
from handlers.interactions import dispatch
from handlers.members import upsert_member

logger = logging.getLogger(__name__)

ANY_ACTION = re.compile(r".+")


def register(app: AsyncApp, rt: SlackRuntime) -> None:
    """Attach the block_actions listener."""

    async def on_action(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        rt.later(lambda: handle(body, client))

    async def handle(body: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            user_id, team_id, name = user_of(body)
            slack_action, value = action_of_body(body)
            where, tapped = tapped_of(body)
        except MalformedPayload as exc:
            logger.warning("malformed action", extra={"error": str(exc)})
            return
        actor = await rt.actor(client, user_id, team_id, name)
        if where.kind == "dm":
            # Keep the DM id and the Slack profile (locale, time zone) on the member row.
            await upsert_member(rt.ctx, actor, dm_conversation=where.conversation)
        outcome = await dispatch(rt.ctx, actor, where, action=action_of(slack_action), value=value)
        await rt.apply(outcome, client=client, actor=actor, where=where, tapped=tapped,
                       trigger_id=str(body.get("trigger_id") or ""))

    app.action({"type": "block_actions", "action_id": ANY_ACTION})(on_action)
