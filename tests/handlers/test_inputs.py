"""The one way into the core: what a face parses (Command, Tap, Typed) and what `handle` answers."""

from __future__ import annotations

from sqlmodel import select

from handlers.checkins import open_round
from handlers.inputs import Command, Tap, Typed, handle
from handlers.members import respondent_key
from handlers.messages import Outcome, plain_text
from handlers.ports import Actor, Where
from storage.models import Response

DM = Where(conversation="dm", kind="dm")


def who(user: str) -> Actor:
    return Actor(platform="console", user_id=user)


def _text(outcome: Outcome | None) -> str:
    assert outcome is not None
    return " ".join(plain_text(m) for m in (outcome.reply, outcome.update) if m is not None)


def test_a_command_is_read_without_its_slash_and_case_and_knows_its_lane():
    command = Command.parse("/Team-Pulse", "  soporte 4 ")
    assert (command.name, command.text) == ("team-pulse", "soporte 4")
    assert command.verb is not None and command.heavy
    assert not Command.parse("pulse", "me").heavy
    assert Command.parse("/nope").verb is None


def test_a_tap_value_is_typed_by_its_action():
    mood = Tap.parse("checkin.mood", "12:4")
    assert (mood.round_id, mood.score, mood.chair_id) == (12, 4, None)
    close = Tap.parse("chair.close", "7")
    assert (close.chair_id, close.round_id) == (7, None)
    form = Tap.parse("checkin.comment.submit", "3", {"comment": "hola"})
    assert form.round_id == 3 and form.fields["comment"] == "hola"


def test_a_value_that_does_not_fit_its_action_leaves_the_ids_empty_and_never_raises():
    for value in ("12", "12:4:1", "x:4", "12:²", "-1:3", "9999999999999:1", ""):
        tap = Tap.parse("checkin.mood", value)
        assert tap.round_id is None and tap.score is None, value


async def test_a_malformed_tap_gets_a_polite_reply_and_stores_nothing(ctx):
    await open_round(ctx, team_name="soporte")
    outcome = await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", "not-a-round"))
    assert _text(outcome)
    async with ctx.store.session() as session:
        assert (await session.exec(select(Response))).all() == []


async def test_an_unknown_action_and_an_unknown_command_are_answered_not_raised(ctx):
    assert _text(await handle(ctx, who("ana"), DM, Tap.parse("checkin.nonsense", "1")))
    assert _text(await handle(ctx, who("ana"), DM, Command.parse("/nonsense")))


async def test_a_mood_tap_through_handle_is_stored_under_the_members_round_key(ctx):
    opened = await open_round(ctx, team_name="soporte")
    outcome = await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:4"))
    assert outcome is not None
    key = respondent_key(ctx.secret, "console:ana", round_id=opened.round_id)
    async with ctx.store.session() as session:
        rows = (await session.exec(select(Response))).all()
    assert [(r.respondent_key, r.mood) for r in rows] == [(key, 4)]


async def test_typed_text_with_nothing_open_is_left_to_the_face(ctx):
    assert await handle(ctx, who("ana"), DM, Typed("4")) is None
