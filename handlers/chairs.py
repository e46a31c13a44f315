"""The empty chair: one prompt in one channel asking how a decision affects the clients."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.errors import Closed, Invalid, NotAllowed, NotFound
from handlers.i18n import t
from handlers.members import actor_locale, upsert_member
from handlers.messages import (
    Actions,
    Button,
    Divider,
    Edit,
    Facts,
    Field,
    Form,
    Message,
    Notice,
    Option,
    Outcome,
    Post,
    Text,
)
from handlers.ports import Actor, Where
from handlers.safe_text import clean_text
from storage.models import IMPACT_EFFECTS, EmptyChair, Followup, Impact
from storage.queries import chairs as chair_rows
from storage.queries import followups as followup_rows
from storage.queries.teams import led_team_ids, team_id_named, team_id_of_channel

logger = logging.getLogger(__name__)

TOPIC_LIMIT = 200
WHO_LIMIT = 200
NOTE_LIMIT = 1000
SHOWN_IMPACTS = 10
# `opened_by` of a chair the clock opened (a `[[meetings]]` schedule, a Teams meeting's start).
# No platform id has this shape (Slack `U…`/`W…`, Teams `29:…`), and it is what the clock has
# always written, so chairs stored before this constant existed are read the same way.
CLOCK_OPENER = "pulsebot"


async def _team_for(session: AsyncSession, ctx: Context, conversation: str) -> int | None:
    """The team whose report counts a chair opened here: a `[[meetings]]` entry's team, else the
    team whose own channel this is."""
    for meeting in ctx.config.meetings:
        if conversation in (meeting.slack_channel, meeting.teams_conversation) and meeting.team:
            return await team_id_named(session, name=meeting.team)
    return await team_id_of_channel(session, conversation=conversation)


async def open_chair(
    ctx: Context, actor: Actor, where: Where, topic: str = "", *, by_clock: bool = False
) -> Outcome:
    """Open an empty chair in the conversation; the card is a visible post.

    `by_clock` marks a chair nobody in particular opened (a schedule, a meeting's start): anyone
    in its conversation may close it.
    """
    topic = " ".join(clean_text(topic).split())
    if len(topic) > TOPIC_LIMIT:
        raise Invalid("chair.topic_too_long", limit=TOPIC_LIMIT, length=len(topic))
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        chair = await chair_rows.add_chair(
            session,
            platform=actor.platform,
            conversation=where.conversation,
            team_id=await _team_for(session, ctx, where.conversation),
            topic=topic,
            opened_by=CLOCK_OPENER if by_clock else actor.user_id,
            locale=locale,
            opened_at=ctx.clock.now(),
        )
        await session.commit()
        card = await chair_card(session, chair)
    logger.info("empty chair opened", extra={"chair_id": chair.id, "conversation": where.conversation})
    return Outcome(posts=[Post(card, chair_id=chair.id)])


async def remember_card(ctx: Context, *, chair_id: int, conversation: str, ref: str) -> None:
    """Keep where the face posted a chair's card, so it can be updated in place."""
    async with ctx.store.session() as session:
        await chair_rows.set_card(session, chair_id=chair_id, conversation=conversation, message_ref=ref)
        await session.commit()


async def _chair(session: AsyncSession, chair_id: int) -> EmptyChair:
    chair = await chair_rows.chair_by_id(session, chair_id=chair_id)
    if chair is None:
        raise NotFound("chair.unknown")
    return chair


def impact_form(chair_id: int, locale: str, topic: str = "") -> Form:
    """The form that adds one client impact."""
    return Form(
        title=t("chair.form_title", locale),
        action="chair.impact.submit",
        value=str(chair_id),
        intro=topic,
        submit_label=t("chair.form_submit", locale),
        fields=(
            Field(
                "effect",
                t("chair.form_effect", locale),
                kind="select",
                required=True,
                options=tuple(Option(t(f"chair.effect.{e}", locale), e) for e in IMPACT_EFFECTS),
            ),
            Field("who", t("chair.form_who", locale), max_length=WHO_LIMIT,
                  placeholder=t("chair.form_who_hint", locale)),
            Field("note", t("chair.form_note", locale), kind="multiline", max_length=NOTE_LIMIT),
        ),
    )


async def start_impact(ctx: Context, actor: Actor, *, chair_id: int) -> Outcome:
    """Open the impact form, unless the chair has closed."""
    async with ctx.store.session() as session:
        chair = await _chair(session, chair_id)
        if chair.closed_at is not None:
            raise Closed("chair.closed")
    return Outcome(form=impact_form(chair_id, await actor_locale(ctx, actor), chair.topic))


async def add_impact(
    ctx: Context, actor: Actor, *, chair_id: int, effect: str, who: str = "", note: str = ""
) -> Outcome:
    """Record one impact; the card's tally is redrawn in place."""
    who, note = clean_text(who).strip(), clean_text(note).strip()
    if effect not in IMPACT_EFFECTS:
        raise Invalid("chair.bad_effect")
    if len(who) > WHO_LIMIT:
        raise Invalid("chair.who_too_long", limit=WHO_LIMIT, length=len(who))
    if len(note) > NOTE_LIMIT:
        raise Invalid("chair.note_too_long", limit=NOTE_LIMIT, length=len(note))
    locale = await actor_locale(ctx, actor)
    if effect == "unknown":
        await upsert_member(ctx, actor)  # its follow-up's owner must be reachable for the reminder
    async with ctx.store.session() as session:
        chair = await _chair(session, chair_id)
        if chair.closed_at is not None:
            raise Closed("chair.closed")
        now = ctx.clock.now()
        impact = await chair_rows.add_impact(session, chair_id=chair_id, author=actor.user_id, effect=effect,
                                             who=who, note=note, created_at=now)
        if effect == "unknown":  # a follow-up, owned by who added it (`handlers.followups`)
            await followup_rows.add_followup(session, impact=impact, chair_id=chair_id, owner=actor.key, now=now,
                                             due_at=now + timedelta(days=ctx.config.pulse.followup_days))
        await session.commit()
        card = await chair_card(session, chair)
    notice = Notice(t("chair.impact_saved", locale), "success")
    outcome = Outcome(reply=Message((notice,), notice.text, locale))
    if chair.message_ref:
        outcome.edits.append(Edit(chair.conversation, chair.message_ref, card))
    return outcome


async def _may_close(session: AsyncSession, chair: EmptyChair, actor: Actor, where: Where) -> bool:
    """Its opener, a leader of its team or a global leader; for a chair the clock opened, anyone
    in its conversation (the card's Close button is only seen there)."""
    if chair.opened_by == CLOCK_OPENER:
        if _same_conversation(where.conversation, chair.conversation):
            return True
    elif actor.platform == chair.platform and actor.user_id == chair.opened_by:
        return True
    # Leaders are matched the way report access is (`readers.readable_teams`).
    led = set(await led_team_ids(session, refs=actor.ids()))
    return None in led or (chair.team_id is not None and chair.team_id in led)


def _same_conversation(a: str, b: str) -> bool:
    # A Teams channel id may carry the thread of the tapped message (`19:…@thread.tacv2;messageid=…`).
    return bool(a) and a.split(";", 1)[0] == b.split(";", 1)[0]


async def close_chair(ctx: Context, actor: Actor, where: Where, *, chair_id: int) -> Outcome:
    """Close once: the card shows it closed and the summary goes in its thread.

    Only someone who may close it (`_may_close`) does; anyone else is refused politely and the
    chair stays open.
    """
    async with ctx.store.session() as session:
        chair = await _chair(session, chair_id)
        if chair.closed_at is not None:
            raise Closed("chair.closed")
        if not await _may_close(session, chair, actor, where):
            logger.info("empty chair close refused", extra={"chair_id": chair_id})
            raise NotAllowed("chair.close_not_yours")
        now = ctx.clock.now()
        claimed = await chair_rows.claim_close(session, chair_id=chair_id, now=now)
        await session.commit()
        if not claimed:
            raise Closed("chair.closed")
        await session.refresh(chair)
        card = await chair_card(session, chair)
        summary = await _summary(session, chair)
    logger.info("empty chair closed", extra={"chair_id": chair_id})
    outcome = Outcome(update=card, posts=[Post(summary, thread_ref=chair.message_ref)])
    if chair.message_ref:
        outcome.edits.append(Edit(chair.conversation, chair.message_ref, card))
    return outcome


def _impact_line(impact: Impact, locale: str, followup: Followup | None = None) -> Text:
    parts = [t(f"chair.effect.{impact.effect}", locale)]
    if impact.who:
        parts.append(impact.who)
    if impact.note:
        parts.append(impact.note)
    if followup is not None and followup.resolved_at is not None:
        parts.append(t("followups.card.learned", locale, note=followup.note))
    return Text(" · ".join(parts), "quote")


async def chair_card(session: AsyncSession, chair: EmptyChair) -> Message:
    """The chair's card as it reads now: its tally, its latest impacts (and what was learned of
    each follow-up), its buttons while open."""
    locale = chair.locale
    counts = await chair_rows.tally(session, chair_id=chair.id)  # type: ignore[arg-type]
    blocks: list = [Text(t("chair.title", locale), "heading"), Text(t("chair.question", locale), "strong")]
    if chair.topic:
        blocks.append(Text(chair.topic, "quote"))
    blocks.append(Facts(tuple((t(f"chair.effect.{e}", locale), str(counts[e])) for e in IMPACT_EFFECTS)))
    recent = await chair_rows.impacts(session, chair_id=chair.id, newest=SHOWN_IMPACTS)  # type: ignore[arg-type]
    followups = await followup_rows.of_chair(session, chair_id=chair.id)  # type: ignore[arg-type]
    blocks.extend(_impact_line(i, locale, followups.get(i.id)) for i in recent)  # type: ignore[arg-type]
    if chair.closed_at is None:
        blocks.append(
            Actions(
                (
                    Button(t("chair.add_impact", locale), "chair.impact", str(chair.id), style="primary"),
                    Button(t("chair.close", locale), "chair.close", str(chair.id), style="danger"),
                )
            )
        )
    else:
        blocks.append(Notice(t("chair.closed_note", locale), "info"))
    fallback = t("chair.question", locale) + (f" — {chair.topic}" if chair.topic else "")
    return Message(tuple(blocks), fallback=fallback, locale=locale)


async def _summary(session: AsyncSession, chair: EmptyChair) -> Message:
    locale = chair.locale
    counts = await chair_rows.tally(session, chair_id=chair.id)  # type: ignore[arg-type]
    total = sum(counts.values())
    blocks: list = [Text(t("chair.summary_title", locale), "heading")]
    if chair.topic:
        blocks.append(Text(chair.topic, "quote"))
    if total == 0:
        blocks.append(Notice(t("chair.summary_empty", locale), "warning"))
    else:
        blocks.append(Facts(tuple((t(f"chair.effect.{e}", locale), str(counts[e])) for e in IMPACT_EFFECTS)))
    impacts = await chair_rows.impacts(session, chair_id=chair.id)  # type: ignore[arg-type]
    unknown = [i for i in impacts if i.effect == "unknown"]
    followups = await followup_rows.of_chair(session, chair_id=chair.id)  # type: ignore[arg-type]
    if unknown:
        blocks.append(Divider())
        blocks.append(Text(t("chair.followups", locale), "strong"))
        for impact in unknown:
            what = " · ".join(p for p in (impact.who, impact.note) if p) or t("chair.followup_blank", locale)
            blocks.append(Text(t("chair.followup_line", locale, what=what)))
            followup = followups.get(impact.id)  # type: ignore[arg-type]
            if followup is not None:  # "I'll find out" and "Resolve" (`handlers.followups`)
                blocks.append(Actions((
                    Button(t("followups.take", locale), "followup.take", str(followup.id)),
                    Button(t("followups.resolve", locale), "followup.resolve", str(followup.id), style="primary"),
                )))
    return Message(tuple(blocks), fallback=t("chair.summary_title", locale), locale=locale)

