"""Follow-ups of the empty chair: every "we don't know" gets an owner, a due date and an answer.

A follow-up is opened with its impact (owned by who added it) and is due `[pulse] followup_days`
after it was owned; "I'll find out" hands it to whoever presses it, due again from then. Its
owner (or a leader of the chair's team) resolves it with what was learned: the impact now says
so, the chair's card is redrawn in place and its thread reads "Now we know: …". The clock reminds
the owner (`schedules.followups`); `forget` hands a person's follow-ups back, unowned.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import chairs
from handlers.context import Context
from handlers.errors import Closed, Invalid, NotAllowed, NotFound
from handlers.i18n import fmt_date, t, tn
from handlers.members import actor_locale, find_member, member_locale, upsert_member
from handlers.messages import (
    Actions,
    Block,
    Button,
    Edit,
    Field,
    Form,
    Message,
    Notice,
    Option,
    Outcome,
    Post,
    Text,
)
from handlers.periods import as_utc
from handlers.ports import Actor, Where
from handlers.safe_text import clean_text
from storage.models import Impact
from storage.queries import followups as rows
from storage.queries.teams import led_team_ids

logger = logging.getLogger(__name__)

LEARNED = ("better", "worse", "no_change")  # what a resolution may say (not "we don't know" again)
NOTE_LIMIT = chairs.NOTE_LIMIT
SHOWN = 20  # follow-ups listed in one reply
LIST_WORDS = ("followups", "follow-ups", "seguimientos")


def due_from(ctx: Context, at: datetime) -> datetime:
    """When a follow-up owned at `at` is due."""
    return at + timedelta(days=ctx.config.pulse.followup_days)


def what_of(impact: Impact, locale: str) -> str:
    """The question in a line: who is affected and the note, as the impact said them."""
    return " · ".join(p for p in (impact.who, impact.note) if p) or t("chair.followup_blank", locale)


def _say(text: str, locale: str, level: str = "info") -> Outcome:
    return Outcome(reply=Message((Notice(text, level),), text, locale))  # type: ignore[arg-type]


async def _place(session: AsyncSession, followup_id: int) -> rows.Place:
    place = await rows.place_of(session, followup_id=followup_id)
    if place is None:
        raise NotFound("followups.unknown")
    if place.followup.resolved_at is not None:
        raise Closed("followups.closed")
    return place


def buttons(followup_id: int, locale: str, *, take: bool = True) -> Actions:
    """"I'll find out" (take it over) and "Resolve", under a follow-up's line."""
    resolve = Button(t("followups.resolve", locale), "followup.resolve", str(followup_id), style="primary")
    if not take:
        return Actions((resolve,))
    return Actions((Button(t("followups.take", locale), "followup.take", str(followup_id)), resolve))


async def take_over(ctx: Context, actor: Actor, *, followup_id: int) -> Outcome:
    """"I'll find out": the actor owns it from now, due `followup_days` from now, reminded afresh."""
    await upsert_member(ctx, actor)  # the new owner must be reachable for the reminder
    locale = await actor_locale(ctx, actor)
    now = ctx.clock.now()
    async with ctx.store.session() as session:
        place = await _place(session, followup_id)
        if place.followup.owner == actor.key:
            return _say(t("followups.already_yours", locale, date=fmt_date(place.followup.due_at, locale)), locale)
        due = due_from(ctx, now)
        if not await rows.take(session, followup_id=followup_id, owner=actor.key, now=now, due_at=due):
            raise Closed("followups.closed")
        await session.commit()
    logger.info("follow-up taken over", extra={"followup_id": followup_id})
    return _say(t("followups.taken", locale, date=fmt_date(due, locale)), locale, "success")


async def _may_resolve(session: AsyncSession, place: rows.Place, actor: Actor) -> bool:
    if place.followup.owner == actor.key:
        return True
    led = set(await led_team_ids(session, refs=actor.ids()))
    return None in led or (place.chair.team_id is not None and place.chair.team_id in led)


async def resolve_form(ctx: Context, actor: Actor, *, followup_id: int) -> Outcome:
    """The form of what was learned, after the same checks as resolving."""
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        place = await _place(session, followup_id)
        if not await _may_resolve(session, place, actor):
            raise NotAllowed("followups.not_yours")
    return Outcome(form=Form(
        title=t("followups.form.title", locale),
        action="followup.resolve.submit",
        value=str(followup_id),
        intro=" — ".join(p for p in (place.chair.topic, what_of(place.impact, locale)) if p),
        submit_label=t("followups.form.submit", locale),
        fields=(
            Field("effect", t("followups.form.effect", locale), kind="select", required=True,
                  options=tuple(Option(t(f"chair.effect.{e}", locale), e) for e in LEARNED)),
            Field("note", t("followups.form.note", locale), kind="multiline", required=True, max_length=NOTE_LIMIT),
        ),
    ))


def now_we_know(place: rows.Place, effect: str, note: str) -> Message:
    """The reply in the chair's thread, in the chair's language."""
    locale = place.chair.locale
    title = t("followups.now_we_know", locale, what=what_of(place.impact, locale))
    blocks: list[Block] = [Text(title, "strong"), Text(t(f"chair.effect.{effect}", locale))]
    if note:
        blocks.append(Text(note, "quote"))
    return Message(tuple(blocks), title, locale)


