"""Anonymous two-way replies: a leader answers a comment of a closed round, its author answers back.

The leader's side holds only the frozen comment's random id. The bot finds the author by
recomputing the respondent keys of the round's members with the secret (`author_of`); a thread
keeps the comment's key, never a member id. Every message waits for the end of its batch
(`[pulse] relay_batch_minutes`) and is sent by the clock (`schedules.relays`), so neither side
learns a time finer than the batch; the leader reads the author as "a member of <team>".
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.errors import Closed, Invalid, NotAllowed, NotFound
from handlers.i18n import t
from handlers.members import actor_locale, find_member, member_locale, own_keys, respondent_key, upsert_in
from handlers.messages import Actions, Button, Field, Form, Message, Notice, Outcome, Text
from handlers.ports import Actor
from handlers.readers import readable_teams
from handlers.safe_text import clean_text
from storage.db import retry_on_conflict
from storage.models import Member, ReplyThread
from storage.queries import replies as rows

logger = logging.getLogger(__name__)

REPLY_LIMIT = 2000
TO_AUTHOR, TO_LEADER = "to_author", "to_leader"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def batch_end(now: datetime, minutes: int) -> datetime:
    """The end of the relay batch `now` falls in: the next multiple of `minutes` since the epoch (UTC)."""
    step = timedelta(minutes=minutes)
    return _EPOCH + ((now - _EPOCH) // step + 1) * step


def batch_start(now: datetime, minutes: int) -> datetime:
    """The start of the relay batch `now` falls in (what a stop or a close records, no finer)."""
    return batch_end(now, minutes) - timedelta(minutes=minutes)


def _text(value: str) -> str:
    text = clean_text(value).strip()
    if not text:
        raise Invalid("replies.empty")
    if len(text) > REPLY_LIMIT:
        raise Invalid("replies.too_long", limit=REPLY_LIMIT, length=len(text))
    return text


def _say(text: str, locale: str, level: str = "info") -> Outcome:
    return Outcome(reply=Message((Notice(text, level),), text, locale))  # type: ignore[arg-type]


async def _replyable(ctx: Context, actor: Actor, comment_id: str) -> rows.CommentPlace:
    """The comment, if this actor leads its team and its round passed the threshold; else a refusal."""
    async with ctx.store.session() as session:
        place = await rows.comment_place(session, comment_id=comment_id)
    if place is None or place.respondents < ctx.min_group_size:
        raise NotFound("replies.unknown")
    is_global, names = await readable_teams(ctx, actor)
    if not is_global and place.team not in names:
        raise NotAllowed("replies.not_allowed")
    return place


def _check_open(thread: ReplyThread | None, place: rows.CommentPlace) -> None:
    """Refuse a leader's reply when the author stopped this thread or can no longer be reached."""
    if thread is None:
        if place.comment.respondent_key is None:
            raise Closed("replies.unreachable")
        return
    if thread.stopped_at is not None:
        raise Closed("replies.stopped")
    if thread.closed_at is not None or thread.respondent_key is None:
        raise Closed("replies.unreachable")


async def reply_form(ctx: Context, actor: Actor, *, comment_id: str) -> Outcome:
    """The leader's "Reply" beside a comment: a small form, after the same checks as sending."""
    place = await _replyable(ctx, actor, comment_id)
    async with ctx.store.session() as session:
        # Refused before the leader types, as when sending: the author stopped, or cannot be reached.
        _check_open(await rows.leader_thread(session, comment_id=comment_id, leader=actor.key), place)
    locale = await actor_locale(ctx, actor)
    minutes = ctx.config.pulse.relay_batch_minutes
    return Outcome(form=Form(
        title=t("replies.form.title", locale),
        action="reply.submit",
        value=comment_id,
        submit_label=t("replies.form.submit", locale),
        intro=t("replies.form.intro", locale, team=place.team, minutes=minutes, comment=place.comment.comment),
        fields=(Field("text", t("replies.form.label", locale), kind="multiline", required=True,
                      max_length=REPLY_LIMIT),),
    ))


