"""A leader's commitment after each pulse, in the core: only the team's own leaders are invited,
the first to commit wins, every member reads it once in their language, the next round asks the
follow-up (released and suppressed like every answer), and the report shows both side by side."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from handlers.checkins import delivery_message, open_round
from handlers.closing import close_team_round
from handlers.drivers import BANK
from handlers.inputs import Command, Tap, handle
from handlers.messages import Actions, Facts, Message, Outcome, Question, plain_text
from handlers.ports import Actor, Sent, Where
from handlers.report_render import report_csv, report_json, report_text
from handlers.reports import build_report
from schedules.commitment_notes import send_commitment_notes
from storage.models import Delivery
from tests.clock import FixedClock

DM = Where(conversation="dm", kind="dm")
MEMBERS = ["ana", "bea", "carlos", "dani", "eva", "fede"]
CONFIG: dict[str, Any] = {
    "pulse": {"min_group_size": 5, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["boss"]},
    "teams": [{"name": "soporte", "leaders": ["lead", "lead2"], "locale": "en", "members": MEMBERS},
              {"name": "ventas", "leaders": ["other"], "locale": "en", "members": ["zoe", "yan", "xia"]}],
}
SENTENCE = "We will thank each other's work in Monday's meeting <!channel> — *really*"


class Inbox:
    """The platform's side: direct messages and channel posts, as they arrived."""

    platform = "console"
    can_look = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []
        self.posts: list[tuple[str, Message]] = []

    async def send_direct(self, *, to, message, delivery_key):
        self.sent.append((to.user_id, message))
        return Sent(to.user_id, delivery_key)

    async def post(self, *, conversation, message, thread_ref=None):
        self.posts.append((conversation, message))
        return Sent(conversation, str(len(self.posts)))

    def to(self, user: str) -> list[Message]:
        return [m for u, m in self.sent if u == user]


def person(user: str) -> Actor:
    return Actor(platform="console", user_id=user, name=user)


async def press(ctx, user: str, action: str, value: str, fields: dict[str, str] | None = None) -> Outcome:
    outcome = await handle(ctx, person(user), DM, Tap.parse(action, value, fields))
    assert outcome is not None
    return outcome


def said(outcome: Outcome) -> str:
    return "\n".join(plain_text(m) for m in (outcome.reply, outcome.update) if m is not None)


async def a_round(ctx, answering: list[str], *, focus: list[str] = ()) -> int:
    """Open this week's round, let `answering` answer (and `focus` the follow-up), close it."""
    opened = await open_round(ctx, team_name="soporte")
    for n, user in enumerate(answering):
        await press(ctx, user, "checkin.mood", f"{opened.round_id}:{1 + n % 5}")
        await press(ctx, user, "checkin.driver", f"{opened.round_id}:{1 + (n + 2) % 5}")
    for n, user in enumerate(focus):
        await press(ctx, user, "checkin.focus", f"{opened.round_id}:{2 + n % 4}")
    await close_team_round(ctx, team_name="soporte")
    return opened.round_id


def next_week(ctx) -> None:
    ctx.clock = FixedClock(ctx.clock.now() + timedelta(days=7))


async def world(make_ctx, config: dict[str, Any] = CONFIG) -> tuple[Any, Inbox]:
    ctx = await make_ctx(config)
    inbox = Inbox()
    ctx.messengers["console"] = inbox
    # bea reads Spanish: her own choice, not the team's.
    await handle(ctx, person("bea"), DM, Command.parse("pulse", "lang es"))
    return ctx, inbox


def buttons(message: Message) -> list:
    return [b for block in message.blocks if isinstance(block, Actions) for b in block.buttons]


