"""Reminding follow-up owners: a DM when a follow-up is due, once more after the same interval, never a third.

Run by the clock holder (job `followup.remind`). Each reminder is claimed first by counting it
(`reminders`, a conditional UPDATE), then sent, so two passes or two replicas never send it twice;
a send the platform surely refused is unclaimed for the next pass. Like a check-in's reminder, it
waits for Monday when it falls on the owner's Saturday or Sunday.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.context import Context
from handlers.followups import reminder_message
from handlers.members import member_locale, recipient_in
from handlers.ports import SendError
from storage.queries import followups as rows
from storage.queries.members import find_member

logger = logging.getLogger(__name__)


async def send_followup_reminders(ctx: Context) -> int:
    """Remind every owner whose follow-up is due; returns how many reminders went out."""
    now = ctx.clock.now()
    again = now - timedelta(days=ctx.config.pulse.followup_days)
    async with ctx.store.session() as session:
        due = await rows.reminders_due(session, now=now, again_before=again)
    sent = 0
    for followup_id, already in due:
        sent += await _remind(ctx, followup_id, already, now)
    if due:
        logger.info("follow-up reminders", extra={"due": len(due), "sent": sent})
    return sent


async def _remind(ctx: Context, followup_id: int, already: int, now: datetime) -> int:
    async with ctx.store.session() as session:
        place = await rows.place_of(session, followup_id=followup_id)
        if place is None or place.followup.owner is None:
            return 0
        platform, _, user_id = place.followup.owner.partition(":")
        messenger = ctx.messengers.get(platform)
        owner = await find_member(session, platform=platform, user_id=user_id)
        if messenger is None or owner is None:
            return 0  # a process with that face sends it; an owner the bot never met cannot be reached
        if now.astimezone(ZoneInfo(owner.timezone or ctx.config.pulse.timezone)).weekday() >= 5:
            return 0  # not on their weekend: Monday's first pass sends it
        if not await rows.claim_reminder(session, followup_id=followup_id, sent=already):
            return 0
        await session.commit()
        locale = await member_locale(session, ctx, owner)
        to = await recipient_in(session, owner)
    message = reminder_message(place, second=already >= 1, locale=locale)
    try:
        await messenger.send_direct(to=to, message=message, delivery_key=f"followup-{followup_id}-{already + 1}")
    except SendError as exc:
        if exc.posted_nothing:
            async with ctx.store.session() as session:
                await rows.unclaim_reminder(session, followup_id=followup_id, sent=already)
                await session.commit()
        logger.error("follow-up reminder failed", extra={"followup_id": followup_id, "reason": exc.reason})
        return 0
    logger.info("follow-up reminded", extra={"followup_id": followup_id, "reminder": already + 1})
    return 1
