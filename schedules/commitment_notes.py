"""Sending the commitment notes: invitations to a team's leaders, "already set" to the others, and
the commitment itself to the team's channel or to each member, once each.

A note is queued in the store in the same transaction as what caused it (a round's close, a
commitment), so a crash loses none; this job, run every minute by the clock holder, claims each
pending note with a conditional UPDATE before sending it, so two runs or two replicas never send it
twice. A note a crash left in 'sending' is looked for at its platform before it is sent again, or,
where the platform cannot look (Teams, a channel post), never sent again and marked failed.
"""

from __future__ import annotations

import logging

from handlers.commitment_messages import note_target, target_message
from handlers.context import Context
from handlers.ports import SendError
from storage.queries import commitments as rows

logger = logging.getLogger(__name__)


async def recover_commitment_notes(ctx: Context) -> int:
    """At the start of a clock holder: notes left in 'sending' are looked for before they go again."""
    async with ctx.store.session() as session:
        left = await rows.recheck_left_sending(session)
        await session.commit()
    if left:
        logger.warning("commitment notes left in sending will be looked for", extra={"notes": left})
    return left


async def send_commitment_notes(ctx: Context) -> int:
    """Send every queued commitment note; returns how many went out."""
    async with ctx.store.session() as session:
        due = await rows.due_notes(session)
    sent = 0
    for note_id, status in due:
        async with ctx.store.session() as session:
            claimed = await rows.claim_note(session, note_id=note_id, status=status)
            await session.commit()
        if claimed:
            result = await _send(ctx, note_id, look=status == "recheck")
            async with ctx.store.session() as session:
                await rows.set_note_status(session, note_id=note_id, status=result)
                await session.commit()
            sent += result == "sent"
    if due:
        logger.info("commitment notes sent", extra={"due": len(due), "sent": sent})
    return sent


async def _send(ctx: Context, note_id: int, *, look: bool) -> str:
    """Send one claimed note; its status afterwards."""
    async with ctx.store.session() as session:
        note = await rows.note_by_id(session, note_id=note_id)
        target = None if note is None else await note_target(session, ctx, note)
    if target is None:
        # Its commitment was set before an invitation went, or its person is gone (forgotten, or a
        # Teams leader who never opened a chat with the bot, so there is no way to reach them).
        logger.warning("commitment note dropped", extra={"note_id": note_id})
        return "dropped"
    platform = target.to.platform if target.to is not None else target.platform
    messenger = ctx.messengers.get(platform)
    if messenger is None:
        return "recheck" if look else "pending"  # a process with that face sends it
    message = await target_message(ctx, target)
    key = f"cn{note_id}"
    try:
        if target.to is None:
            if look:
                logger.error("commitment post interrupted by a crash: not posted again", extra={"note_id": note_id})
                return "failed"
            await messenger.post(conversation=target.conversation, message=message)
            return "sent"
        if look:
            if not messenger.can_look:
                logger.error("commitment note interrupted by a crash and the platform cannot tell whether it "
                             "landed: not sent again", extra={"note_id": note_id})
                return "failed"
            if await messenger.find_direct(to=target.to, delivery_key=key) is not None:
                return "sent"
        await messenger.send_direct(to=target.to, message=message, delivery_key=key)
        return "sent"
    except SendError as exc:
        logger.error("commitment note failed", extra={"note_id": note_id, "reason": exc.reason})
        if exc.posted_nothing and exc.transient:
            return "pending"
        return "recheck" if look and exc.transient else "failed"
