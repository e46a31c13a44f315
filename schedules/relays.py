"""Relaying anonymous replies in batches: the clock sends every message whose batch has ended.

A message waits in `reply_message` until the end of its batch (`[pulse] relay_batch_minutes`);
this job, run every minute by the clock holder, claims each due one with a conditional UPDATE
before sending it, so two runs or two replicas never send it twice. The author is found inside
the bot by recomputing the respondent keys of the round's members (`handlers.replies.author_of`);
the leader gets "a member of <team>" and the words, no name, id or time of their own.
"""

from __future__ import annotations

import logging

from handlers.context import Context
from handlers.members import member_locale, recipient_in
from handlers.messages import Message
from handlers.ports import Messenger, Recipient, SendError
from handlers.replies import TO_AUTHOR, author_message, author_of, batch_start, leader_message
from storage.models import ReplyMessage
from storage.queries import replies as rows
from storage.queries.members import find_member

logger = logging.getLogger(__name__)


async def recover_relays(ctx: Context) -> int:
    """At the start of a clock holder: relays left in 'sending' (a crash between the claim and the
    platform's answer) are looked for before the next run sends them; returns how many."""
    async with ctx.store.session() as session:
        left = await rows.recheck_left_sending(session)
        await session.commit()
    if left:
        logger.warning("relays left in sending will be looked for", extra={"relays": left})
    return left


async def send_relays(ctx: Context) -> int:
    """Send every relay whose batch has ended; returns how many went out (or were found out)."""
    now = ctx.clock.now()
    async with ctx.store.session() as session:
        due = await rows.due_message_ids(session, now=now)
    sent = 0
    for message_id, status in due:
        async with ctx.store.session() as session:
            claimed = await rows.claim_message(session, message_id=message_id, status=status)
            await session.commit()
        if claimed:
            sent += await _relay(ctx, message_id, look=status == "recheck")
    if due:
        logger.info("relays sent", extra={"due": len(due), "sent": sent})
    return sent


async def _relay(ctx: Context, message_id: str, *, look: bool = False) -> int:
    """Send one claimed relay; 1 when it went out. With `look` (a crash leftover that may have
    landed), look for it at the platform first; where the platform cannot look, it is never sent
    again (a reply twice would be worse than a lost one, and the log says so)."""
    async with ctx.store.session() as session:
        row = await rows.message_by_id(session, message_id=message_id)
        thread = None if row is None else await rows.thread_by_id(session, thread_id=row.thread_id)
        place = None if thread is None else await rows.comment_place(session, comment_id=thread.round_comment_id)
        target = None
        if row is not None and thread is not None and place is not None:
            target = await _target(ctx, session, row, thread, place)
        if target is None:
            await rows.set_status(session, message_id=message_id, status="dropped")
            if thread is not None and row is not None and row.direction == TO_AUTHOR:
                # The author is gone (forgotten, or their round's deliveries purged): no more relays.
                at = batch_start(ctx.clock.now(), ctx.config.pulse.relay_batch_minutes)
                await rows.close_thread(session, thread_id=thread.id, at=at)
            await session.commit()
            return 0
        await session.commit()
    to, message = target
    messenger = ctx.messengers.get(to.platform)
    # No face for that platform in this process: one that has it sends it.
    status = "recheck" if look else "pending"
    key = f"reply-{message_id}"
    if messenger is not None and look and not messenger.can_look:
        logger.error("relay interrupted by a crash and the platform cannot tell whether it landed: "
                     "not sent again", extra={"platform": to.platform})
        status = "failed"
    elif messenger is not None:
        status = await _send(messenger, to, message, key, look=look)
    async with ctx.store.session() as session:
        await rows.set_status(session, message_id=message_id, status=status)
        await session.commit()
    return int(status == "sent")


async def _send(messenger: Messenger, to: Recipient, message: Message, key: str, *, look: bool) -> str:
    """The relay's status after trying: sent, pending (surely not posted), recheck, or failed."""
    if look:
        try:
            if await messenger.find_direct(to=to, delivery_key=key) is not None:
                logger.info("relay already at the platform: recorded, not re-sent")
                return "sent"
        except SendError as exc:
            logger.warning("relay could not be looked for; next run looks again", extra={"reason": exc.reason})
            return "recheck"
    try:
        await messenger.send_direct(to=to, message=message, delivery_key=key)
        return "sent"
    except SendError as exc:
        # Surely not posted: the next run may try again; unsure: never sent twice, marked failed.
        logger.error("relay failed", extra={"reason": exc.reason})
        return "pending" if exc.posted_nothing else "failed"


async def _target(ctx: Context, session, row: ReplyMessage, thread, place) -> tuple[Recipient, Message] | None:  # noqa: ANN001
    """Who gets this relay and what they read, or None when it must not go (stopped, closed, gone)."""
    comment = place.comment
    if row.direction == TO_AUTHOR:
        if thread.respondent_key is None or thread.stopped_at is not None or thread.closed_at is not None:
            return None
        members = await rows.askees(session, round_id=comment.round_id)
        author = author_of(ctx.secret, members, round_id=comment.round_id, key=thread.respondent_key)
        if author is None:
            return None
        locale = await member_locale(session, ctx, author)
        return await recipient_in(session, author), author_message(
            team=place.team, period=place.period, comment=comment.comment, text=row.text,
            thread_id=thread.id, locale=locale)
    platform, _, user_id = thread.leader.partition(":")
    leader = await find_member(session, platform=platform, user_id=user_id)
    if leader is None or thread.closed_at is not None:
        return None
    locale = await member_locale(session, ctx, leader)
    return await recipient_in(session, leader), leader_message(
        team=place.team, comment=comment.comment, text=row.text, kind=row.kind,
        comment_id=comment.id, locale=locale)