async def test_a_round_closed_with_figures_invites_only_the_teams_own_leaders_once(make_ctx):
    ctx, inbox = await world(make_ctx)
    rid = await a_round(ctx, MEMBERS)
    assert await send_commitment_notes(ctx) == 2
    assert await send_commitment_notes(ctx) == 0  # nothing goes twice
    assert sorted(u for u, _ in inbox.sent) == ["lead", "lead2"]  # not boss, not other, no member
    (invite,) = inbox.to("lead")
    text = plain_text(invite)
    assert "The pulse of soporte for 2026-W48 is closed" in text
    assert "Pick one focus and tell the team what you will do." in text
    facts = dict(next(b for b in invite.blocks if isinstance(b, Facts)).items)
    assert facts["Participation"].startswith("100")
    assert {"Mood (1–5)", "Lowest driver"} <= set(facts)
    assert [(b.action, b.value, b.label) for b in buttons(invite)] == [
        ("commit.start", str(rid), "Choose a focus"), ("commit.skip", str(rid), "Skip this time")]


async def test_a_round_with_too_few_answers_invites_nobody(make_ctx):
    ctx, inbox = await world(make_ctx)
    await a_round(ctx, MEMBERS[:4])
    assert await send_commitment_notes(ctx) == 0 and inbox.sent == []


async def test_the_first_leader_commits_each_member_reads_it_once_in_their_language(make_ctx):
    ctx, inbox = await world(make_ctx)
    rid = await a_round(ctx, MEMBERS)
    await send_commitment_notes(ctx)
    inbox.sent.clear()

    form = (await press(ctx, "lead", "commit.start", str(rid))).form
    assert form is not None and form.action == "commit.submit"
    driver, sentence = form.fields
    assert driver.kind == "select" and [o.value for o in driver.options] == list(BANK)
    assert sentence.kind == "multiline" and sentence.required
    done = await press(ctx, "lead", form.action, form.value, {"driver": "recognition", "sentence": SENTENCE})
    assert "soporte's focus is Recognition" in said(done)

    late = await press(ctx, "lead2", "commit.submit", str(rid), {"driver": "workload", "sentence": "Fewer meetings"})
    assert said(late) == f"soporte's commitment was already set: Recognition — “{SENTENCE}”"
    assert "already set" in said(await press(ctx, "lead2", "commit.start", str(rid)))  # the form is refused too
    assert "already set" in said(await press(ctx, "lead2", "commit.skip", str(rid)))

    assert await send_commitment_notes(ctx) == len(MEMBERS) + 1
    assert await send_commitment_notes(ctx) == 0
    for user in MEMBERS:
        (post,) = inbox.to(user)
        assert SENTENCE in [b.text for b in post.blocks if getattr(b, "emphasis", "") == "quote"]
    assert "el foco de tu líder tras el último pulso (2026-W48): Reconocimiento" in plain_text(inbox.to("bea")[0])
    assert "your leader's focus after the last pulse (2026-W48): Recognition" in plain_text(inbox.to("ana")[0])
    (told,) = inbox.to("lead2")
    assert plain_text(told) == f"soporte's commitment was already set: Recognition — “{SENTENCE}”"
    assert inbox.to("lead") == [] and inbox.to("boss") == [] and inbox.to("zoe") == [] and inbox.posts == []


async def test_a_team_with_a_channel_gets_one_post_there_and_no_dms(make_ctx):
    config = {**CONFIG, "teams": [{**CONFIG["teams"][0], "slack_channel": "C0SUPPORT"}]}
    ctx, inbox = await world(make_ctx, config)
    channel = Inbox()
    ctx.messengers["slack"] = channel
    rid = await a_round(ctx, MEMBERS)
    await send_commitment_notes(ctx)
    await press(ctx, "lead", "commit.submit", str(rid), {"driver": "clarity", "sentence": "Goals on the wall"})
    inbox.sent.clear()
    await send_commitment_notes(ctx)
    await send_commitment_notes(ctx)
    (where, post), = channel.posts
    assert where == "C0SUPPORT" and "Clarity" in plain_text(post) and "Goals on the wall" in plain_text(post)
    assert [u for u, _ in inbox.sent] == ["lead2"]  # only the other leader is told; members read the channel


