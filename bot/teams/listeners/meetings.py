"""Meetings: a meeting starting where the empty chair is enabled opens one chair in its chat."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from bot.retries import SeenIds
from bot.teams.activities import actor_of, channel_data, where_of
from bot.teams.messenger import base_conversation
from bot.teams.surface import MessageSurface, form_locale
from handlers import chairs
from handlers.commands import error_outcome
from handlers.ports import Where
from handlers.surface import carry_out

if TYPE_CHECKING:
    from bot.teams.agent import PulseAgent

logger = logging.getLogger(__name__)

MEETING_START = "application/vnd.microsoft.meetingStart"


def register(agent: PulseAgent) -> None:
    """Attach the meeting-start listener."""
    ctx, messenger = agent.ctx, agent.messenger
    # Teams re-sends an event it got no answer for; a meeting must get one chair, not two.
    seen = SeenIds(1000)

    async def on_event(context: TurnContext) -> None:
        activity = context.activity
        if activity.name != MEETING_START:
            return
        where = where_of(activity)
        meeting = next(
            (m for m in ctx.config.meetings
             if m.on_meeting_start and m.teams_conversation
             and base_conversation(m.teams_conversation) == where.conversation),
            None,
        )
        if meeting is None:
            logger.info("meeting started where the chair is not enabled", extra={"conversation": where.conversation})
            return
        key = activity.id or f"{where.conversation}:{channel_data(activity).get('meeting', {}).get('id', '')}"
        if not seen.first_time(key):
            return
        actor = actor_of(activity)
        # The meeting opened this chair, not whoever's event carried the news: anyone in it may close it.
        try:
            outcome = await chairs.open_chair(
                ctx, actor, Where(conversation=where.conversation, kind="meeting"), meeting.topic, by_clock=True
            )
        except Exception as error:  # noqa: BLE001 - refused or failed, said in the meeting chat
            outcome = await error_outcome(ctx, actor, error, doing="meeting chair")
        await carry_out(ctx, outcome, MessageSurface(ctx, messenger, context, where, locale=form_locale(ctx, outcome)))

    agent.on(ActivityTypes.event, on_event)
