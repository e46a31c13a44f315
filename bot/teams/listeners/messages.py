"""Messages: a typed command, an answer typed in the personal chat, or an Action.Submit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from bot.teams.activities import actor_of, split_command, where_of
from bot.teams.cards import read_payload
from bot.teams.surface import MessageSurface, form_locale
from handlers.i18n import t
from handlers.inputs import Tap, Typed, handle
from handlers.members import actor_locale
from handlers.ports import Actor, Where
from handlers.surface import carry_out

if TYPE_CHECKING:
    from bot.teams.agent import PulseAgent


def register(agent: PulseAgent) -> None:
    """Attach the message listener."""
    ctx, messenger = agent.ctx, agent.messenger

    async def on_message(context: TurnContext) -> None:
        activity = context.activity
        where = where_of(activity)
        actor = await agent.remember_sender(context) if where.kind == "dm" else actor_of(activity)
        if activity.value is not None and not (activity.text or "").strip():
            await on_submit(context, actor, where)
            return
        text = activity.remove_recipient_mention() if where.kind != "dm" else (activity.text or "")
        text = " ".join((text or "").split())
        command = split_command(text)
        if command is not None:
            outcome = await handle(ctx, actor, where, command)
            if outcome is not None:
                surface = MessageSurface(ctx, messenger, context, where, locale=form_locale(ctx, outcome),
                                         report=command.heavy)
                await carry_out(ctx, outcome, surface)
            return
        if where.kind == "dm":
            # A failure to store it is raised: the agent's turn guard (`PulseAgent.on_turn`) answers it.
            typed = await handle(ctx, actor, where, Typed(text))
            if typed is not None:
                await carry_out(ctx, typed, MessageSurface(ctx, messenger, context, where,
                                                           locale=form_locale(ctx, typed)))
                return
        await context.send_activity(t("teams.help", await actor_locale(ctx, actor)))

    async def on_submit(context: TurnContext, actor: Actor, where: Where) -> None:
        """An `Action.Submit` from a card (older clients, or a card another bot version sent)."""
        payload = read_payload(context.activity.value)
        if payload is None:
            await context.send_activity(t("teams.unknown_action", await actor_locale(ctx, actor)))
            return
        action, value, fields = payload
        outcome = await handle(ctx, actor, where, Tap.parse(action, value, fields))
        if outcome is not None:
            surface = MessageSurface(ctx, messenger, context, where, locale=form_locale(ctx, outcome),
                                     tapped=context.activity.reply_to_id)
            await carry_out(ctx, outcome, surface)

    agent.on(ActivityTypes.message, on_message)
