"""The agent behind `/api/messages`: wiring only. Each listener module registers its handlers.

`on_turn` remembers the conversation, finds the handler registered for the activity's type and
answers a failure politely; what each kind of activity means lives in `bot.teams.listeners`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from bot.teams.activities import actor_of, where_of
from bot.teams.messenger import TeamsMessenger, dump_reference
from bot.teams.surface import invoke_error
from handlers.context import Context
from handlers.i18n import t
from handlers.members import actor_locale, upsert_member
from handlers.ports import Actor

logger = logging.getLogger(__name__)

Handler = Callable[[TurnContext], Awaitable[None]]


class PulseAgent:
    """The SDK `Agent`: `on_turn` is called by the CloudAdapter for each inbound activity."""

    def __init__(self, ctx: Context, messenger: TeamsMessenger) -> None:
        self.ctx = ctx
        self.messenger = messenger
        self._routes: dict[str, Handler] = {}
        from bot.teams.listeners import register_listeners

        register_listeners(self)

    def on(self, activity_type: str, handler: Handler) -> None:
        """Route activities of one type to `handler` (one handler a type)."""
        self._routes[activity_type] = handler

    async def on_turn(self, context: TurnContext) -> None:
        """Dispatch one activity; a failure is logged and answered, never leaked as a 500."""
        activity = context.activity
        if activity.service_url and activity.conversation:
            await self.messenger.remember(activity.get_conversation_reference())
        handler = self._routes.get(str(activity.type))
        if handler is None:
            logger.debug("activity ignored", extra={"type": activity.type})
            return
        try:
            await handler(context)
        except Exception:
            logger.exception("teams turn failed", extra={"type": activity.type})
            if activity.type == ActivityTypes.invoke:
                await invoke_error(context, t("teams.error", activity.locale))
            elif activity.type == ActivityTypes.message:
                locale = await actor_locale(self.ctx, actor_of(activity))
                await context.send_activity(t("teams.error", locale))

    async def remember_sender(self, context: TurnContext) -> Actor:
        """Store the sender with a reference for proactive messages (and the chat, if personal)."""
        activity = context.activity
        actor = actor_of(activity)
        where = where_of(activity)
        await upsert_member(
            self.ctx,
            actor,
            dm_conversation=activity.conversation.id if where.kind == "dm" else None,
            conversation_ref=dump_reference(activity.get_conversation_reference()),
        )
        return actor