async def send_reply(ctx: Context, actor: Actor, *, comment_id: str, text: str) -> Outcome:
    """A leader's reply to a comment: queued for the author in the next batch, or refused politely."""
    body = _text(text)
    place = await _replyable(ctx, actor, comment_id)
    locale = await actor_locale(ctx, actor)
    now = ctx.clock.now()

    async def queue() -> None:
        async with ctx.store.session() as session:
            await upsert_in(session, actor, now=now)  # so the author's answers can reach this leader
            thread = await rows.leader_thread(session, comment_id=comment_id, leader=actor.key)
            _check_open(thread, place)
            if thread is None:
                thread = await rows.add_thread(session, comment=place.comment, team_id=place.team_id,
                                               leader=actor.key)
            due = batch_end(now, ctx.config.pulse.relay_batch_minutes)
            await rows.queue_message(session, thread_id=thread.id, direction=TO_AUTHOR, text=body, due_at=due)
            await session.commit()

    # Two first replies at once (a double click): the second finds the first's thread.
    await retry_on_conflict(queue)
    logger.info("reply queued", extra={"direction": TO_AUTHOR})
    return _say(t("replies.queued", locale, minutes=ctx.config.pulse.relay_batch_minutes), locale, "success")


async def _authors_thread(
    session: AsyncSession, ctx: Context, actor: Actor, thread_id: str
) -> tuple[ReplyThread, rows.CommentPlace]:
    """The thread and its comment, if this actor wrote the comment (their key for its round is the thread's)."""
    thread = await rows.thread_by_id(session, thread_id=thread_id)
    place = None if thread is None else await rows.comment_place(session, comment_id=thread.round_comment_id)
    if thread is None or place is None:
        raise NotFound("replies.gone")
    if thread.respondent_key is None:
        raise Closed("replies.over")  # a forgotten author's threads have no key: nobody speaks in them
    if respondent_key(ctx.secret, actor.key, round_id=place.comment.round_id) != thread.respondent_key:
        raise NotAllowed("replies.not_yours")
    if thread.stopped_at is not None or thread.closed_at is not None:
        raise Closed("replies.over")
    return thread, place


async def answer_form(ctx: Context, actor: Actor, *, thread_id: str) -> Outcome:
    """The author's "Reply anonymously": a form, after the same checks as answering."""
    async with ctx.store.session() as session:
        _, place = await _authors_thread(session, ctx, actor, thread_id)
    locale = await actor_locale(ctx, actor)
    return Outcome(form=Form(
        title=t("replies.answer.title", locale),
        action="reply.answer.submit",
        value=thread_id,
        submit_label=t("replies.form.submit", locale),
        intro=t("replies.answer.intro", locale, team=place.team),
        fields=(Field("text", t("replies.answer.label", locale), kind="multiline", required=True,
                      max_length=REPLY_LIMIT),),
    ))


async def send_answer(ctx: Context, actor: Actor, *, thread_id: str, text: str) -> Outcome:
    """The author's anonymous answer: queued for the leader in the next batch."""
    body = _text(text)
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        thread, _ = await _authors_thread(session, ctx, actor, thread_id)
        due = batch_end(ctx.clock.now(), ctx.config.pulse.relay_batch_minutes)
        await rows.queue_message(session, thread_id=thread.id, direction=TO_LEADER, text=body, due_at=due)
        await session.commit()
    logger.info("reply queued", extra={"direction": TO_LEADER})
    return _say(t("replies.answer.queued", locale), locale, "success")


