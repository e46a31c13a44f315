"""A member's own data: `pulse me`, `pause`, `resume`, `forget` (confirmed), `lang es|en`, `privacy`."""

from __future__ import annotations

import logging

from handlers.checkin_message import mood_label
from handlers.context import Context
from handlers.errors import Invalid
from handlers.followups import hand_back, own_blocks
from handlers.i18n import SUPPORTED, t
from handlers.members import actor_locale, find_member, own_keys, upsert_in
from handlers.messages import Actions, Button, Facts, Message, Notice, Outcome, Text
from handlers.ports import Actor
from handlers.replies import forget_threads
from storage.queries import responses as answers
from storage.queries.chairs import unsign_impacts
from storage.queries.dashboard import forget_leader
from storage.queries.members import delete_member

logger = logging.getLogger(__name__)

HISTORY = 12


def _say(text: str, locale: str, level: str = "info") -> Outcome:
    notice = Notice(text, level)  # type: ignore[arg-type]
    return Outcome(reply=Message((notice,), text, locale))


async def own_answers(ctx: Context, actor: Actor, limit: int = HISTORY) -> list[answers.OwnAnswer]:
    """The actor's last answers, newest first: (team, period, response). Found only by their key."""
    async with ctx.store.session() as session:
        keys = await own_keys(session, ctx.secret, actor)
        return await answers.own_answers(session, keys=keys, limit=limit)


async def pulse_me(ctx: Context, actor: Actor) -> Outcome:
    """The actor's own recent answers and settings; nobody else can ask for them."""
    locale = await actor_locale(ctx, actor)
    rows = await own_answers(ctx, actor)
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
    blocks: list = [Text(t("me.title", locale), "heading")]
    if not rows:
        blocks.append(Text(t("me.none", locale)))
    items = []
    for team, period, response in rows:
        parts = []
        if response.mood is not None:
            parts.append(mood_label(response.mood, locale))
        if response.driver and response.driver_score is not None:
            parts.append(f"{t(f'driver.short.{response.driver}', locale)} {response.driver_score}/5")
        if response.enps is not None:
            parts.append(f"eNPS {response.enps}")
        if response.focus_score is not None:  # "did things improve on <focus>?" (a leader's commitment)
            parts.append(t("commitment.recorded", locale, label=f"{response.focus_score}/5"))
        if response.comment:
            parts.append("💬")
        items.append((f"{period} · {team}", " · ".join(parts) or "—"))
    if items:
        blocks.append(Facts(tuple(items)))
    blocks.extend(await own_blocks(ctx, actor, locale))  # the "we don't know" questions they own
    paused = bool(member and member.paused)
    blocks.append(
        Text(t("me.settings", locale, lang=t(f"lang.{locale}", locale),
               state=t("me.paused" if paused else "me.active", locale)), "muted")
    )
    return Outcome(reply=Message(tuple(blocks), t("me.title", locale), locale))


async def set_paused(ctx: Context, actor: Actor, paused: bool) -> Outcome:
    """Stop or restart check-ins for the actor."""
    async with ctx.store.session() as session:
        member = await upsert_in(session, actor, now=ctx.clock.now())
        member.paused = paused
        await session.commit()
    locale = await actor_locale(ctx, actor)
    logger.info("member paused" if paused else "member resumed")
    return _say(t("pause.done" if paused else "resume.done", locale), locale, "success")


async def set_language(ctx: Context, actor: Actor, lang: str) -> Outcome:
    """Choose es or en; the choice wins over the platform's locale from now on."""
    lang = lang.strip().lower()
    if lang not in SUPPORTED:
        raise Invalid("lang.unknown", allowed=", ".join(SUPPORTED))
    async with ctx.store.session() as session:
        member = await upsert_in(session, actor, now=ctx.clock.now())
        member.locale = lang
        member.locale_chosen = True
        await session.commit()
    return _say(t("lang.done", lang), lang, "success")


async def ask_forget(ctx: Context, actor: Actor) -> Outcome:
    """Ask for confirmation before deleting anything."""
    locale = await actor_locale(ctx, actor)
    blocks = (
        Text(t("forget.ask", locale), "strong"),
        Actions(
            (
                Button(t("forget.confirm", locale), "privacy.forget.confirm", "1", style="danger"),
                Button(t("forget.cancel", locale), "privacy.forget.cancel", "0"),
            )
        ),
    )
    return Outcome(reply=Message(blocks, t("forget.ask", locale), locale))


async def forget(ctx: Context, actor: Actor) -> Outcome:
    """Delete every response under the actor's respondent key and their profile; unsign their impacts."""
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        keys = await own_keys(session, ctx.secret, actor)
        removed = await answers.delete_answers(session, keys=keys)
        await forget_threads(session, ctx, actor, keys)  # no more relays; their words stay
        await delete_member(session, platform=actor.platform, user_id=actor.user_id)
        # Client impacts are an open decision record and stay, but no longer say who wrote them.
        await unsign_impacts(session, author=actor.user_id)
        await hand_back(session, actor)  # their follow-ups go back to the chair, unowned
        await forget_leader(session, leader=actor.key)  # their dashboard links and sessions
        await session.commit()
    # Deleted rows must not live on in the write-ahead log of a SQLite store (a copy would hold them).
    await ctx.store.checkpoint()
    logger.info("member forgotten", extra={"responses": removed})
    outcome = _say(t("forget.done", locale, n=removed), locale, "success")
    outcome.update = outcome.reply
    return outcome


async def cancel_forget(ctx: Context, actor: Actor) -> Outcome:
    """Nothing deleted."""
    locale = await actor_locale(ctx, actor)
    outcome = _say(t("forget.cancelled", locale), locale)
    outcome.update = outcome.reply
    return outcome


PRIVACY_SECTIONS = ("leaders_see", "leaders_cannot", "exports", "replies", "controls")


async def privacy_notice(ctx: Context, actor: Actor) -> Outcome:
    """`/pulse privacy`: what leaders see and cannot, what the workspace's own exports can read of
    this chat, how a leader's reply reaches a comment's author, and the member's own choices."""
    locale = await actor_locale(ctx, actor)
    blocks: list = [Text(t("privacy.title", locale), "heading")]
    for section in PRIVACY_SECTIONS:
        blocks.append(Text(t(f"privacy.{section}.title", locale), "strong"))
        blocks.append(Text(t(f"privacy.{section}", locale, k=ctx.min_group_size)))
    return Outcome(reply=Message(tuple(blocks), t("privacy.title", locale), locale))
