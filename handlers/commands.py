"""Slash commands, neutral: `/empty-chair`, `/team-pulse`, `/pulse`. Faces pass the typed text."""

from __future__ import annotations

import logging

from handlers import chairs, privacy
from handlers.context import Context
from handlers.errors import PulseError
from handlers.i18n import t
from handlers.members import actor_locale, upsert_member
from handlers.messages import Message, Notice, Outcome, Text
from handlers.ports import Actor, Where
from handlers.team_pulse import team_pulse

logger = logging.getLogger(__name__)

COMMANDS = ("empty-chair", "team-pulse", "pulse")


def help_message(command: str, locale: str) -> Message:
    """Usage of one command, in the user's language."""
    key = command.replace("-", "_")
    return Message(
        (Text(t(f"help.{key}.title", locale), "heading"), Text(t(f"help.{key}.body", locale))),
        fallback=t(f"help.{key}.title", locale),
        locale=locale,
    )


async def error_outcome(ctx: Context, actor: Actor, error: PulseError) -> Outcome:
    """A domain error as a polite reply to the person who acted."""
    locale = await actor_locale(ctx, actor)
    text = t(error.message_id, locale, **error.args_)
    level = "warning" if error.message_id.endswith(("closed", "not_yours")) else "error"
    notice = Notice(text, level)  # type: ignore[arg-type]
    return Outcome(reply=Message((notice,), text, locale))


async def run_command(ctx: Context, actor: Actor, where: Where, command: str, text: str) -> Outcome:
    """Run one command line; every refusal comes back as a reply, never as an exception."""
    command = command.lstrip("/").lower()
    text = text.strip()
    try:
        await upsert_member(ctx, actor)
        if command == "empty-chair":
            if text.lower() in ("help", "ayuda"):
                return Outcome(reply=help_message(command, await actor_locale(ctx, actor)))
            return await chairs.open_chair(ctx, actor, where, text)
        if command == "team-pulse":
            return await team_pulse(ctx, actor, where, text)
        if command == "pulse":
            return await _pulse(ctx, actor, text)
        raise PulseError("command.unknown", command=command)
    except PulseError as error:
        return await error_outcome(ctx, actor, error)


async def _pulse(ctx: Context, actor: Actor, text: str) -> Outcome:
    verb, _, rest = text.partition(" ")
    match verb.lower():
        case "me" | "yo":
            return await privacy.pulse_me(ctx, actor)
        case "pause" | "pausa" | "pausar":
            return await privacy.set_paused(ctx, actor, True)
        case "resume" | "reanudar" | "seguir":
            return await privacy.set_paused(ctx, actor, False)
        case "forget" | "olvidar" | "borrar":
            return await privacy.ask_forget(ctx, actor)
        case "lang" | "idioma":
            return await privacy.set_language(ctx, actor, rest)
        case _:
            return Outcome(reply=help_message("pulse", await actor_locale(ctx, actor)))
