"""Installs and rosters: the app added to a chat or a team, people joining or leaving."""

from __future__ import annotations

from typing import TYPE_CHECKING

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from bot.teams import roster
from bot.teams.activities import where_of
from handlers.i18n import t
from handlers.members import actor_locale

if TYPE_CHECKING:
    from bot.teams.agent import PulseAgent


def register(agent: PulseAgent) -> None:
    """Attach the installation and conversation-update listeners."""
    ctx = agent.ctx

    async def on_installation_update(context: TurnContext) -> None:
        if (context.activity.action or "").startswith("add"):
            await installed(context)

    async def on_conversation_update(context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = activity.members_added or []
        removed = activity.members_removed or []
        if any(m.id == bot_id for m in added):
            await installed(context)
        elif added or removed:
            await roster.sync_conversation(ctx, context)

    async def installed(context: TurnContext) -> None:
        if where_of(context.activity).kind == "dm":
            actor = await agent.remember_sender(context)
            await context.send_activity(t("teams.welcome", await actor_locale(ctx, actor)))
            return
        await roster.sync_conversation(ctx, context)

    agent.on(ActivityTypes.installation_update, on_installation_update)
    agent.on(ActivityTypes.conversation_update, on_conversation_update)
