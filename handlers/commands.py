"""Slash commands, neutral: `/empty-chair`, `/team-pulse`, `/pulse`. Faces pass the typed text."""

from __future__ import annotations

import logging
from enum import StrEnum

from handlers import chairs, followups, privacy
from handlers.context import Context
from handlers.errors import PulseError
from handlers.i18n import normalize_locale, t
from handlers.members import actor_locale, upsert_member
from handlers.messages import Message, Notice, Outcome, Text
from handlers.ports import Actor, Where
from handlers.team_pulse import team_pulse

logger = logging.getLogger(__name__)


class Verb(StrEnum):
    """The slash commands pulsebot answers."""

    EMPTY_CHAIR = "empty-chair"
    TEAM_PULSE = "team-pulse"
    PULSE = "pulse"


HELP_WORDS = ("help", "ayuda")  # `/<command> help`: the command's usage, nothing run


def help_message(command: str, locale: str) -> Message:
    """Usage of one command, in the user's language."""
    key = command.replace("-", "_")
    return Message(
        (Text(t(f"help.{key}.title", locale), "heading"), Text(t(f"help.{key}.body", locale))),
        fallback=t(f"help.{key}.title", locale),
        locale=locale,
    )


async def error_outcome(ctx: Context, actor: Actor, error: Exception, *, doing: str = "") -> Outcome:
    """Any failure as a polite reply to the person who acted, never silence.

    A domain error (`PulseError`) says what was refused. Anything else is a bug or a broken
    store: it is logged with its traceback, and the person reads an apology that asks them to
    try again (no exception text: it could name tables, paths or hosts). Every entry point of the
    core (`handlers.inputs.handle`, for commands, taps and typed text) ends here, so the faces
    share one rule.
    """
    if isinstance(error, PulseError):
        message_id, args = error.message_id, error.args_
    else:
        logger.error("unexpected error, answered with an apology", exc_info=error,
                     extra={"doing": doing, "platform": actor.platform})
        message_id, args = "error.unexpected", {}
    locale = await _locale_even_now(ctx, actor)
    text = t(message_id, locale, **args)
    level = "warning" if message_id.endswith(("closed", "not_yours")) else "error"
    notice = Notice(text, level)  # type: ignore[arg-type]
    return Outcome(reply=Message((notice,), text, locale))


async def _locale_even_now(ctx: Context, actor: Actor) -> str:
    # The failure may be the store itself: then the platform's hint or the default language.
    try:
        return await actor_locale(ctx, actor)
    except Exception:  # noqa: BLE001 - already answering a failure
        return normalize_locale(actor.locale) or ctx.config.pulse.default_locale


async def run_verb(ctx: Context, actor: Actor, where: Where, verb: Verb | None, name: str, text: str) -> Outcome:
    """Run one command (`handlers.inputs.Command`); every refusal and failure comes back as a reply."""
    try:
        await upsert_member(ctx, actor)
        if verb is not None and text.lower() in HELP_WORDS:
            return Outcome(reply=help_message(verb, await actor_locale(ctx, actor)))
        match verb:
            case Verb.EMPTY_CHAIR:
                if text.lower() in followups.LIST_WORDS:  # `/empty-chair followups`, not a topic
                    return await followups.list_open(ctx, actor, where)
                return await chairs.open_chair(ctx, actor, where, text)
            case Verb.TEAM_PULSE:
                return await team_pulse(ctx, actor, where, text)
            case Verb.PULSE:
                return await _pulse(ctx, actor, text)
            case None:
                raise PulseError("command.unknown", command=name)
    except Exception as error:  # noqa: BLE001 - a refusal or a failure, both answered
        return await error_outcome(ctx, actor, error, doing=f"/{name}")


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
        case "privacy" | "privacidad":
            return await privacy.privacy_notice(ctx, actor)
        case _:
            return Outcome(reply=help_message("pulse", await actor_locale(ctx, actor)))