async def test_only_the_teams_own_leaders_may_commit(make_ctx):
    ctx, _ = await world(make_ctx)
    rid = await a_round(ctx, MEMBERS)
    for user in ("boss", "other", "ana"):
        refused = await press(ctx, user, "commit.submit", str(rid), {"driver": "clarity", "sentence": "x"})
        assert "Only a leader of soporte" in said(refused)
    assert "Only a leader" in said(await press(ctx, "ana", "commit.start", str(rid)))
    bad = await press(ctx, "lead", "commit.submit", str(rid), {"driver": "nonsense", "sentence": "x"})
    assert "Choose a focus from the list" in said(bad)
    empty = await press(ctx, "lead", "commit.submit", str(rid), {"driver": "clarity", "sentence": "  "})
    assert "nothing was posted" in said(empty)


async def test_next_round_asks_the_follow_up_and_the_report_shows_both_side_by_side(make_ctx):
    ctx, inbox = await world(make_ctx)
    first = await a_round(ctx, MEMBERS)
    await press(ctx, "lead", "commit.submit", str(first), {"driver": "recognition", "sentence": SENTENCE})

    next_week(ctx)
    opened = await open_round(ctx, team_name="soporte")
    async with ctx.store.session() as session:
        from sqlmodel import select

        deliveries = {d.member_id: d.id for d in (await session.exec(select(Delivery).where(
            Delivery.round_id == opened.round_id))).all()}
    prompts = []
    for delivery_id in deliveries.values():
        _, message, _ = await delivery_message(ctx, delivery_id=delivery_id)
        prompts.append([q.prompt for q in message.blocks if isinstance(q, Question)][-1])
    assert "Since the last pulse, did things improve on Recognition?" in prompts
    assert "Desde el último pulso, ¿mejoraron las cosas en Reconocimiento?" in prompts  # bea's
    for n, user in enumerate(MEMBERS):
        await press(ctx, user, "checkin.mood", f"{opened.round_id}:{1 + n % 5}")
    for n, user in enumerate(MEMBERS[:4]):  # four of six answer the follow-up: below the min group size
        answered = await press(ctx, user, "checkin.focus", f"{opened.round_id}:{2 + n % 4}")
    assert "since the last pulse: Clearly" in said(answered)
    from handlers.privacy import pulse_me

    assert "since the last pulse: 5/5" in plain_text((await pulse_me(ctx, person(MEMBERS[3]))).reply)  # her own

    # Phased release: while the round is open the follow-up has no figure.
    data = report_json(await build_report(ctx, teams=["soporte"]))["teams"][0]["commitments"]
    assert data == [{"period": "2026-W48", "status": "set", "focus": "recognition", "sentence": SENTENCE,
                     "followup": {"period": "2026-W49", "suppressed": True, "pending": True,
                                  "results_at": data[0]["followup"]["results_at"]}}]
    await close_team_round(ctx, team_name="soporte")
    second = opened.round_id
    await press(ctx, "lead2", "commit.submit", str(second), {"driver": "workload", "sentence": "Fewer meetings"})

    next_week(ctx)
    third = await a_round(ctx, MEMBERS, focus=MEMBERS[:5])  # five answer it: shown
    await press(ctx, "lead", "commit.skip", str(third))

    report = await build_report(ctx, teams=["soporte"])
    data = report_json(report)["teams"][0]["commitments"]
    assert [(c["period"], c["status"], c["focus"]) for c in data] == [
        ("2026-W48", "set", "recognition"), ("2026-W49", "set", "workload"), ("2026-W50", "skipped", None)]
    assert data[0]["followup"] == {"period": "2026-W49", "suppressed": True}  # 4 < 5
    assert data[1]["followup"] == {"period": "2026-W50", "suppressed": False, "mean": 3.2, "respondents": 5}
    assert data[2]["followup"] is None
    assert list(report_json(report)["teams"][0])[-1] == "commitments"  # new keys come last

    text = report_text(report, "en")
    assert "Leaders' commitments" in text
    assert (f"2026-W48: Recognition — “{SENTENCE}” · did things improve? (2026-W49): "
            "hidden: fewer than 5 people answered") in text
    assert "2026-W49: Workload — “Fewer meetings” · did things improve? (2026-W50): 3.2" in text
    assert "2026-W50: no commitment (skipped)" in text

    rows = list(csv.reader(io.StringIO(report_csv(report))))
    mine = [r for r in rows if r[2].startswith("commitment_")]
    assert ["soporte", "2026-W48", "commitment_focus", "recognition", "false"] in mine
    assert ["soporte", "2026-W48", "commitment_followup_score", "", "true"] in mine
    assert ["soporte", "2026-W49", "commitment_followup_score", "3.2", "false"] in mine
    assert ["soporte", "2026-W50", "commitment_status", "skipped", "false"] in mine
    assert rows.index(mine[0]) > max(i for i, r in enumerate(rows) if not r[2].startswith("commitment_"))


