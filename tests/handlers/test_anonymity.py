"""Attacks on anonymity, reproduced: a leader polling an open round, a copy of the store, a `forget`.

Each test is an attack that worked before phased release, unlinkable answers and frozen history.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import timedelta
from typing import Any

from sqlalchemy import MetaData, select
from sqlmodel import select as sm_select

from handlers.checkins import open_round
from handlers.closing import close_team_round
from handlers.inputs import Command, Tap, handle
from handlers.messages import plain_text
from handlers.ports import Actor, Where
from handlers.privacy import forget, pulse_me
from handlers.report_render import report_csv, report_json, report_text
from handlers.reports import build_report
from handlers.retention import purge_expired
from storage.models import Delivery, Response, RoundComment
from tests.clock import FixedClock

DM = Where(conversation="dm", kind="dm")
MEMBERS = ["ana", "bea", "carlos", "dani", "eva", "fede", "gala", "hugo", "ines", "juan", "kike", "lola"]
CONFIG: dict[str, Any] = {
    "pulse": {"min_group_size": 5, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["boss"]},
    "teams": [{"name": "soporte", "leaders": ["lead"], "locale": "en", "members": MEMBERS}],
}
# Only these fields of a report may move while a round is open: they count who took part.
PARTICIPATION = {"delivered", "answered", "participation", "participation_delta", "respondents", "generated_at"}


def person(user: str) -> Actor:
    return Actor(platform="console", user_id=user, name=user)


async def tap(ctx, user: str, round_id: int, mood: int, comment: str | None = None):
    outcome = await handle(ctx, person(user), DM, Tap.parse("checkin.mood", f"{round_id}:{mood}"))
    if comment is not None:
        await handle(ctx, person(user), DM, Tap.parse("checkin.comment.submit", str(round_id), {"comment": comment}))
    return outcome


def _without_participation(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_participation(v) for k, v in data.items() if k not in PARTICIPATION}
    if isinstance(data, list):
        return [_without_participation(v) for v in data]
    return data


async def _leader_view(ctx) -> tuple[Any, str]:
    report = report_json(await build_report(ctx, teams=["soporte"]))
    chat = plain_text((await handle(ctx, person("lead"), DM, Command.parse("team-pulse", ""))).reply)
    return report, chat


async def test_leader_polling_an_open_round_learns_only_participation_until_it_closes(make_ctx):
    ctx = await make_ctx(CONFIG)
    opened = await open_round(ctx, team_name="soporte")
    first, _ = await _leader_view(ctx)
    answered = []
    for i, (user, mood) in enumerate(zip(MEMBERS[:6], [1, 5, 2, 4, 3, 5], strict=True)):
        await tap(ctx, user, opened.round_id, mood, comment=f"comment number {i}")
        answered.append(user)
        report, chat = await _leader_view(ctx)
        period = report["teams"][0]["periods"][-1]
        assert period["answered"] == len(answered) and period["open"] is True
        assert period["mood"] == first["teams"][0]["periods"][-1]["mood"]  # pending, no number
        assert _without_participation(report) == _without_participation(first)
        assert "comment number" not in chat and "results when the round closes" in chat
    # A changed answer moves nothing a leader can see.
    await tap(ctx, "ana", opened.round_id, 5)
    report, chat = await _leader_view(ctx)
    assert _without_participation(report) == _without_participation(first)

    closed = await close_team_round(ctx, team_name="soporte")
    assert [c.answered for c in closed] == [6]
    report, chat = await _leader_view(ctx)
    mood = report["teams"][0]["periods"][-1]["mood"]
    assert mood["suppressed"] is False and mood["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 3}
    assert sorted(report["teams"][0]["comments"]) == [f"comment number {i}" for i in range(6)]
    refused = await tap(ctx, "gala", opened.round_id, 2)
    assert "closed" in plain_text(refused.reply).lower()
    assert await close_team_round(ctx, team_name="soporte") == []  # twice changes nothing


async def _rows(ctx) -> dict[str, list[dict[str, Any]]]:
    meta = MetaData()
    async with ctx.store.engine.connect() as conn:
        await conn.run_sync(meta.reflect)
        out = {}
        for name, table in meta.tables.items():
            if name == "alembic_version":
                continue
            out[name] = [dict(r._mapping) for r in (await conn.execute(select(table))).all()]
    return out


async def test_a_copy_of_the_store_cannot_link_an_answer_to_a_member_or_a_moment(make_ctx, db_url):
    ctx = await make_ctx(CONFIG)
    opened = await open_round(ctx, team_name="soporte")
    before = await _rows(ctx)
    order = random.Random(7).sample(MEMBERS, len(MEMBERS))
    for n, user in enumerate(order):
        ctx.clock = FixedClock(ctx.clock.now() + timedelta(minutes=7 * n + 1))  # answers minutes apart
        await tap(ctx, user, opened.round_id, 1 + n % 5, comment=f"note {user}")
    after = await _rows(ctx)

    assert after["delivery"] == before["delivery"]  # a delivery does not change when its member answers
    assert after["member"] == before["member"]  # nor does the member's row (no write beside an answer)
    responses = after["response"]
    assert len(responses) == len(MEMBERS)
    allowed = {"round_id", "mood", "driver", "driver_score", "enps", "comment", "focus_score"}
    assert set(responses[0]) - allowed == {"id", "respondent_key"}  # no time column at all
    elsewhere = {repr(v) for name, rows in after.items() if name != "response" for row in rows for v in row.values()}
    for row in responses:
        for column in set(row) - allowed:
            assert repr(row[column]) not in elsewhere, column
    # Ids follow neither answer order nor any order: (the odds of a random match are 1 in 12!).
    by_key = {r["respondent_key"]: r["id"] for r in responses}
    from handlers.members import respondent_key

    answer_order = [by_key[respondent_key(ctx.secret, f"console:{u}", round_id=opened.round_id)] for u in order]
    assert answer_order != sorted(answer_order) and answer_order != sorted(answer_order, reverse=True)
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1]
        with sqlite3.connect(path) as db:
            stored = [r[0] for r in db.execute("SELECT id FROM response")]  # storage order
            assert stored != answer_order
            try:
                db.execute("SELECT rowid FROM response").fetchall()
            except sqlite3.OperationalError:
                pass  # WITHOUT ROWID: no hidden insertion counter
            else:
                raise AssertionError("response has a rowid, which counts answers in the order they came")


async def test_forget_after_close_changes_no_figure_or_comment_in_any_format(make_ctx):
    ctx = await make_ctx(CONFIG)
    opened = await open_round(ctx, team_name="soporte")
    for n, user in enumerate(MEMBERS[:7]):
        await tap(ctx, user, opened.round_id, 1 + n % 5, comment=f"said by {user}")
    await close_team_round(ctx, team_name="soporte")

    async def formats() -> tuple[str, str, str]:
        report = await build_report(ctx, teams=["soporte"])
        data = report_json(report)
        data.pop("generated_at")
        data["teams"][0]["comments"].sort()
        return json.dumps(data, sort_keys=True), "".join(sorted(report_csv(report).splitlines(True))), \
            report_text(report, "en").count("said by")

    before = await formats()
    await forget(ctx, person("carlos"))
    assert await formats() == before
    async with ctx.store.session() as session:
        comments = (await session.exec(sm_select(RoundComment.comment))).all()
    assert "said by carlos" in comments  # the closed round keeps it, linked to nobody
    me = plain_text((await pulse_me(ctx, person("carlos"))).reply)
    assert "soporte" not in me  # and carlos's own history is gone


async def test_forget_removes_answers_in_an_open_round(make_ctx):
    ctx = await make_ctx(CONFIG)
    opened = await open_round(ctx, team_name="soporte")
    await tap(ctx, "ana", opened.round_id, 2, comment="private")
    await forget(ctx, person("ana"))
    async with ctx.store.session() as session:
        assert (await session.exec(sm_select(Response))).all() == []
        assert all(d.member_id for d in (await session.exec(sm_select(Delivery))).all())
    report = report_json(await build_report(ctx, teams=["soporte"]))
    assert report["teams"][0]["periods"][-1]["answered"] == 0


async def test_retention_deletes_old_answers_and_keeps_the_figures(make_ctx):
    ctx = await make_ctx(CONFIG)
    opened = await open_round(ctx, team_name="soporte")
    for n, user in enumerate(MEMBERS[:6]):
        await tap(ctx, user, opened.round_id, 1 + n % 5, comment="old words")
    await close_team_round(ctx, team_name="soporte")
    ctx.clock = FixedClock(ctx.clock.now() + timedelta(days=20))
    figures = report_json(await build_report(ctx, teams=["soporte"], weeks=8))["teams"][0]["periods"]

    assert (await purge_expired(ctx)).responses == 0  # younger than 24 months: nothing to do
    ctx.clock = FixedClock(ctx.clock.now() + timedelta(days=25 * 31))
    purged = await purge_expired(ctx)
    assert (purged.rounds, purged.responses, purged.deliveries) == (1, 6, len(MEMBERS))
    async with ctx.store.session() as session:
        assert (await session.exec(sm_select(Response))).all() == []
    ctx.clock = FixedClock(ctx.clock.now() - timedelta(days=25 * 31))
    again = report_json(await build_report(ctx, teams=["soporte"], weeks=8))["teams"][0]["periods"]
    assert [p["mood"] for p in again] == [p["mood"] for p in figures]
    assert [p["answered"] for p in again] == [p["answered"] for p in figures]


async def test_keys_differ_in_every_round_so_two_teams_cannot_be_matched_against_rosters(make_ctx):
    """A person in two teams answered both; before, the one key seen in both teams' rounds plus the
    rosters named her, and with her key her whole history."""
    config = {**CONFIG, "teams": [*CONFIG["teams"],
                                  {"name": "beta", "leaders": ["lead2"], "locale": "en", "members": ["mia", "ana", "zoe"]}]}
    ctx = await make_ctx(config)
    one = await open_round(ctx, team_name="soporte")
    two = await open_round(ctx, team_name="beta")
    await tap(ctx, "ana", one.round_id, 2, comment="in soporte")
    await tap(ctx, "ana", two.round_id, 1, comment="in beta")
    await tap(ctx, "mia", two.round_id, 4)
    rows = (await _rows(ctx))["response"]
    keys = [r["respondent_key"] for r in rows]
    assert len(keys) == len(set(keys)) == 3  # no key recurs across rounds or teams
    me = plain_text((await pulse_me(ctx, person("ana"))).reply)
    assert "soporte" in me and "beta" in me  # the bot, with the secret, still finds all of hers


async def test_reminders_are_marked_on_every_due_delivery_answered_or_not(make_ctx):
    """`reminded_at` set only for non-answerers told a copy of the store who had answered by then."""
    from bot.console.messenger import ConsoleMessenger
    from schedules.jobs import send_reminders
    from tests.clock import FixedClock as Clock

    ctx = await make_ctx(CONFIG)
    ctx.messengers["console"] = ConsoleMessenger()
    opened = await open_round(ctx, team_name="soporte")
    async with ctx.store.session() as session:
        for d in (await session.exec(sm_select(Delivery))).all():
            d.status = "sent"
        await session.commit()
    for user in MEMBERS[:5]:
        await tap(ctx, user, opened.round_id, 3)
    ctx.clock = Clock(ctx.clock.now() + timedelta(hours=25))
    reminded = await send_reminders(ctx)
    assert reminded == len(MEMBERS) - 5  # only the non-answerers get a message
    async with ctx.store.session() as session:
        marks = {d.reminded_at for d in (await session.exec(sm_select(Delivery))).all()}
    assert len(marks) == 1 and None not in marks  # and every row looks the same


async def test_a_global_leader_is_on_no_roster(make_ctx):
    config = {**CONFIG, "teams": [{**CONFIG["teams"][0], "members": [*MEMBERS, "boss"]}]}
    ctx = await make_ctx(config)
    opened = await open_round(ctx, team_name="soporte")
    assert opened.new_deliveries == len(MEMBERS)  # boss reads every team: he answers in none


async def test_forgotten_words_are_not_left_in_the_sqlite_files(make_ctx, db_url):
    if not db_url.startswith("sqlite"):
        return  # PostgreSQL keeps dead tuples until VACUUM: the README says so
    ctx = await make_ctx(CONFIG)
    opened = await open_round(ctx, team_name="soporte")
    await tap(ctx, "ana", opened.round_id, 2, comment="I am interviewing at ACME")
    await tap(ctx, "ana", opened.round_id, 2, comment="changed my mind")
    await forget(ctx, person("ana"))
    path = db_url.split("///", 1)[1]
    for suffix in ("", "-wal"):
        try:
            data = open(path + suffix, "rb").read()
        except FileNotFoundError:
            continue
        assert b"interviewing at ACME" not in data and b"changed my mind" not in data, suffix


async def test_reply_threads_in_a_copy_of_the_store_name_no_member_and_no_moment_finer_than_the_batch(make_ctx):
    """A leader replied and the author answered: a copy of the store must not say who the author is
    (no member id, user id or name beside the thread), nor when they wrote (times end on batches)."""
    from handlers.replies import batch_end
    from schedules.relays import send_relays
    from tests.handlers.test_replies import Inbox

    ctx = await make_ctx(CONFIG)
    inbox = Inbox()
    ctx.messengers["console"] = inbox
    opened = await open_round(ctx, team_name="soporte")
    for n, user in enumerate(MEMBERS[:6]):
        await tap(ctx, user, opened.round_id, 1 + n % 5, comment=f"thoughts of {user}")
    await close_team_round(ctx, team_name="soporte")
    async with ctx.store.session() as session:
        comment_id = (await session.exec(sm_select(RoundComment.id).where(RoundComment.comment == "thoughts of dani"))).one()
    await handle(ctx, person("lead"), DM, Tap.parse("reply.submit", comment_id, {"text": "tell me more"}))
    ctx.clock = FixedClock(batch_end(ctx.clock.now(), 15) + timedelta(minutes=4))
    await send_relays(ctx)
    (_, dm), = inbox.sent
    thread_id = dm.blocks[-1].buttons[0].value
    await handle(ctx, person("dani"), DM, Tap.parse("reply.answer.submit", thread_id, {"text": "it is the rota"}))
    ctx.clock = FixedClock(ctx.clock.now() + timedelta(minutes=3, seconds=17))
    await handle(ctx, person("dani"), DM, Tap.parse("reply.stop", thread_id))
    rows = await _rows(ctx)

    members = [m for m in rows["member"] if m["user_id"] in MEMBERS]  # the leader is not who is hidden
    personal = {str(m[c]) for m in members for c in ("id", "user_id", "name")} | {f"console:{m['user_id']}" for m in members}
    personal.discard("")
    for table in ("reply_thread", "reply_message", "round_comment"):
        assert rows[table], table
        for row in rows[table]:
            for column, value in row.items():
                if column in ("team_id", "round_id"):
                    continue
                assert str(value) not in personal, (table, column)
                if hasattr(value, "minute"):  # every time ends on a batch: no second, no odd minute
                    assert (value.minute % 15, value.second, value.microsecond) == (0, 0, 0), (table, column)
    (thread,) = rows["reply_thread"]
    assert thread["leader"] == "console:lead" and "dani" not in str(thread)
    assert len({r["id"] for r in rows["reply_message"]} & {str(m["id"]) for m in members}) == 0


async def test_commitments_in_a_copy_of_the_store_link_no_answer_to_anyone(make_ctx):
    """A leader committed, every member got the post, and the next round answered the follow-up:
    nothing of the commitment tables may share a value with an answer, change when someone answers
    the follow-up, or outlive a forgotten member's link."""
    from schedules.commitment_notes import send_commitment_notes
    from tests.handlers.test_replies import Inbox

    ctx = await make_ctx(CONFIG)
    ctx.messengers["console"] = Inbox()
    first = await open_round(ctx, team_name="soporte")
    for n, user in enumerate(MEMBERS[:6]):
        await tap(ctx, user, first.round_id, 1 + n % 5)
    await close_team_round(ctx, team_name="soporte")
    await handle(ctx, person("lead"), DM, Tap.parse("commit.submit", str(first.round_id),
                                                  {"driver": "workload", "sentence": "No meetings on Friday"}))
    await send_commitment_notes(ctx)
    ctx.clock = FixedClock(ctx.clock.now() + timedelta(days=7))
    second = await open_round(ctx, team_name="soporte")
    before = await _rows(ctx)
    for n, user in enumerate(random.Random(3).sample(MEMBERS, 7)):
        ctx.clock = FixedClock(ctx.clock.now() + timedelta(minutes=5 * n + 1))
        await handle(ctx, person(user), DM, Tap.parse("checkin.focus", f"{second.round_id}:{1 + n % 5}"))
    after = await _rows(ctx)

    for table in ("round_commitment", "commitment_note"):
        assert after[table], table
        assert after[table] == before[table], table  # answering the follow-up writes nothing there
    answers = {repr(v) for row in after["response"] for k, v in row.items() if k in ("id", "respondent_key")}
    assert len([r for r in after["response"] if r["focus_score"] is not None]) == 7
    for table in ("round_commitment", "commitment_note"):
        for row in after[table]:
            assert not {repr(v) for v in row.values()} & answers, table
    (commitment,) = after["round_commitment"]
    assert commitment["leader"] == "console:lead"  # the leader is known: leaders are not anonymous

    notes = [n for n in after["commitment_note"] if n["kind"] == "post"]
    assert len(notes) == len(MEMBERS)
    await forget(ctx, person("carlos"))
    async with ctx.store.engine.connect() as conn:
        from storage.models import CommitmentNote, Member

        left = (await conn.execute(select(CommitmentNote.__table__.c.target))).scalars().all()
        ids = (await conn.execute(select(Member.__table__.c.id))).scalars().all()
    assert all(t.startswith("l:") or int(t[2:]) in ids for t in left)  # no note points at a forgotten member
    assert len(left) == len(after["commitment_note"]) - 1
