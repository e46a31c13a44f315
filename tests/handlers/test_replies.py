"""Anonymous two-way replies in the core: a leader answers a comment, only its author hears, the
author answers as "a member of <team>", stops, or is forgotten; relays go out by batch only."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from handlers.checkins import open_round
from handlers.closing import close_team_round
from handlers.i18n import t
from handlers.inputs import Command, Tap, handle
from handlers.messages import Actions, Message, Outcome, Text, plain_text
from handlers.ports import Actor, Sent, Where
from handlers.privacy import forget
from handlers.replies import batch_end
from schedules.relays import send_relays
from storage.models import ReplyMessage, ReplyThread, RoundComment

DM = Where(conversation="dm", kind="dm")
MEMBERS = ["ana", "bea", "carlos", "dani", "eva", "fede"]
CONFIG: dict[str, Any] = {
    "pulse": {"min_group_size": 5, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["boss"],
              "relay_batch_minutes": 15},
    "teams": [{"name": "soporte", "leaders": ["lead"], "locale": "en", "members": MEMBERS},
              {"name": "ventas", "leaders": ["other"], "locale": "en", "members": ["zoe", "yan", "xia"]}],
}


class Inbox:
    """The platform's side of direct messages: who received what (a console messenger that keeps it)."""

    platform = "console"
    can_look = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []

    async def send_direct(self, *, to, message, delivery_key):
        self.sent.append((to.user_id, message))
        return Sent(to.user_id, delivery_key)

    def to(self, user: str) -> list[Message]:
        return [m for u, m in self.sent if u == user]


def person(user: str) -> Actor:
    return Actor(platform="console", user_id=user, name=user)


def buttons(message: Message) -> list:
    return [b for block in message.blocks if isinstance(block, Actions) for b in block.buttons]


async def press(ctx, user: str, action: str, value: str, fields: dict[str, str] | None = None) -> Outcome:
    outcome = await handle(ctx, person(user), DM, Tap.parse(action, value, fields))
    assert outcome is not None
    return outcome


async def closed_round_with_comments(ctx) -> Inbox:
    inbox = Inbox()
    ctx.messengers["console"] = inbox
    opened = await open_round(ctx, team_name="soporte")
    for n, user in enumerate(MEMBERS):
        await press(ctx, user, "checkin.mood", f"{opened.round_id}:{1 + n % 5}")
        await press(ctx, user, "checkin.comment.submit", str(opened.round_id), {"comment": f"words of {user}"})
    await close_team_round(ctx, team_name="soporte")
    return inbox


async def reply_button(ctx, leader: str, comment: str) -> str:
    """The leader's report in chat, and the comment id its "Reply" beside `comment` carries."""
    report = (await handle(ctx, person(leader), DM, Command.parse("team-pulse", "soporte"))).reply
    blocks = list(report.blocks)
    at = next(i for i, b in enumerate(blocks) if isinstance(b, Text) and b.text == comment)
    (button,) = blocks[at + 1].buttons
    assert button.action == "reply.start" and button.label == t("replies.reply", "en")
    return button.value


