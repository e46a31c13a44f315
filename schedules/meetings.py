"""Scheduled empty chairs: a `[[meetings]]` entry with `schedule = "tue 09:30"` gets its prompt posted.

The chair is opened by `handlers.chairs.open_chair` (the same code as `/empty-chair`) and its card
is posted through the messenger of the meeting's platform, then remembered so later impacts
redraw it. A chair the clock already opened in that conversation in the last hours is not
opened again, so a restart or a takeover at the scheduled minute cannot post twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from handlers.chairs import CLOCK_OPENER, open_chair, remember_card
from handlers.config import MeetingConfig
from handlers.context import Context
from handlers.ports import Actor, SendError, Where
from storage.queries.chairs import opened_since

logger = logging.getLogger(__name__)

CLOCK_USER = CLOCK_OPENER  # `opened_by` of the chairs the clock opens: anyone in the room may close them
RECENT = timedelta(hours=6)


def meeting_places(meeting: MeetingConfig) -> list[tuple[str, str]]:
    """(platform, conversation) pairs a meeting entry names."""
    places = []
    if meeting.slack_channel:
        places.append(("slack", meeting.slack_channel))
    if meeting.teams_conversation:
        places.append(("teams", meeting.teams_conversation))
    return places


def meeting_timezone(ctx: Context, meeting: MeetingConfig) -> str:
    """The zone a meeting's `schedule` is read in: its team's, else the configured default."""
    team = ctx.config.team(meeting.team) if meeting.team else None
    return (team.timezone if team else None) or ctx.config.pulse.timezone


def meeting_locale(ctx: Context, meeting: MeetingConfig) -> str:
    """The language of the card: the meeting's team's, else the default."""
    team = ctx.config.team(meeting.team) if meeting.team else None
    return (team.locale if team else None) or ctx.config.pulse.default_locale


async def _opened_recently(ctx: Context, conversation: str) -> bool:
    since = ctx.clock.now() - RECENT
    async with ctx.store.session() as session:
        return await opened_since(session, conversation=conversation, opened_by=CLOCK_USER, since=since)


async def post_meeting_chair(ctx: Context, index: int) -> int:
    """Open and post the empty chair of `ctx.config.meetings[index]`; returns how many were posted."""
    meeting = ctx.config.meetings[index]
    posted = 0
    for platform, conversation in meeting_places(meeting):
        messenger = ctx.messengers.get(platform)
        if messenger is None:
            logger.warning("meeting prompt skipped: platform not configured",
                           extra={"platform": platform, "conversation": conversation})
            continue
        if await _opened_recently(ctx, conversation):
            logger.info("meeting prompt already posted", extra={"conversation": conversation})
            continue
        actor = Actor(platform=platform, user_id=CLOCK_USER, locale=meeting_locale(ctx, meeting))
        outcome = await open_chair(ctx, actor, Where(conversation=conversation, kind="channel"), meeting.topic,
                                   by_clock=True)
        for post in outcome.posts:
            try:
                sent = await messenger.post(conversation=conversation, message=post.message,
                                            thread_ref=post.thread_ref)
            except SendError as exc:
                logger.error("meeting prompt failed",
                             extra={"conversation": conversation, "chair_id": post.chair_id, "reason": exc.reason})
                continue
            if post.chair_id is not None:
                await remember_card(ctx, chair_id=post.chair_id, conversation=sent.conversation, ref=sent.ref)
            posted += 1
            logger.info("meeting prompt posted", extra={"conversation": conversation, "chair_id": post.chair_id})
    return posted
