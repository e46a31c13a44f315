"""Button taps (block_actions): one listener for every pulsebot button.

The neutral action and value travel through untouched (`blocks.action_of` only strips the index
Block Kit needs to keep action ids unique in a block). The tap is stored before it is acked: the
app runs with `process_before_response`, so bolt sends the 200 only when the listener returns,
and a button the member saw respond is an answer in the store (DESIGN.md, Reliability). A
one-row write takes milliseconds, well inside Slack's 3 s; only what shows it (the card updated
in place, a reply, a modal) comes after. A double tap records the same answer twice: nothing
changes twice.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import action_of
from bot.slack.runtime import SlackRuntime
from bot.slack.surface import SlackSurface
from bot.slack.translate import MalformedPayload, action_of_body, tapped_of, user_of
from handlers.inputs import Tap
from handlers.members import upsert_member
from handlers.surface import carry_out

logger = logging.getLogger(__name__)

ANY_ACTION = re.compile(r".+")


def register(app: AsyncApp, rt: SlackRuntime) -> None:
    """Attach the block_actions listener."""

    async def on_action(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            user_id, team_id, _ = user_of(body)
            slack_action, value = action_of_body(body)
            where, tapped = tapped_of(body)
        except MalformedPayload as exc:
            logger.warning("malformed action", extra={"error": str(exc)})
            await ack()
            return
        tap = Tap.parse(action_of(slack_action), value)
        if tap.answers_checkin:
            # Stored under the member's ids alone: no wait for users.info before the ack; the
            # profile (when not cached yet) is read and kept after it.
            actor, profiled = rt.actor_now(user_id, team_id)
        else:
            # Before the ack; users.info may hold it only briefly (`known_actor`).
            actor, profiled = await rt.known_actor(client, user_id, team_id)
        if where.kind == "dm" and not tap.answers_checkin:
            # Keep the DM id and the Slack profile (locale, time zone) on the member row; before
            # the handler, so that a `forget` tapped here is the last write about this member.
            # A check-in answer keeps them after the ack instead (`show`).
            await upsert_member(rt.ctx, actor, dm_conversation=where.conversation)
        outcome = await rt.handle(actor, where, tap)
        await ack()
        if outcome is None:
            return
        surface = SlackSurface(rt, client, actor, where, card=tapped, trigger_id=str(body.get("trigger_id") or ""))

        # A check-in answer in the DM: the profile and the DM id are kept after the ack (the
        # answer needed neither): one read at most, and a write only when something changed.
        dm = where.conversation if where.kind == "dm" and tap.answers_checkin else None

        async def show() -> None:
            await carry_out(rt.ctx, outcome, surface)
            if not profiled or dm is not None:
                await rt.refresh_profile(client, actor, dm_conversation=dm, profiled=profiled)

        # A modal must be opened within 3 s of the tap (trigger_id): it does not wait in the queue.
        rt.later(show, at_once=outcome.form is not None)

    app.action({"type": "block_actions", "action_id": ANY_ACTION})(on_action)