async def stop(ctx: Context, actor: Actor, *, thread_id: str) -> Outcome:
    """The author ends the conversation: the leader's pending replies are dropped, later ones refused,
    and the leader is told (in the next batch) that a member of the team ended it."""
    locale = await actor_locale(ctx, actor)
    now = ctx.clock.now()
    minutes = ctx.config.pulse.relay_batch_minutes
    async with ctx.store.session() as session:
        thread, _ = await _authors_thread(session, ctx, actor, thread_id)
        thread.stopped_at = batch_start(now, minutes)
        await rows.drop_pending(session, thread_ids=[thread.id], direction=TO_AUTHOR)
        await rows.queue_message(session, thread_id=thread.id, direction=TO_LEADER, text="",
                                 due_at=batch_end(now, minutes), kind="stopped")
        await session.commit()
    logger.info("reply thread stopped")
    return _say(t("replies.stop.done", locale), locale, "success")


def author_message(*, team: str, period: str, comment: str, text: str, thread_id: str, locale: str) -> Message:
    """What the author receives: their comment, the leader's reply, and the two buttons."""
    title = t("replies.to_author.title", locale, team=team, period=period)
    blocks = (
        Text(title, "heading"),
        Text(t("replies.to_author.your_comment", locale), "muted"),
        Text(comment, "quote"),
        Text(t("replies.to_author.reply", locale), "strong"),
        Text(text, "quote"),
        Text(t("replies.to_author.note", locale), "muted"),
        Actions((Button(t("replies.answer", locale), "reply.answer", thread_id, style="primary"),
                 Button(t("replies.stop", locale), "reply.stop", thread_id, style="danger"))),
    )
    return Message(blocks, title, locale)


def leader_message(*, team: str, comment: str, text: str, kind: str, comment_id: str, locale: str) -> Message:
    """What the leader receives: "a member of <team>" and their words, never a name, an id or a time."""
    if kind == "stopped":
        title = t("replies.to_leader.stopped", locale, team=team)
        blocks: tuple = (Text(title, "strong"), Text(t("replies.to_leader.about", locale), "muted"),
                         Text(comment, "quote"))
        return Message(blocks, title, locale)
    title = t("replies.to_leader.title", locale, team=team)
    blocks = (
        Text(title, "heading"),
        Text(t("replies.to_leader.about", locale), "muted"),
        Text(comment, "quote"),
        Text(text, "quote"),
        Actions((Button(t("replies.reply", locale), "reply.start", comment_id),)),
    )
    return Message(blocks, title, locale)


def author_of(secret: bytes, members: list[Member], *, round_id: int, key: str) -> Member | None:
    """The member whose respondent key for this round is `key`, found inside the bot; None if gone."""
    return next((m for m in members if respondent_key(secret, f"{m.platform}:{m.user_id}", round_id=round_id) == key),
                None)


async def forget_threads(session: AsyncSession, ctx: Context, actor: Actor, keys: list[str]) -> int:
    """`forget`: the member's threads close (their words stay, like the comment they answer), their
    comments can no longer be answered, and threads they started as a leader close."""
    at = batch_start(ctx.clock.now(), ctx.config.pulse.relay_batch_minutes)
    closed = await rows.forget_author(session, keys=keys, at=at)
    return closed + await rows.forget_leader_threads(session, leader=actor.key, at=at)


async def console_letters(ctx: Context, actor: Actor) -> list[Message]:
    """Relays that reached a console person (their inbox is the store), each shown once, in their language."""
    if actor.platform != "console":
        return []
    out: list[Message] = []
    async with ctx.store.session() as session:
        keys = await own_keys(session, ctx.secret, actor)
        locale = await member_locale(session, ctx, await find_member(session, actor))
        for message, thread in await rows.arrived_for(session, keys=keys, leader=actor.key, now=ctx.clock.now()):
            place = await rows.comment_place(session, comment_id=thread.round_comment_id)
            if place is None or not await rows.mark_read(session, message_id=message.id):
                continue
            if message.direction == TO_AUTHOR:
                out.append(author_message(team=place.team, period=place.period, comment=place.comment.comment,
                                          text=message.text, thread_id=thread.id, locale=locale))
            else:
                out.append(leader_message(team=place.team, comment=place.comment.comment, text=message.text,
                                          kind=message.kind, comment_id=place.comment.id, locale=locale))
        await session.commit()
    return out
