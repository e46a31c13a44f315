"""Events API: App Home, messages typed in the DM, members joining a team's channel.

A typed answer is stored before Slack gets its 200 (bolt answers when the listener returns: the
app runs with `process_before_response`), so an event Slack saw acknowledged is an answer in the
store (DESIGN.md, Reliability); the reply comes after. Slack retries an event it did not see
answered (`X-Slack-Retry-Num`): the face keeps the ids of the events it has taken (`seen`) and
handles each once, lets a retry in when the first attempt failed before storing, and the answer
itself is idempotent (a retry after a restart, or on another replica, writes the same values).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.retries import SeenIds
from bot.slack.home import publish_home
from bot.slack.runtime import SlackRuntime
from bot.slack.surface import SlackSurface
from handlers.inputs import Typed
from handlers.members import upsert_member
from handlers.ports import Where
from handlers.surface import carry_out

logger = logging.getLogger(__name__)

SEEN_EVENTS = 10_000  # event ids remembered; Slack retries within minutes, three times at most


def register(app: AsyncApp, rt: SlackRuntime) -> None:
    """Attach app_home_opened, message.im and member_joined_channel."""
    seen = SeenIds(SEEN_EVENTS)

    async def skip_repeated_events(body: dict[str, Any], next: Any) -> Any:  # noqa: A002 - bolt's name
        # A listener middleware of the events below, not the app's: an app middleware costs every
        # request (a check-in tap too) bolt's building of its arguments (issue 14).
        if isinstance(body, dict) and body.get("type") == "event_callback":
            if not seen.first_time(str(body.get("event_id") or "")):
                logger.info("repeated event skipped", extra={"event_id": body.get("event_id")})
                return BoltResponse(status=200, body="")
        return await next()

    async def on_home(event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        actor = await rt.actor(client, str(event["user"]), str(context.team_id or ""))
        await publish_home(rt, client, actor)

    async def on_message(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext,
                         client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # edits, joins and the bot's own messages are not answers
        user, text, channel = event.get("user"), event.get("text"), event.get("channel")
        if not user or not isinstance(text, str) or not channel:
            return
        # Stored before the 200; users.info may hold it only briefly (`known_actor`).
        actor, profiled = await rt.known_actor(client, str(user), str(context.team_id or ""))
        where = Where(conversation=str(channel), kind="dm")
        try:
            await upsert_member(rt.ctx, actor, dm_conversation=where.conversation)
            # A refusal (closed, too long) is an answer: `handle` returns it, and it is acked.
            outcome = await rt.handle(actor, where, Typed(text))
        except Exception:
            # Nothing stored (the store failed) and Slack gets a 500: its retry must be handled, not
            # skipped as seen, so a 200 always means the answer is stored.
            seen.forget(str(body.get("event_id") or ""))
            raise

        async def answer() -> None:
            if not profiled:
                # First, so that the hint below is already in the member's Slack language.
                await rt.refresh_profile(client, actor)
            surface = SlackSurface(rt, client, actor, where)
            if outcome is None:
                await surface.reply(await rt.say(actor, "slack.no_open_round", "info"))
                return
            await carry_out(rt.ctx, outcome, surface)

        rt.later(answer)

    async def on_member_joined(event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = str(event.get("channel") or "")
        if rt.roster_sync is None:
            return
        for team in rt.ctx.config.teams:
            if team.slack_channel == channel:
                await rt.roster_sync(team.name)

    # Events are acked by bolt when the listener returns. A typed answer is stored first (above);
    # the Home tab and a roster sync store no answer and take Web API calls, so they are queued.
    async def later_home(event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient) -> None:
        rt.later(lambda: on_home(event, context, client))

    async def later_joined(event: dict[str, Any], context: AsyncBoltContext) -> None:
        rt.later(lambda: on_member_joined(event, context))

    once = [skip_repeated_events]
    app.event("app_home_opened", middleware=once)(later_home)
    app.event("message", middleware=once)(on_message)
    app.event("member_joined_channel", middleware=once)(later_joined)
