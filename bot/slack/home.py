"""App Home: the member's own last answers and settings, and for leaders a summary of their teams.

Built from the same handlers as `/pulse me` and `/team-pulse`, rendered as a Home tab view
(views.publish). The leader summary is shown only when the report gave figures: anyone else
gets no section at all rather than a refusal on their home.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import render_blocks
from bot.slack.runtime import SlackRuntime
from handlers.inputs import Command
from handlers.messages import Chart, Divider, Facts, Message
from handlers.ports import Actor, Where

logger = logging.getLogger(__name__)

HOME_BLOCKS = 100


def _without_png(message: Message) -> Message:
    # The chart image goes to the DM on /team-pulse; the Home tab shows the sparkline only.
    blocks = tuple(
        Chart(b.title, b.labels, b.points, b.low, b.high, None, b.alt_text) if isinstance(b, Chart) else b
        for b in message.blocks
    )
    return Message(blocks, message.fallback, message.locale)


async def home_view(rt: SlackRuntime, actor: Actor) -> dict[str, Any]:
    """The Home tab of one member."""
    where = Where(kind="dm")
    own = await rt.handle(actor, where, Command.parse("pulse", "me"))
    blocks: list[Any] = []
    if own is not None and own.reply is not None:
        blocks.extend(render_blocks(own.reply))
    report = await rt.handle(actor, where, Command.parse("team-pulse"))
    if report is not None and report.reply is not None and any(isinstance(b, Facts | Chart) for b in report.reply.blocks):
        blocks.extend(render_blocks(Message((Divider(),), "")))
        blocks.extend(render_blocks(_without_png(report.reply)))
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}


async def publish_home(rt: SlackRuntime, client: AsyncWebClient, actor: Actor) -> None:
    """Publish the member's Home tab."""
    view = await home_view(rt, actor)
    try:
        await client.views_publish(user_id=actor.user_id, view=view)
    except SlackApiError as exc:
        logger.warning("views.publish failed", extra={"error": exc.response.get("error")})