async def test_a_reply_reaches_only_its_author_and_the_answer_comes_back_unnamed_by_batch(make_ctx):
    ctx = await make_ctx(CONFIG)
    inbox = await closed_round_with_comments(ctx)
    comment_id = await reply_button(ctx, "lead", "words of carlos")
    form = (await press(ctx, "lead", "reply.start", comment_id)).form
    assert form is not None and form.action == "reply.submit"
    done = await press(ctx, "lead", form.action, form.value, {"text": "Thanks, can you tell me more?"})
    assert "next batch" in plain_text(done.reply)

    assert await send_relays(ctx) == 0  # the batch has not ended: nothing goes early
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    assert await send_relays(ctx) == 1
    assert await send_relays(ctx) == 0  # never twice
    assert [u for u, _ in inbox.sent] == ["carlos"]  # nobody else got a thing
    (dm,) = inbox.to("carlos")
    assert "Thanks, can you tell me more?" in plain_text(dm) and "words of carlos" in plain_text(dm)
    answer, stop = buttons(dm)
    assert (answer.action, stop.action) == ("reply.answer", "reply.stop")

    refused = await press(ctx, "bea", "reply.answer.submit", answer.value, {"text": "I am not carlos"})
    assert t("replies.not_yours", "en") in plain_text(refused.reply)

    form = (await press(ctx, "carlos", answer.action, answer.value)).form
    ctx.clock.move(minutes=3)
    await press(ctx, "carlos", form.action, form.value, {"text": "The on-call rota is too long"})
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    assert await send_relays(ctx) == 1
    (back,) = inbox.to("lead")
    text = plain_text(back)
    assert "A member of soporte" in text and "The on-call rota is too long" in text
    assert "carlos" not in text.replace("words of carlos", "") and ":" not in back.blocks[0].text  # no name, no time
    (again,) = buttons(back)
    assert again.value == comment_id  # the leader's side only ever holds the comment's random id
    async with ctx.store.session() as session:
        dues = {m.due_at for m in (await session.exec(select(ReplyMessage))).all()}
    assert all(d.minute % 15 == 0 and d.second == 0 and d.microsecond == 0 for d in dues)


async def test_after_the_author_stops_further_replies_are_refused_politely(make_ctx):
    ctx = await make_ctx(CONFIG)
    inbox = await closed_round_with_comments(ctx)
    comment_id = await reply_button(ctx, "lead", "words of eva")
    await press(ctx, "lead", "reply.submit", comment_id, {"text": "first"})
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    await send_relays(ctx)
    (dm,) = inbox.to("eva")
    _, stop = buttons(dm)
    done = await press(ctx, "eva", stop.action, stop.value)
    assert t("replies.stop.done", "en") in plain_text(done.reply)

    refused = await press(ctx, "lead", "reply.submit", comment_id, {"text": "please?"})
    assert t("replies.stopped", "en") in plain_text(refused.reply)
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    await send_relays(ctx)
    assert len(inbox.to("eva")) == 1  # nothing more reached her
    (told,) = inbox.to("lead")
    assert t("replies.to_leader.stopped", "en", team="soporte") in plain_text(told)
    late = await press(ctx, "eva", "reply.answer.submit", stop.value, {"text": "one more"})
    assert t("replies.over", "en") in plain_text(late.reply)


async def test_only_a_leader_of_the_comments_team_may_reply(make_ctx):
    ctx = await make_ctx(CONFIG)
    await closed_round_with_comments(ctx)
    comment_id = await reply_button(ctx, "lead", "words of ana")
    for user in ("other", "bea"):
        refused = await press(ctx, user, "reply.submit", comment_id, {"text": "hello"})
        assert t("replies.not_allowed", "en") in plain_text(refused.reply)
    assert t("replies.queued", "en", minutes=15) in plain_text(
        (await press(ctx, "boss", "reply.submit", comment_id, {"text": "global leader"})).reply)
    empty = await press(ctx, "lead", "reply.submit", comment_id, {"text": "   "})
    assert t("replies.empty", "en") in plain_text(empty.reply)
    bad = await press(ctx, "lead", "reply.submit", "not-an-id", {"text": "x"})
    assert t("action.malformed", "en") in plain_text(bad.reply)
    async with ctx.store.session() as session:
        threads = (await session.exec(select(ReplyThread))).all()
    assert [th.leader for th in threads] == ["console:boss"]


async def test_a_round_under_the_threshold_has_no_reply_to_give(make_ctx):
    ctx = await make_ctx(CONFIG)
    ctx.messengers["console"] = Inbox()
    opened = await open_round(ctx, team_name="soporte")
    for user in MEMBERS[:3]:
        await press(ctx, user, "checkin.mood", f"{opened.round_id}:3")
        await press(ctx, user, "checkin.comment.submit", str(opened.round_id), {"comment": f"few {user}"})
    await close_team_round(ctx, team_name="soporte")
    async with ctx.store.session() as session:
        comment_id = (await session.exec(select(RoundComment.id))).first()
    refused = await press(ctx, "lead", "reply.submit", comment_id, {"text": "who are you?"})
    assert t("replies.unknown", "en") in plain_text(refused.reply)