async def test_a_round_without_a_commitment_asks_no_follow_up(make_ctx):
    ctx, _ = await world(make_ctx)
    first = await a_round(ctx, MEMBERS)
    await press(ctx, "lead", "commit.skip", str(first))
    next_week(ctx)
    opened = await open_round(ctx, team_name="soporte")
    refused = await press(ctx, "ana", "checkin.focus", f"{opened.round_id}:4")
    assert "no follow-up question" in said(refused)


async def test_team_pulse_commit_opens_the_form_again_until_a_commitment_is_set(make_ctx):
    ctx, _ = await world(make_ctx)
    rid = await a_round(ctx, MEMBERS)
    skipped = await press(ctx, "lead", "commit.skip", str(rid))
    assert "/team-pulse commit" in said(skipped)
    assert "no commitment (skipped)" in report_text(await build_report(ctx, teams=["soporte"]), "en")

    outcome = await handle(ctx, person("lead2"), DM, Command.parse("team-pulse", "commit"))
    assert outcome is not None and outcome.form is not None and outcome.form.value == str(rid)
    await press(ctx, "lead2", "commit.submit", str(rid), {"driver": "growth", "sentence": "A course each"})
    again = await handle(ctx, person("lead"), DM, Command.parse("team-pulse", "compromiso"))
    assert again is not None and "already set: Growth" in said(again)
    for user in ("ana", "boss"):
        refused = await handle(ctx, person(user), DM, Command.parse("team-pulse", "commit"))
        assert refused is not None and refused.form is None and "Only a leader" in said(refused)


async def test_two_leaders_committing_at_once_cannot_both_win(make_ctx):
    import asyncio

    ctx, inbox = await world(make_ctx)
    rid = await a_round(ctx, MEMBERS)
    outcomes = await asyncio.gather(
        press(ctx, "lead", "commit.submit", str(rid), {"driver": "clarity", "sentence": "Goals first"}),
        press(ctx, "lead2", "commit.submit", str(rid), {"driver": "workload", "sentence": "Fewer meetings"}))
    texts = sorted(said(o) for o in outcomes)
    assert len([x for x in texts if x.startswith("Done")]) == 1
    assert len([x for x in texts if "already set" in x]) == 1
    await send_commitment_notes(ctx)
    assert all(len(inbox.to(user)) == 1 for user in MEMBERS)  # one post each, whoever won


async def test_a_commitment_of_one_team_is_never_followed_up_in_another_teams_round(make_ctx):
    ctx, _ = await world(make_ctx)
    first = await a_round(ctx, MEMBERS)
    await press(ctx, "lead", "commit.submit", str(first), {"driver": "recognition", "sentence": SENTENCE})
    next_week(ctx)
    ours = await open_round(ctx, team_name="soporte")
    theirs = await open_round(ctx, team_name="ventas")  # ventas' first round: it follows nothing up
    tapped = await press(ctx, "zoe", "checkin.mood", f"{theirs.round_id}:4")
    assert "Recognition" not in said(tapped)
    refused = await press(ctx, "zoe", "checkin.focus", f"{theirs.round_id}:4")
    assert "no follow-up question" in said(refused)
    kept = await press(ctx, "ana", "checkin.focus", f"{ours.round_id}:4")
    assert "no follow-up question" not in said(kept) and "Recognition" in said(kept)
