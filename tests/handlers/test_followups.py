"""Follow-ups of the empty chair, in the core: every "we don't know" gets an owner, a due date, two
reminders at most on the clock, "I'll find out", a resolution that redraws the chair's card and
answers in its thread, the list commands, the report's figures, and `forget` handing it back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.inputs import Command, Tap, handle
from handlers.messages import Actions, plain_text
from handlers.periods import as_utc
from handlers.ports import Actor, Where
from handlers.privacy import forget
from handlers.report_render import report_csv, report_json, report_text
from handlers.reports import build_report
from schedules.followups import send_followup_reminders
from storage.models import Followup, Impact
from tests.schedules.support import Inbox

ROOM = Where(conversation="C0ROOM", kind="channel")
DM = Where(kind="dm")
CONFIG = {
    "pulse": {"min_group_size": 3, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["boss"]},
    "teams": [{"name": "soporte", "slack_channel": "C0ROOM", "leaders": ["lead"],
               "members": ["ana", "bea", "carlos"]}],
}


def who(user: str) -> Actor:
    return Actor(platform="console", user_id=user)


@pytest.fixture
async def ctx(make_ctx):
    ctx = await make_ctx(CONFIG)
    ctx.messengers["console"] = Inbox(ctx.clock)
    return ctx


async def chair_with_unknown(ctx, user: str = "ana", who_: str = "SMB clients") -> tuple[int, int]:
    """A chair in the room (its card remembered) with one "we don't know" by `user`: (chair, follow-up)."""
    opened = await handle(ctx, who("bea"), ROOM, Command.parse("empty-chair", "New pricing"))
    chair_id = opened.posts[0].chair_id
    from handlers.chairs import remember_card

    await remember_card(ctx, chair_id=chair_id, conversation="C0ROOM", ref="card-1")
    await handle(ctx, who(user), ROOM, Tap.parse("chair.impact.submit", str(chair_id),
                                                 {"effect": "unknown", "who": who_, "note": "renewals?"}))
    async with ctx.store.session() as session:
        followup = (await session.exec(select(Followup).order_by(Followup.id.desc()))).first()
    return chair_id, followup.id


async def followup(ctx, fid: int) -> Followup:
    async with ctx.store.session() as session:
        return await session.get(Followup, fid)


def buttons(outcome_message) -> list:
    return [b for block in outcome_message.blocks if isinstance(block, Actions) for b in block.buttons]


async def test_a_we_dont_know_impact_is_owned_by_its_author_and_due_in_followup_days(ctx):
    _, fid = await chair_with_unknown(ctx)
    f = await followup(ctx, fid)
    assert f.owner == "console:ana" and f.resolved_at is None
    assert f.due_at - f.owned_at == timedelta(days=7)
    chair = (await handle(ctx, who("bea"), ROOM, Command.parse("empty-chair", "other"))).posts[0].chair_id
    await handle(ctx, who("bea"), ROOM, Tap.parse("chair.impact.submit", str(chair), {"effect": "better"}))
    async with ctx.store.session() as session:
        assert len((await session.exec(select(Followup))).all()) == 1  # only "we don't know" becomes one


async def test_the_owner_is_reminded_when_due_once_more_after_the_interval_and_never_a_third_time(ctx):
    inbox: Inbox = ctx.messengers["console"]
    _, fid = await chair_with_unknown(ctx)
    ctx.clock.move(days=6, hours=23)
    assert await send_followup_reminders(ctx) == 0
    ctx.clock.move(hours=1)
    assert await send_followup_reminders(ctx) == 1
    assert await send_followup_reminders(ctx) == 0  # the same pass again sends nothing twice
    (first,) = inbox.of("ana")
    assert "A follow-up is due" in plain_text(first.message) and "SMB clients" in plain_text(first.message)
    assert [b.action for b in buttons(first.message)] == ["followup.resolve"]
    ctx.clock.move(days=7)
    assert await send_followup_reminders(ctx) == 1
    assert "last reminder" in plain_text(inbox.of("ana")[-1].message)
    ctx.clock.move(days=30)
    assert await send_followup_reminders(ctx) == 0  # no third
    assert len(inbox.of("ana")) == 2 and (await followup(ctx, fid)).reminders == 2


async def test_a_reminder_the_platform_refused_is_sent_by_the_next_pass(ctx):
    from handlers.ports import SendError

    inbox: Inbox = ctx.messengers["console"]
    await chair_with_unknown(ctx)
    ctx.clock.move(days=7)
    inbox.fail(SendError("ratelimited", transient=True, posted_nothing=True))
    assert await send_followup_reminders(ctx) == 0
    assert await send_followup_reminders(ctx) == 1
    assert len(inbox.of("ana")) == 1


async def test_ill_find_out_takes_it_over_and_only_its_owner_or_a_leader_resolves_it(ctx):
    chair_id, fid = await chair_with_unknown(ctx)
    refused = await handle(ctx, who("carlos"), ROOM, Tap.parse("followup.resolve", str(fid)))
    assert "I'll find out" in plain_text(refused.reply) and refused.form is None
    ctx.clock.move(days=2)
    taken = await handle(ctx, who("carlos"), ROOM, Tap.parse("followup.take", str(fid)))
    assert "It's yours now" in plain_text(taken.reply)
    f = await followup(ctx, fid)
    assert f.owner == "console:carlos" and as_utc(f.due_at) == ctx.clock.now() + timedelta(days=7) and f.reminders == 0
    assert (await handle(ctx, who("ana"), ROOM, Tap.parse("followup.resolve", str(fid)))).form is None

    form = (await handle(ctx, who("carlos"), DM, Tap.parse("followup.resolve", str(fid)))).form
    assert form is not None and [o.value for o in form.fields[0].options] == ["better", "worse", "no_change"]
    done = await handle(ctx, who("carlos"), DM, Tap.parse(form.action, form.value,
                                                          {"effect": "worse", "note": "Churn risk at renewal"}))
    assert "record is updated" in plain_text(done.reply)
    (edit,) = done.edits
    assert (edit.conversation, edit.ref) == ("C0ROOM", "card-1")
    card = plain_text(edit.message)
    assert "Worse for clients: 1" in card and "We don't know: 0" in card and "Churn risk at renewal" in card
    (post,) = done.posts
    assert (post.conversation, post.thread_ref) == ("C0ROOM", "card-1")  # the chair's thread, from a DM
    assert plain_text(post.message).startswith("Now we know: SMB clients · renewals?")
    async with ctx.store.session() as session:
        assert (await session.exec(select(Impact.effect))).all() == ["worse"]
    again = await handle(ctx, who("carlos"), DM, Tap.parse(form.action, form.value, {"effect": "better", "note": "x"}))
    assert "already resolved" in plain_text(again.reply) and not again.posts


async def test_a_resolution_needs_what_was_learned(ctx):
    _, fid = await chair_with_unknown(ctx)
    for fields in ({"effect": "unknown", "note": "still no idea"}, {"effect": "better", "note": "  "}):
        out = await handle(ctx, who("ana"), DM, Tap.parse("followup.resolve.submit", str(fid), fields))
        assert not out.posts and not out.edits
    assert (await followup(ctx, fid)).resolved_at is None


async def test_a_leader_may_resolve_one_of_their_team(ctx):
    _, fid = await chair_with_unknown(ctx)
    out = await handle(ctx, who("lead"), DM, Tap.parse("followup.resolve.submit", str(fid),
                                                       {"effect": "no_change", "note": "Checked with sales"}))
    assert out.posts and (await followup(ctx, fid)).resolved_at is not None


async def test_the_list_commands_show_the_open_ones_of_the_channel_the_teams_one_leads_and_ones_own(ctx):
    _, fid = await chair_with_unknown(ctx)
    for words in ("followups", "seguimientos"):
        room = plain_text((await handle(ctx, who("carlos"), ROOM, Command.parse("empty-chair", words))).reply)
        assert "Open follow-ups" in room and "SMB clients" in room and "a colleague" in room
        assert "ana" not in room  # an owner is never named in a list
    elsewhere = await handle(ctx, who("carlos"), Where(conversation="C0ELSE", kind="channel"),
                             Command.parse("empty-chair", "followups"))
    assert "SMB clients" not in plain_text(elsewhere.reply)
    for leader in ("lead", "boss"):
        led = plain_text((await handle(ctx, who(leader), DM, Command.parse("empty-chair", "followups"))).reply)
        assert "SMB clients" in led
    mine = await handle(ctx, who("ana"), DM, Command.parse("pulse", "me"))
    assert "Your open follow-ups" in plain_text(mine.reply) and "Owner: you" in plain_text(mine.reply)
    assert "Your open follow-ups" not in plain_text((await handle(ctx, who("bea"), DM, Command.parse("pulse", "me"))).reply)
    ctx.clock.move(days=8)
    assert "overdue since" in plain_text((await handle(ctx, who("lead"), DM, Command.parse("empty-chair", "followups"))).reply)
    await handle(ctx, who("ana"), DM, Tap.parse("followup.resolve.submit", str(fid), {"effect": "better", "note": "ok"}))
    assert "SMB clients" not in plain_text((await handle(ctx, who("ana"), DM, Command.parse("pulse", "me"))).reply)


async def test_forget_hands_a_persons_follow_ups_back_unowned_and_anyone_can_take_them(ctx):
    inbox: Inbox = ctx.messengers["console"]
    _, fid = await chair_with_unknown(ctx)
    await forget(ctx, who("ana"))
    assert (await followup(ctx, fid)).owner is None
    ctx.clock.move(days=8)
    assert await send_followup_reminders(ctx) == 0 and inbox.received == []
    listed = plain_text((await handle(ctx, who("bea"), ROOM, Command.parse("empty-chair", "followups"))).reply)
    assert "nobody yet" in listed
    await handle(ctx, who("bea"), ROOM, Tap.parse("followup.take", str(fid)))
    assert (await followup(ctx, fid)).owner == "console:bea"


async def test_the_report_counts_open_overdue_resolved_and_the_median_days_to_resolve(ctx):
    from handlers.checkins import open_round

    await open_round(ctx, team_name="soporte")
    _, first = await chair_with_unknown(ctx, who_="retail")
    _, second = await chair_with_unknown(ctx, who_="wholesale")
    await chair_with_unknown(ctx, who_="partners")
    ctx.clock.move(days=2)
    await handle(ctx, who("ana"), DM, Tap.parse("followup.resolve.submit", str(first), {"effect": "better", "note": "a"}))
    ctx.clock.move(days=3)
    await handle(ctx, who("ana"), DM, Tap.parse("followup.resolve.submit", str(second), {"effect": "worse", "note": "b"}))
    ctx.clock.move(days=3)  # the third is overdue now (8 days)
    report = await build_report(ctx, teams=["soporte"], weeks=4)
    data = report_json(report)["teams"][0]
    assert list(data)[-2:] == ["followups", "commitments"]  # appended after every key readers already parse
    assert data["followups"] == {"open": 1, "overdue": 1, "resolved": 2, "median_days_to_resolve": 3.5}
    assert sum(c["followups_resolved"] for c in data["client_connection"]) == 2
    rows = report_csv(report).splitlines()
    assert [r for r in rows if ",followups_" in r] == [
        "soporte,,followups_open,1,false", "soporte,,followups_overdue,1,false",
        "soporte,,followups_resolved,2,false", "soporte,,followups_median_days_to_resolve,3.5,false"]
    text = report_text(report, "en")
    assert "Follow-ups: 1 open (1 overdue) · 2 resolved · median time to resolve: 3.5 days" in text
    assert "1 abiertos (1 vencidos) · 2 resueltos" in report_text(report, "es")


async def test_the_weekly_digest_mentions_overdue_follow_ups_in_the_leaders_language(ctx):
    from schedules.digest import team_line

    await chair_with_unknown(ctx)
    await chair_with_unknown(ctx, who_="retail")
    report = await build_report(ctx, teams=["soporte"], weeks=5)
    assert "overdue" not in team_line(report.teams[0], "en")
    ctx.clock.move(days=8)
    report = await build_report(ctx, teams=["soporte"], weeks=5)
    assert "2 follow-ups overdue" in team_line(report.teams[0], "en")
    assert "2 seguimientos vencidos" in team_line(report.teams[0], "es")


def test_followup_days_defaults_to_7_and_a_bad_value_names_the_file_and_key():
    from handlers.config import parse_config
    from handlers.errors import ConfigError

    assert parse_config({}).pulse.followup_days == 7
    assert parse_config({"pulse": {"followup_days": 14}}).pulse.followup_days == 14
    for wrong in (0, 91, "soon"):
        with pytest.raises(ConfigError) as error:
            parse_config({"pulse": {"followup_days": wrong}}, "conf/pulse.toml")
        assert str(error.value).startswith(f"conf/pulse.toml: pulse.followup_days = {wrong!r}:")


async def test_trust_nothing_a_leader_reads_of_follow_ups_names_a_member_or_a_moment(ctx):
    """The report's follow-up figures and a leader's list carry counts, dates and the chair's own
    words: no member id or name, no time of day."""
    _, fid = await chair_with_unknown(ctx)
    ctx.clock.move(days=1, hours=3, minutes=17)
    await handle(ctx, who("carlos"), ROOM, Tap.parse("followup.take", str(fid)))
    await chair_with_unknown(ctx, who_="retail")
    ctx.clock.move(days=9)
    report = await build_report(ctx, teams=["soporte"], weeks=4)
    seen = [str(report_json(report)["teams"][0]["followups"]), report_csv(report), report_text(report, "en"),
            plain_text((await handle(ctx, who("lead"), DM, Command.parse("empty-chair", "followups"))).reply)]
    for text in seen:
        for name in ("ana", "carlos", "console:"):
            assert name not in text, (name, text)
        assert ":17" not in text  # the take-over's time of day is nowhere