async def test_forget_closes_the_authors_threads_and_keeps_their_words(make_ctx):
    ctx = await make_ctx(CONFIG)
    inbox = await closed_round_with_comments(ctx)
    comment_id = await reply_button(ctx, "lead", "words of dani")
    await press(ctx, "lead", "reply.submit", comment_id, {"text": "first"})
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    await send_relays(ctx)
    (dm,) = inbox.to("dani")
    answer, _ = buttons(dm)
    await press(ctx, "dani", "reply.answer.submit", answer.value, {"text": "my own words"})
    await press(ctx, "lead", "reply.submit", comment_id, {"text": "second"})
    await forget(ctx, person("dani"))
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    assert await send_relays(ctx) == 0  # neither queued relay goes after forget
    refused = await press(ctx, "lead", "reply.submit", comment_id, {"text": "third"})
    assert t("replies.unreachable", "en") in plain_text(refused.reply)
    async with ctx.store.session() as session:
        (thread,) = (await session.exec(select(ReplyThread))).all()
        texts = {m.text for m in (await session.exec(select(ReplyMessage))).all()}
        keys = (await session.exec(select(RoundComment.respondent_key))).all()
    assert thread.respondent_key is None and thread.closed_at is not None
    assert "my own words" in texts  # kept, like the comment it answers, linked to nobody
    assert sum(k is None for k in keys) == 1  # dani's comment can no longer be answered


def test_relay_batch_minutes_defaults_to_15_and_a_value_out_of_range_names_the_file_and_key():
    import pytest

    from handlers.config import parse_config
    from handlers.errors import ConfigError

    assert parse_config({}).pulse.relay_batch_minutes == 15
    assert parse_config({"pulse": {"relay_batch_minutes": 60}}).pulse.relay_batch_minutes == 60
    for wrong in (0, 61):
        with pytest.raises(ConfigError) as error:
            parse_config({"pulse": {"relay_batch_minutes": wrong}}, "conf/pulse.toml")
        assert str(error.value).startswith(f"conf/pulse.toml: pulse.relay_batch_minutes = {wrong}:")


def test_a_batch_ends_on_a_multiple_of_its_minutes_and_never_at_once():
    from datetime import UTC, datetime

    assert batch_end(datetime(2026, 11, 23, 9, 7, 31, tzinfo=UTC), 15) == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert batch_end(datetime(2026, 11, 23, 9, 15, tzinfo=UTC), 15) == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert batch_end(datetime(2026, 11, 23, 9, 15, 59, tzinfo=UTC), 1) == datetime(2026, 11, 23, 9, 16, tzinfo=UTC)


async def test_after_the_secret_is_rotated_the_author_is_still_the_one_reached(make_ctx):
    from handlers.secret import check_secret, rotate_secret

    ctx = await make_ctx(CONFIG)
    inbox = await closed_round_with_comments(ctx)
    await check_secret(ctx.store, ctx.secret)
    comment_id = await reply_button(ctx, "lead", "words of fede")
    await press(ctx, "lead", "reply.submit", comment_id, {"text": "before the rotation"})
    new = b"another-secret-0123456789abcdefXYZ"
    await rotate_secret(ctx.store, old=ctx.secret, new=new)
    ctx.secret = new
    await press(ctx, "lead", "reply.submit", comment_id, {"text": "after the rotation"})
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    assert await send_relays(ctx) == 2
    assert [u for u, _ in inbox.sent] == ["fede", "fede"]