async def resolve(ctx: Context, actor: Actor, *, followup_id: int, effect: str, note: str) -> Outcome:
    """Resolve once: the impact says what was learned, the chair's card is redrawn in place and
    "Now we know: …" goes in the chair's thread (wherever the owner pressed Resolve)."""
    note = clean_text(note).strip()
    if effect not in LEARNED:
        raise Invalid("followups.bad_effect")
    if not note:
        raise Invalid("followups.note_missing")
    if len(note) > NOTE_LIMIT:
        raise Invalid("chair.note_too_long", limit=NOTE_LIMIT, length=len(note))
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        place = await _place(session, followup_id)
        if not await _may_resolve(session, place, actor):
            raise NotAllowed("followups.not_yours")
        if not await rows.claim_resolve(session, followup_id=followup_id, effect=effect, note=note,
                                        now=ctx.clock.now()):
            raise Closed("followups.closed")
        await session.commit()
        chair = place.chair
        await session.refresh(chair)
        card = await chairs.chair_card(session, chair)
    logger.info("follow-up resolved", extra={"followup_id": followup_id, "chair_id": chair.id})
    outcome = _say(t("followups.resolved", locale), locale, "success")
    outcome.posts.append(Post(now_we_know(place, effect, note), thread_ref=chair.message_ref,
                              conversation=chair.conversation))
    if chair.message_ref:
        outcome.edits.append(Edit(chair.conversation, chair.message_ref, card))
    return outcome


def owner_text(owner: str | None, actor: Actor, locale: str) -> str:
    """How a list says who owns it: "you", "a colleague" or nobody yet. Never a name or an id: the
    chair's card does not sign impacts either, and a leader's list must not either."""
    if owner is None:
        return t("followups.nobody", locale)
    return t("followups.you" if owner == actor.key else "followups.someone", locale)


def _lines(places: list[rows.Place], actor: Actor, locale: str, now: datetime) -> list[Block]:
    blocks: list[Block] = []
    for place in places[:SHOWN]:
        f = place.followup
        topic = place.chair.topic or t("followups.no_topic", locale)
        blocks.append(Text(t("followups.line", locale, what=what_of(place.impact, locale), topic=topic), "quote"))
        key = "followups.owner_overdue" if as_utc(f.due_at) <= now else "followups.owner_due"
        blocks.append(Text(t(key, locale, owner=owner_text(f.owner, actor, locale),
                             date=fmt_date(f.due_at, locale)), "muted"))
        blocks.append(buttons(f.id, locale, take=f.owner != actor.key))  # type: ignore[arg-type]
    if len(places) > SHOWN:
        blocks.append(Text(tn("followups.more", len(places) - SHOWN, locale), "muted"))
    return blocks


def _bare(conversation: str) -> str:
    # A Teams channel id may carry the thread of the tapped message (`19:…@thread.tacv2;messageid=…`).
    return conversation.split(";", 1)[0]


async def list_open(ctx: Context, actor: Actor, where: Where) -> Outcome:
    """`/empty-chair followups`: the open follow-ups of this channel's chairs, and of every team the
    actor leads (all of them for a global leader); privately."""
    locale = await actor_locale(ctx, actor)
    now = ctx.clock.now()
    async with ctx.store.session() as session:
        led = await led_team_ids(session, refs=actor.ids())
        here = [c for c in {where.conversation, _bare(where.conversation)} if c] if where.kind != "dm" else []
        places = await rows.open_places(session, conversations=here, team_ids=[i for i in led if i is not None],
                                        every_team=None in led, limit=SHOWN + 100)
        blocks: list[Block] = [Text(t("followups.list.title", locale), "heading")]
        if not places:
            blocks.append(Text(t("followups.list.none" if here or led else "followups.list.where", locale)))
        blocks.extend(_lines(places, actor, locale, now))
    return Outcome(reply=Message(tuple(blocks), t("followups.list.title", locale), locale))


async def own_blocks(ctx: Context, actor: Actor, locale: str) -> list[Block]:
    """`pulse me`: the actor's own open follow-ups, each with its buttons; nothing when none."""
    async with ctx.store.session() as session:
        places = await rows.open_places(session, owner=actor.key, limit=SHOWN + 100)
        if not places:
            return []
        return [Text(t("followups.me.title", locale), "strong"),
                *_lines(places, actor, locale, ctx.clock.now())]


def reminder_message(place: rows.Place, *, second: bool, locale: str) -> Message:
    """The owner's DM when a follow-up is due: the question, its chair, and Resolve."""
    title = t("followups.reminder.title", locale)
    topic = place.chair.topic or t("followups.no_topic", locale)
    blocks: list[Block] = [
        Text(title, "heading"),
        Text(t("followups.reminder.body", locale, topic=topic, date=fmt_date(place.followup.due_at, locale))),
        Text(what_of(place.impact, locale), "quote"),
    ]
    if second:
        blocks.append(Text(t("followups.reminder.last", locale), "muted"))
    blocks.append(buttons(place.followup.id, locale, take=False))  # type: ignore[arg-type]
    return Message(tuple(blocks), title, locale)


async def console_reminders(ctx: Context, actor: Actor) -> list[Message]:
    """Reminders that reached a console owner (their inbox is the store), each shown once."""
    if actor.platform != "console":
        return []
    out: list[Message] = []
    async with ctx.store.session() as session:
        locale = await member_locale(session, ctx, await find_member(session, actor))
        for place in await rows.console_unseen(session, owner=actor.key):
            f = place.followup
            if await rows.mark_seen(session, followup_id=f.id, reminders=f.reminders):  # type: ignore[arg-type]
                out.append(reminder_message(place, second=f.reminders > 1, locale=locale))
        await session.commit()
    return out


async def hand_back(session: AsyncSession, actor: Actor) -> int:
    """`forget`: the person's follow-ups stop naming them; open ones wait for "I'll find out"."""
    return await rows.hand_back(session, owner=actor.key)
