"""Scheduled empty chairs: a `[[meetings]]` entry with `schedule = "tue 09:30"` gets its prompt posted.

The chair is opened by `handlers.chairs.open_chair` (the same code as `/empty-chair`) and its card
is posted by `handlers.surface.carry_out` through a `ChannelPost` surface over the messenger of the
meeting's platform, which remembers the card so later impacts redraw it. A chair the clock already opened in that conversation in the last hours is not
opened again, so a restart or a takeover at the scheduled minute cannot post twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from handlers.chairs import CLOCK_OPENER, open_chair
from handlers.config import MeetingConfig
from handlers.context import Context
from handlers.messages import Chart, Edit, Form, Message, Post
from handlers.ports import Actor, Messenger, SendError, Sent, Where
from handlers.surface import carry_out
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
    return ctx.config.team_timezone(ctx.config.team(meeting.team) if meeting.team else None)


def meeting_locale(ctx: Context, meeting: MeetingConfig) -> str:
    """The language of the card: the meeting's team's, else the default."""
    team = ctx.config.team(meeting.team) if meeting.team else None
    return (team.locale if team else None) or ctx.config.pulse.default_locale


@dataclass
class ChannelPost:
    """The clock's `Surface`: posts in one conversation through a messenger; nobody acted, so
    there is no one to reply to, no tapped card and no form."""

    messenger: Messenger
    conversation: str
    posted: int = 0

    personal = False
    tapped = None

    async def post(self, post: Post) -> Sent | None:
        """The card, posted; a failure is logged and the chair is left without a card."""
        try:
            sent = await self.messenger.post(conversation=self.conversation, message=post.message,
                                             thread_ref=post.thread_ref)
        except SendError as exc:
            logger.error("meeting prompt failed",
                         extra={"conversation": self.conversation, "chair_id": post.chair_id, "reason": exc.reason})
            return None
        self.posted += 1
        logger.info("meeting prompt posted", extra={"conversation": self.conversation, "chair_id": post.chair_id})
        return sent

    async def reply(self, message: Message) -> None:
        """Nobody acted: a reply has no one to go to."""
        logger.info("meeting prompt reply dropped", extra={"conversation": self.conversation})

    async def redraw(self, message: Message) -> bool:
        """No card was tapped."""
        return False

    async def edit(self, edit: Edit) -> None:
        """An earlier card, replaced."""
        try:
            await self.messenger.update(conversation=edit.conversation, ref=edit.ref, message=edit.message)
        except SendError as exc:
            logger.warning("card not updated", extra={"ref": edit.ref, "reason": exc.reason})

    async def open_form(self, form: Form) -> None:
        """Nobody to fill it in."""

    async def send_file(self, chart: Chart) -> None:
        """Nobody to send it to."""


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
        surface = ChannelPost(messenger, conversation)
        await carry_out(ctx, outcome, surface)
        posted += surface.posted
    return posted