async def test_a_double_sent_reply_reaches_the_author_once(make_ctx):
    ctx = await make_ctx(CONFIG)
    inbox = await closed_round_with_comments(ctx)
    comment_id = await reply_button(ctx, "lead", "words of bea")
    for _ in range(2):
        await press(ctx, "lead", "reply.submit", comment_id, {"text": "same words"})
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    assert await send_relays(ctx) == 1
    assert len(inbox.to("bea")) == 1


class LookingInbox(Inbox):
    """A platform that can look a direct message up by its delivery key (as Slack's history can)."""

    can_look = True
    keys: list[tuple[str, str]] = []

    async def find_direct(self, *, to, delivery_key):
        return Sent(to.user_id, delivery_key) if (to.user_id, delivery_key) in self.keys else None

    async def send_direct(self, *, to, message, delivery_key):
        self.keys = [*getattr(self, "keys", []), (to.user_id, delivery_key)]
        return await super().send_direct(to=to, message=message, delivery_key=delivery_key)


async def queue_reply_to_carlos(ctx) -> str:
    comment_id = await reply_button(ctx, "lead", "words of carlos")
    form = (await press(ctx, "lead", "reply.start", comment_id)).form
    await press(ctx, "lead", form.action, form.value, {"text": "Can you tell me more?"})
    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    async with ctx.store.session() as session:
        (row,) = (await session.exec(select(ReplyMessage))).all()
        return row.id


async def crash_after_claiming(ctx, message_id: str) -> None:
    """What a clock holder that died between its claim and the platform's answer leaves behind."""
    from storage.queries import replies as rows

    async with ctx.store.session() as session:
        assert await rows.claim_message(session, message_id=message_id)
        await session.commit()


async def status_of(ctx, message_id: str) -> str:
    async with ctx.store.session() as session:
        return (await session.get(ReplyMessage, message_id)).status


async def test_a_relay_a_crash_left_half_sent_is_sent_once_by_the_next_clock_holder(make_ctx):
    from schedules.relays import recover_relays

    ctx = await make_ctx(CONFIG)
    await closed_round_with_comments(ctx)
    inbox = ctx.messengers["console"] = LookingInbox()
    message_id = await queue_reply_to_carlos(ctx)
    await crash_after_claiming(ctx, message_id)
    assert await send_relays(ctx) == 0  # nobody sends a claimed row behind its owner's back

    assert await recover_relays(ctx) == 1  # the next holder starts
    assert await send_relays(ctx) == 1
    assert await send_relays(ctx) == 0
    assert [u for u, _ in inbox.sent] == ["carlos"] and await status_of(ctx, message_id) == "sent"


async def test_a_half_sent_relay_that_did_land_is_found_and_not_sent_again(make_ctx):
    from schedules.relays import recover_relays

    ctx = await make_ctx(CONFIG)
    await closed_round_with_comments(ctx)
    inbox = ctx.messengers["console"] = LookingInbox()
    message_id = await queue_reply_to_carlos(ctx)
    assert await send_relays(ctx) == 1  # it went out, but say the process died before recording it
    async with ctx.store.session() as session:
        from storage.queries import replies as rows

        await rows.set_status(session, message_id=message_id, status="sending")
        await session.commit()

    await recover_relays(ctx)
    assert await send_relays(ctx) == 1  # found at the platform: recorded as sent
    assert [u for u, _ in inbox.sent] == ["carlos"]  # once, not twice
    assert await status_of(ctx, message_id) == "sent"


async def test_where_the_platform_cannot_look_a_half_sent_relay_is_never_sent_twice(make_ctx):
    from schedules.relays import recover_relays

    ctx = await make_ctx(CONFIG)
    inbox = await closed_round_with_comments(ctx)  # Inbox: can_look is False, like Teams
    message_id = await queue_reply_to_carlos(ctx)
    await crash_after_claiming(ctx, message_id)
    await recover_relays(ctx)
    assert await send_relays(ctx) == 0
    assert inbox.to("carlos") == [] and await status_of(ctx, message_id) == "failed"
