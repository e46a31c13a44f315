"""Teams activities in, handler calls, Adaptive Cards out: the one agent behind `/api/messages`.

The turn is dispatched by activity type (message, invoke, conversationUpdate, installationUpdate,
event); each branch reads plain values from the activity and calls `handlers.*`. What a handler
returns (`Outcome`) is rendered by `bot.teams.outcomes`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from bot.teams import outcomes, roster
from bot.teams.activities import actor_of, channel_data, split_command, where_of
from bot.teams.cards import read_payload
from bot.teams.messenger import TeamsMessenger, base_conversation, dump_reference
from handlers import chairs, commands, interactions
from handlers.context import Context
from handlers.i18n import t
from handlers.members import actor_locale, upsert_member
from handlers.ports import Actor, Where

logger = logging.getLogger(__name__)

MEETING_START = "application/vnd.microsoft.meetingStart"


class PulseAgent:
    """The SDK `Agent`: `on_turn` is called by the CloudAdapter for each inbound activity."""

    def __init__(self, ctx: Context, messenger: TeamsMessenger) -> None:
        self.ctx = ctx
        self.messenger = messenger
        # Teams re-sends an event it got no answer for; a meeting must get one chair, not two.
        self._seen_events: OrderedDict[str, None] = OrderedDict()

    async def on_turn(self, context: TurnContext) -> None:
        """Dispatch one activity; a failure is logged and answered, never leaked as a 500."""
        activity = context.activity
        if activity.service_url and activity.conversation:
            await self.messenger.remember(activity.get_conversation_reference())
        try:
            match activity.type:
                case ActivityTypes.message:
                    await self._on_message(context)
                case ActivityTypes.invoke:
                    await self._on_invoke(context)
                case ActivityTypes.conversation_update:
                    await self._on_conversation_update(context)
                case ActivityTypes.installation_update:
                    await self._on_installation_update(context)
                case ActivityTypes.event:
                    await self._on_event(context)
                case _:
                    logger.debug("activity ignored", extra={"type": activity.type})
        except Exception:
            logger.exception("teams turn failed", extra={"type": activity.type})
            if activity.type == ActivityTypes.invoke:
                await outcomes.invoke_error(context, t("teams.error", activity.locale))
            elif activity.type == ActivityTypes.message:
                locale = await actor_locale(self.ctx, actor_of(activity))
                await context.send_activity(t("teams.error", locale))

    # -- people ----------------------------------------------------------------------------------
    async def _remember_sender(self, context: TurnContext) -> Actor:
        """Store the sender with a reference for proactive messages (and the chat, if personal)."""
        activity = context.activity
        actor = actor_of(activity)
        where = where_of(activity)
        reference = activity.get_conversation_reference()
        await upsert_member(
            self.ctx,
            actor,
            dm_conversation=activity.conversation.id if where.kind == "dm" else None,
            conversation_ref=dump_reference(reference),
        )
        return actor

    # -- messages --------------------------------------------------------------------------------
    async def _on_message(self, context: TurnContext) -> None:
        activity = context.activity
        where = where_of(activity)
        actor = await self._remember_sender(context) if where.kind == "dm" else actor_of(activity)
        if activity.value is not None and not (activity.text or "").strip():
            await self._on_submit(context, actor, where)
            return
        text = activity.remove_recipient_mention() if where.kind != "dm" else (activity.text or "")
        text = " ".join((text or "").split())
        parsed = split_command(text)
        if parsed is not None:
            command, rest = parsed
            outcome = await commands.run_command(self.ctx, actor, where, command, rest)
            # Replies outside the personal chat go there anyway; team-pulse says so in the channel.
            await outcomes.deliver(self.ctx, self.messenger, context, outcome, where,
                                   report=command == "team-pulse")
            return
        if where.kind == "dm":
            typed = await interactions.typed_reply(self.ctx, actor, text)
            if typed is not None:
                await outcomes.deliver(self.ctx, self.messenger, context, typed, where)
                return
        locale = await actor_locale(self.ctx, actor)
        await context.send_activity(t("teams.help", locale))

    async def _on_submit(self, context: TurnContext, actor: Actor, where: Where) -> None:
        """An `Action.Submit` from a card (older clients, or a card another bot version sent)."""
        payload = read_payload(context.activity.value)
        locale = await actor_locale(self.ctx, actor)
        if payload is None:
            await context.send_activity(t("teams.unknown_action", locale))
            return
        action, value, fields = payload
        outcome = await interactions.dispatch(
            self.ctx, actor, where, action=action, value=value, fields=fields or None
        )
        await outcomes.deliver(self.ctx, self.messenger, context, outcome, where,
                               tapped=context.activity.reply_to_id)

    # -- card actions (Universal Actions) --------------------------------------------------------
    async def _on_invoke(self, context: TurnContext) -> None:
        activity = context.activity
        if activity.name != "adaptiveCard/action":
            await outcomes.invoke_status(context, 501)
            return
        where = where_of(activity)
        actor = await self._remember_sender(context) if where.kind == "dm" else actor_of(activity)
        value = activity.value if isinstance(activity.value, dict) else {}
        action: dict[str, Any] = value["action"] if isinstance(value.get("action"), dict) else {}
        payload = read_payload(action.get("data")) if action.get("type") == "Action.Execute" else None
        if payload is None:
            locale = await actor_locale(self.ctx, actor)
            await outcomes.invoke_error(context, t("teams.unknown_action", locale), status=400)
            return
        name, data, fields = payload
        outcome = await interactions.dispatch(self.ctx, actor, where, action=name, value=data, fields=fields or None)
        await outcomes.answer_invoke(self.ctx, self.messenger, context, outcome, where)

    # -- installs and rosters --------------------------------------------------------------------
    async def _on_installation_update(self, context: TurnContext) -> None:
        activity = context.activity
        if not (activity.action or "").startswith("add"):
            return
        await self._installed(context)

    async def _on_conversation_update(self, context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = activity.members_added or []
        removed = activity.members_removed or []
        if any(m.id == bot_id for m in added):
            await self._installed(context)
        elif added or removed:
            await roster.sync_conversation(self.ctx, context)

    async def _installed(self, context: TurnContext) -> None:
        activity = context.activity
        where = where_of(activity)
        if where.kind == "dm":
            actor = await self._remember_sender(context)
            locale = await actor_locale(self.ctx, actor)
            await context.send_activity(t("teams.welcome", locale))
            return
        await roster.sync_conversation(self.ctx, context)

    # -- meetings ----------------------------------------------------------------------------------
    async def _on_event(self, context: TurnContext) -> None:
        activity = context.activity
        if activity.name != MEETING_START:
            return
        where = where_of(activity)
        meeting = next(
            (m for m in self.ctx.config.meetings
             if m.on_meeting_start and m.teams_conversation
             and base_conversation(m.teams_conversation) == where.conversation),
            None,
        )
        if meeting is None:
            logger.info("meeting started where the chair is not enabled", extra={"conversation": where.conversation})
            return
        key = activity.id or f"{where.conversation}:{channel_data(activity).get('meeting', {}).get('id', '')}"
        if key in self._seen_events:
            return
        self._seen_events[key] = None
        while len(self._seen_events) > 1000:
            self._seen_events.popitem(last=False)
        actor = actor_of(activity)
        # The meeting opened this chair, not whoever's event carried the news: anyone in it may close it.
        try:
            outcome = await chairs.open_chair(
                self.ctx, actor, Where(conversation=where.conversation, kind="meeting"), meeting.topic, by_clock=True
            )
        except Exception as error:  # noqa: BLE001 - refused or failed, said in the meeting chat
            outcome = await commands.error_outcome(self.ctx, actor, error, doing="meeting chair")
        await outcomes.deliver(self.ctx, self.messenger, context, outcome, where)


