"""Card actions (Universal Actions): an `adaptiveCard/action` invoke answered with the card."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from bot.teams.activities import actor_of, where_of
from bot.teams.cards import read_payload
from bot.teams.surface import InvokeSurface, form_locale, invoke_error, respond
from handlers.i18n import t
from handlers.inputs import Tap, handle
from handlers.members import actor_locale
from handlers.surface import carry_out

if TYPE_CHECKING:
    from bot.teams.agent import PulseAgent


def register(agent: PulseAgent) -> None:
    """Attach the invoke listener."""
    ctx, messenger = agent.ctx, agent.messenger

    async def on_invoke(context: TurnContext) -> None:
        activity = context.activity
        if activity.name != "adaptiveCard/action":
            await respond(context, None, 501)
            return
        where = where_of(activity)
        actor = await agent.remember_sender(context) if where.kind == "dm" else actor_of(activity)
        value = activity.value if isinstance(activity.value, dict) else {}
        action: dict[str, Any] = value["action"] if isinstance(value.get("action"), dict) else {}
        payload = read_payload(action.get("data")) if action.get("type") == "Action.Execute" else None
        if payload is None:
            await invoke_error(context, t("teams.unknown_action", await actor_locale(ctx, actor)), status=400)
            return
        name, data, fields = payload
        outcome = await handle(ctx, actor, where, Tap.parse(name, data, fields))
        assert outcome is not None  # a tap is always answered
        surface = InvokeSurface(ctx, messenger, context, where, locale=form_locale(ctx, outcome))
        await carry_out(ctx, outcome, surface)
        await surface.answer()

    agent.on(ActivityTypes.invoke, on_invoke)
