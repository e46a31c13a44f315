"""Who may close an empty chair: its opener, a leader of its team or a global leader; a chair the
clock opened, anyone in its conversation. Everyone else is refused politely and it stays open."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.chairs import open_chair
from handlers.inputs import Command, Tap, handle
from handlers.messages import Notice, Outcome
from handlers.ports import Actor, Where
from schedules.meetings import post_meeting_chair
from storage.models import EmptyChair

ROOM = Where(conversation="C0ROOM", kind="channel")
ELSEWHERE = Where(conversation="C0OTHER", kind="channel")
CONFIG = {
    "pulse": {"min_group_size": 3, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["boss"]},
    "teams": [
        {"name": "soporte", "slack_channel": "C0ROOM", "leaders": ["lead"], "locale": "es",
         "members": ["ana", "bea", "carlos"]},
        {"name": "ventas", "slack_channel": "C0SALES", "leaders": ["vlead"], "locale": "es",
         "members": ["dani", "eva", "fede"]},
    ],
    "meetings": [{"slack_channel": "C0ROOM", "schedule": "tue 09:30", "team": "soporte", "topic": "Semanal"}],
}


def who(user: str) -> Actor:
    return Actor(platform="console", user_id=user)


async def chair_by(ctx, user: str) -> int:
    opened = await handle(ctx, who(user), ROOM, Command.parse("empty-chair", "Nuevo horario"))
    return opened.posts[0].chair_id


async def close(ctx, user: str, chair_id: int, where: Where = ROOM) -> Outcome:
    return await handle(ctx, who(user), where, Tap.parse("chair.close", str(chair_id)))


async def is_open(ctx, chair_id: int) -> bool:
    async with ctx.store.session() as session:
        return (await session.get(EmptyChair, chair_id)).closed_at is None


def refused(outcome: Outcome) -> bool:
    """Only a polite reply to the person who tapped: no summary, no redrawn card."""
    notice = outcome.reply.blocks[0] if outcome.reply else None
    return (isinstance(notice, Notice) and notice.level == "warning" and not outcome.posts
            and outcome.update is None and not outcome.edits)


@pytest.fixture
async def ctx(make_ctx):
    return await make_ctx(CONFIG)


async def test_someone_elses_chair_is_not_closed_by_a_participant_and_they_are_told_why(ctx):
    chair_id = await chair_by(ctx, "ana")
    outcome = await close(ctx, "bea", chair_id)
    assert refused(outcome)
    assert "Solo quien abrió esta silla vacía" in outcome.reply.fallback
    assert await is_open(ctx, chair_id)
    # Still open: impacts keep coming.
    added = await handle(ctx, who("carlos"), ROOM, Tap.parse("chair.impact.submit", str(chair_id), {"effect": "better"}))
    assert "cerrada" not in added.reply.fallback


async def test_the_refusal_is_in_english_for_someone_who_reads_english(ctx):
    chair_id = await chair_by(ctx, "ana")
    await handle(ctx, who("bea"), Where(conversation="dm"), Command.parse("pulse", "lang en"))
    outcome = await close(ctx, "bea", chair_id)
    assert "Only the person who opened this empty chair" in outcome.reply.fallback


async def test_the_opener_closes_their_chair_and_the_summary_is_posted(ctx):
    chair_id = await chair_by(ctx, "ana")
    outcome = await close(ctx, "ana", chair_id)
    assert outcome.posts and not await is_open(ctx, chair_id)


async def test_the_same_name_on_another_platform_is_not_the_opener(ctx):
    chair_id = await chair_by(ctx, "ana")
    outcome = await handle(ctx, Actor(platform="slack", user_id="ana"), ROOM, Tap.parse("chair.close", str(chair_id)))
    assert refused(outcome) and await is_open(ctx, chair_id)


async def test_a_leader_of_the_chairs_team_closes_it(ctx):
    chair_id = await chair_by(ctx, "ana")
    outcome = await close(ctx, "lead", chair_id)
    assert outcome.posts and not await is_open(ctx, chair_id)


async def test_a_global_leader_closes_any_chair(ctx):
    chair_id = await chair_by(ctx, "ana")
    outcome = await close(ctx, "boss", chair_id, where=ELSEWHERE)
    assert outcome.posts and not await is_open(ctx, chair_id)


async def test_a_leader_of_another_team_is_refused(ctx):
    chair_id = await chair_by(ctx, "ana")
    assert refused(await close(ctx, "vlead", chair_id))
    assert await is_open(ctx, chair_id)


async def test_a_chair_the_clock_opened_on_a_schedule_is_closed_by_anyone_in_its_channel(ctx):
    from bot.console.messenger import ConsoleMessenger

    ctx.messengers["slack"] = ConsoleMessenger()  # posts nowhere: the chair is what this test is about
    assert await post_meeting_chair(ctx, 0) == 1
    async with ctx.store.session() as session:
        chair_id = (await session.exec(select(EmptyChair.id))).one()
    # Asked from another conversation (a forged tap), a participant is refused...
    assert refused(await close(ctx, "bea", chair_id, where=ELSEWHERE))
    assert await is_open(ctx, chair_id)
    # ...and in the chair's own channel anyone closes it.
    outcome = await close(ctx, "bea", chair_id)
    assert outcome.posts and not await is_open(ctx, chair_id)


async def test_a_chair_opened_at_a_meetings_start_is_closed_by_anyone_in_the_meeting(ctx):
    meeting = Where(conversation="19:meeting_abc@thread.v2", kind="meeting")
    opened = await open_chair(ctx, Actor(platform="teams", user_id="29:organiser"), meeting, "Semanal",
                              by_clock=True)
    chair_id = opened.posts[0].chair_id
    participant = Actor(platform="teams", user_id="29:guest")
    # A tap from the meeting's chat carries the message id after the conversation id.
    tapped_in = Where(conversation="19:meeting_abc@thread.v2;messageid=1700000000", kind="meeting")
    outcome = await handle(ctx, participant, tapped_in, Tap.parse("chair.close", str(chair_id)))
    assert outcome.posts and not await is_open(ctx, chair_id)


async def test_closing_twice_says_it_closed(ctx):
    chair_id = await chair_by(ctx, "ana")
    await close(ctx, "ana", chair_id)
    again = await close(ctx, "bea", chair_id)
    assert "cerrada" in again.reply.fallback and not again.posts
