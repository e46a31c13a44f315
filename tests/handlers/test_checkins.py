"""Check-in rounds: opening, answering, changing, closing, typed replies, anonymity of storage."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from handlers.checkins import answered_members, delivery_message, open_round, parse_mood, reply_text
from handlers.closing import close_due_rounds
from handlers.inputs import Command, Tap, handle
from handlers.members import respondent_key
from handlers.messages import Notice, Question
from handlers.ports import Actor, Where
from storage.models import Delivery, Member, Response, Round

DM = Where(conversation="dm", kind="dm")


def who(user: str, locale: str | None = None) -> Actor:
    return Actor(platform="console", user_id=user, locale=locale)


async def _mark_sent(ctx) -> None:
    async with ctx.store.session() as session:
        for d in (await session.exec(select(Delivery))).all():
            d.status = "sent"
        await session.commit()


async def test_opening_a_round_twice_in_a_period_creates_nothing_twice(ctx):
    first = await open_round(ctx, team_name="soporte")
    second = await open_round(ctx, team_name="soporte")
    assert first.created and first.new_deliveries == 5
    assert not second.created and second.new_deliveries == 0 and second.round_id == first.round_id
    async with ctx.store.session() as session:
        assert len((await session.exec(select(Delivery))).all()) == 5
        assert len((await session.exec(select(Round))).all()) == 1


async def test_leaders_are_not_on_their_teams_roster(make_ctx):
    ctx = await make_ctx({"teams": [{"name": "t", "leaders": ["ana"], "members": ["ana", "bea", "carlos"]}]})
    opened = await open_round(ctx, team_name="t")
    assert opened.new_deliveries == 2


async def test_paused_member_gets_no_delivery(ctx):
    await pulse_command(ctx, "ana", "pause")
    opened = await open_round(ctx, team_name="soporte")
    assert opened.new_deliveries == 4


async def pulse_command(ctx, user, text):
    return await handle(ctx, who(user), DM, Command.parse("pulse", text))


async def test_checkin_message_asks_mood_with_five_buttons_worst_first(ctx):
    opened = await open_round(ctx, team_name="soporte")
    async with ctx.store.session() as session:
        delivery = (await session.exec(select(Delivery))).first()
    recipient, message, key = await delivery_message(ctx, delivery_id=delivery.id)
    mood = next(b for b in message.blocks if isinstance(b, Question))
    assert [b.value for b in mood.buttons] == [f"{opened.round_id}:{n}" for n in range(1, 6)]
    assert mood.buttons[0].label.endswith("Muy mal") and mood.buttons[-1].label.endswith("Muy bien")
    assert key == f"d{delivery.id}"


async def test_tap_records_mood_and_can_be_changed_while_open(ctx):
    opened = await open_round(ctx, team_name="soporte")
    ana = who("ana")
    await handle(ctx, ana, DM, Tap.parse("checkin.mood", f"{opened.round_id}:2"))
    outcome = await handle(ctx, ana, DM, Tap.parse("checkin.mood", f"{opened.round_id}:4"))
    selected = [b for q in outcome.update.blocks if isinstance(q, Question) for b in q.buttons if b.selected]
    assert [b.value for b in selected] == [f"{opened.round_id}:4"]
    async with ctx.store.session() as session:
        responses = (await session.exec(select(Response))).all()
    assert [r.mood for r in responses] == [4]


async def test_taps_at_once_and_one_after_another_keep_one_answer_with_every_field(ctx):
    opened = await open_round(ctx, team_name="soporte")
    rid, ana = opened.round_id, who("ana")
    # A double tap (two requests of the same member at the same moment) and a driver tap beside it.
    outcomes = await asyncio.gather(
        handle(ctx, ana, DM, Tap.parse("checkin.mood", f"{rid}:2")),
        handle(ctx, ana, DM, Tap.parse("checkin.mood", f"{rid}:5")),
        handle(ctx, ana, DM, Tap.parse("checkin.driver", f"{rid}:4")),
    )
    assert all(o.update is not None for o in outcomes)  # each was stored and answered, none refused
    await handle(ctx, ana, DM, Tap.parse("checkin.mood", f"{rid}:3"))  # a later tap changes only the mood
    async with ctx.store.session() as session:
        responses = (await session.exec(select(Response))).all()
    assert [(r.mood, r.driver_score) for r in responses] == [(3, 4)]
    assert responses[0].driver is not None


async def test_tap_after_close_is_refused_and_changes_nothing(ctx):
    opened = await open_round(ctx, team_name="soporte")
    await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:3"))
    ctx.clock.move(hours=73)
    await close_due_rounds(ctx)
    outcome = await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:5"))
    assert outcome.update is None
    notice = outcome.reply.blocks[0]
    assert isinstance(notice, Notice) and "cerrado" in notice.text
    async with ctx.store.session() as session:
        assert [r.mood for r in (await session.exec(select(Response))).all()] == [3]


async def test_someone_outside_the_round_cannot_answer_it(ctx):
    opened = await open_round(ctx, team_name="soporte")
    outcome = await handle(ctx, who("mallory"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:1"))
    assert outcome.update is None and outcome.reply is not None
    async with ctx.store.session() as session:
        assert (await session.exec(select(Response))).all() == []


async def test_malformed_button_value_is_refused_politely(ctx):
    outcome = await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", "drop table"))
    assert outcome.reply is not None and outcome.update is None


async def test_response_is_stored_under_hmac_key_not_member_id(ctx):
    opened = await open_round(ctx, team_name="soporte")
    await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:5"))
    async with ctx.store.session() as session:
        response = (await session.exec(select(Response))).one()
        answered = await answered_members(session, ctx.secret, round_id=opened.round_id)
        ana = (await session.exec(select(Member).where(Member.user_id == "ana"))).one()
    assert response.respondent_key == respondent_key(ctx.secret, "console:ana", round_id=opened.round_id)
    assert "ana" not in response.respondent_key
    assert respondent_key(b"another-secret-entirely!", "console:ana", round_id=opened.round_id) != response.respondent_key
    assert answered == {ana.id}  # only the bot, holding the secret, can tell who answered


async def test_comment_over_limit_is_refused_with_the_limit(ctx):
    opened = await open_round(ctx, team_name="soporte")
    outcome = await handle(ctx, who("ana"), DM,
                           Tap.parse("checkin.comment.submit", str(opened.round_id), {"comment": "x" * 2001}))
    assert "2000" in outcome.reply.blocks[0].text and "2001" in outcome.reply.blocks[0].text
    async with ctx.store.session() as session:
        assert (await session.exec(select(Response))).all() == []


async def test_typed_digit_sets_mood_and_other_text_becomes_comment(ctx):
    opened = await open_round(ctx, team_name="soporte")
    first = await reply_text(ctx, who("bea"), "4")
    second = await reply_text(ctx, who("bea"), "Demasiadas reuniones")
    assert "Bien" in first.reply.blocks[0].text
    assert "comentario" in second.reply.blocks[0].text
    async with ctx.store.session() as session:
        response = (await session.exec(select(Response))).one()
    assert (response.round_id, response.mood, response.comment) == (opened.round_id, 4, "Demasiadas reuniones")


async def test_typed_reply_without_open_round_is_not_recorded(ctx):
    assert await reply_text(ctx, who("bea"), "4") is None


def test_scale_words_in_both_languages_read_as_moods():
    assert parse_mood("Muy bien!") == 5
    assert parse_mood("great") == 5
    assert parse_mood("más o menos") == 3
    assert parse_mood("3") == 3
    assert parse_mood("6") is None
    assert parse_mood("bien, pero cansada") is None


async def test_enps_is_asked_once_a_quarter(ctx):
    first = await open_round(ctx, team_name="soporte")
    ctx.clock.move(days=7)
    second = await open_round(ctx, team_name="soporte")
    async with ctx.store.session() as session:
        rounds = {r.id: r for r in (await session.exec(select(Round))).all()}
    assert rounds[first.round_id].enps and not rounds[second.round_id].enps
    assert rounds[first.round_id].driver != rounds[second.round_id].driver  # the bank rotates


async def test_delivery_due_time_comes_from_the_callback(ctx):
    when = ctx.clock.now() + timedelta(hours=5)
    await open_round(ctx, team_name="soporte", due_at_for=lambda member: when)
    async with ctx.store.session() as session:
        dues = {d.due_at.replace(tzinfo=None) for d in (await session.exec(select(Delivery))).all()}
    assert dues == {when.replace(tzinfo=None)}
