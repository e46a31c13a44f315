"""The leader report on real SQLite files: figures, suppression in every format, alerts, permissions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import event

from handlers.closing import close_due_rounds
from handlers.context import Context
from handlers.errors import Invalid, NotFound
from handlers.i18n import t
from handlers.inputs import Command, handle
from handlers.messages import Chart, Message, plain_text
from handlers.ports import Actor, Where
from handlers.report_render import report_csv, report_json, report_message, report_text
from handlers.reports import SUPPRESSED, Mood, build_report
from handlers.team_pulse import parse_request
from storage.models import Delivery, EmptyChair, Impact, Leader, Member, Response, Round, Team

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
_ids = count(1)


@dataclass
class P:
    """One period to seed: answers given (moods etc.) out of `delivered`."""

    moods: list[int | None]
    delivered: int | None = None
    driver: str = "clarity"
    driver_scores: list[int] | None = None
    enps: list[int] | None = None
    comments: list[str] = field(default_factory=list)
    failed: int = 0
    open: bool = False


@pytest.fixture
async def ctx(make_ctx) -> Context:
    """An empty migrated store (a SQLite file; in CI also PostgreSQL, see tests/conftest.py)."""
    return await make_ctx({"pulse": {"min_group_size": 5, "default_locale": "en"}}, now=NOW)


async def seed_team(ctx: Context, name: str, periods: list[P], *, leaders: tuple[str, ...] = ()) -> int:
    """A team with one round per week, the last one in the current week; oldest first."""
    async with ctx.store.session() as s:
        team = Team(name=name)
        s.add(team)
        await s.flush()
        for ref in leaders:
            s.add(Leader(team_id=team.id, user_ref=f"console:{ref}"))  # stored by platform, as setup does
        size = max([len(p.moods) + p.failed for p in periods] + [p.delivered or 0 for p in periods] + [1])
        members = [Member(platform="console", user_id=f"{name}-{i}") for i in range(size)]
        s.add_all(members)
        await s.flush()
        monday = datetime(2026, 11, 23, tzinfo=UTC)
        for back, p in enumerate(reversed(periods)):
            start = monday - timedelta(weeks=back)
            opened = start + timedelta(hours=9)
            closes = NOW + timedelta(hours=1) if p.open else opened + timedelta(hours=72)
            if not p.open and back == 0:
                closes = NOW - timedelta(hours=1)
            rnd = Round(team_id=team.id, period=f"2026-W{48 - back:02d}", period_start=start,
                        opened_at=opened - timedelta(days=1) if back == 0 else opened, closes_at=closes,
                        driver=p.driver, enps=p.enps is not None)
            s.add(rnd)
            await s.flush()
            delivered = p.delivered if p.delivered is not None else len(p.moods) + p.failed
            for i in range(delivered):
                answered = i < len(p.moods)
                failed = not answered and i < len(p.moods) + p.failed
                s.add(Delivery(round_id=rnd.id, member_id=members[i].id, due_at=opened,
                               status="failed" if failed else "sent"))
            for i, mood in enumerate(p.moods):
                s.add(Response(
                    round_id=rnd.id, respondent_key=f"key-{next(_ids)}", mood=mood,
                    driver=p.driver, driver_score=p.driver_scores[i] if p.driver_scores and i < len(p.driver_scores) else None,
                    enps=p.enps[i] if p.enps and i < len(p.enps) else None,
                    comment=p.comments[i] if i < len(p.comments) else None,
                ))
        await s.commit()
        return team.id


def leader(user_id: str) -> Actor:
    return Actor(platform="console", user_id=user_id, name=user_id)


# ------------------------------------------------------------------ figures


async def test_participation_mood_and_distribution_per_period(ctx):
    await seed_team(ctx, "soporte", [P([3, 4, 4, 5, 5, 2], delivered=8)])
    (team,) = (await build_report(ctx, teams=["soporte"])).teams
    p = team.latest
    assert (p.delivered, p.answered, p.respondents) == (8, 6, 6)
    assert p.participation == pytest.approx(0.75)
    assert isinstance(p.mood, Mood)
    assert p.mood.mean == pytest.approx(23 / 6)
    assert p.mood.distribution == (0, 1, 1, 2, 2)


async def test_deltas_compare_with_the_previous_period(ctx):
    await seed_team(ctx, "soporte", [P([3] * 5, delivered=10), P([4] * 5 + [5], delivered=6)])
    first, second = (await build_report(ctx, teams=["soporte"])).teams[0].periods
    assert first.mood_delta is None
    assert second.mood_delta == pytest.approx(25 / 6 - 3)
    assert second.participation_delta == pytest.approx(1.0 - 0.5)


async def test_delta_is_withheld_next_to_a_suppressed_period(ctx):
    await seed_team(ctx, "soporte", [P([1, 1]), P([4] * 5)])
    _, second = (await build_report(ctx, teams=["soporte"])).teams[0].periods
    assert isinstance(second.mood, Mood)
    assert second.mood_delta is None


async def test_report_shows_only_the_last_n_periods_in_order(ctx):
    await seed_team(ctx, "soporte", [P([m] * 5) for m in (1, 2, 3, 4, 5, 4, 3)])
    team = (await build_report(ctx, teams=["soporte"], weeks=3)).teams[0]
    assert [p.period for p in team.periods] == ["2026-W46", "2026-W47", "2026-W48"]
    assert team.trend == (5.0, 4.0, 3.0)


async def test_enps_is_promoters_minus_detractors(ctx):
    scores = [10, 9, 9, 10, 8, 7, 7, 6, 0, 3]
    await seed_team(ctx, "soporte", [P([3] * 10, enps=scores)])
    enps = (await build_report(ctx, teams=["soporte"])).teams[0].enps
    assert enps.score == pytest.approx(40 - 30)
    assert (enps.promoters, enps.passives, enps.detractors) == pytest.approx((0.4, 0.3, 0.3))


async def test_drivers_average_only_periods_that_reach_the_threshold(ctx):
    await seed_team(ctx, "soporte", [
        P([3] * 6, driver="clarity", driver_scores=[4] * 6),
        P([3] * 2, driver="clarity", driver_scores=[1] * 2),  # too few: must not move the mean
        P([3] * 3, driver="workload", driver_scores=[2] * 3),
    ])
    drivers = dict((await build_report(ctx, teams=["soporte"])).teams[0].drivers)
    assert drivers["clarity"].mean == pytest.approx(4.0)
    assert drivers["workload"] is SUPPRESSED


async def test_empty_chair_figures_of_the_team(ctx):
    team_id = await seed_team(ctx, "soporte", [P([3] * 5), P([3] * 5)])
    async with ctx.store.session() as s:
        chairs = [EmptyChair(platform="console", conversation="c", team_id=team_id, opened_by="u",
                             opened_at=NOW - timedelta(days=d)) for d in (1, 2, 3, 400)]
        s.add_all(chairs)
        await s.flush()
        for chair, effects in zip(chairs, (["better", "unknown"], ["worse", "unknown", "unknown"], [], ["better"]),
                                  strict=True):
            s.add_all(Impact(chair_id=chair.id, author="u", effect=e, created_at=NOW) for e in effects)
        await s.commit()
    c = (await build_report(ctx, teams=["soporte"])).teams[0].chairs
    assert (c.opened, c.with_impact) == (3, 2)  # the one 400 days ago is outside the window
    assert (c.better, c.worse, c.no_change, c.unknown) == (1, 1, 0, 3)


async def test_failed_deliveries_are_counted_for_operators(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5, failed=2)])
    team = (await build_report(ctx, teams=["soporte"])).teams[0]
    assert team.failed_deliveries == 2
    assert report_json(await build_report(ctx, teams=None))["teams"][0]["failed_deliveries"] == 2


# ------------------------------------------------------------------ alerts


async def test_mood_drop_of_half_a_point_raises_an_alert(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5), P([4] * 5), P([5] * 5), P([3] * 5), P([3] * 5)])
    (alert,) = (await build_report(ctx, teams=["soporte"])).teams[0].alerts
    assert alert.kind == "mood_drop"
    assert (alert.value, alert.baseline) == pytest.approx((3.0, 4.0))


async def test_small_mood_dip_raises_no_alert(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5), P([4] * 5), P([4] * 4 + [3])])
    assert (await build_report(ctx, teams=["soporte"])).teams[0].alerts == ()


async def test_participation_below_half_raises_an_alert(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5, delivered=11)])
    (alert,) = (await build_report(ctx, teams=["soporte"])).teams[0].alerts
    assert alert.kind == "low_participation"


async def test_open_round_raises_no_participation_alert_yet(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5, delivered=5), P([4], delivered=10, open=True)])
    team = (await build_report(ctx, teams=["soporte"])).teams[0]
    assert team.latest.open
    assert team.alerts == ()


# ------------------------------------------------------------------ anonymity in every format

SECRET_COMMENT = "only-three-of-us-said-this"


async def seed_small_and_large(ctx):
    await seed_team(ctx, "tiny", [P([1, 1, 2], driver="workload", driver_scores=[1, 1, 1],
                                    enps=[0, 0, 0], comments=[SECRET_COMMENT])])
    await seed_team(ctx, "big", [P([4, 4, 4, 4, 5], comments=["the new tool helps", ""])])
    return await build_report(ctx, teams=None)


async def test_small_group_gives_no_figure_and_no_comment_in_json(ctx):
    report = await seed_small_and_large(ctx)
    tiny = report_json(report)["teams"][1]
    assert tiny["team"] == "tiny"
    (period,) = tiny["periods"]
    assert period["mood"] == {"suppressed": True}
    assert tiny["trend"] == [{"period": "2026-W48", "suppressed": True}]
    assert tiny["drivers"] == [{"driver": "workload", "suppressed": True}]
    assert tiny["enps"] == {"suppressed": True}
    assert period["driver_score"] == {"driver": "workload", "suppressed": True}
    assert period["enps"] == {"suppressed": True}
    assert tiny["comments"] == []
    assert SECRET_COMMENT not in json.dumps(report_json(report))
    assert report_json(report)["teams"][0]["comments"] == ["the new tool helps"]


async def test_small_group_gives_no_figure_in_csv(ctx):
    report = await seed_small_and_large(ctx)
    rows = [line.split(",") for line in report_csv(report).splitlines()]
    assert rows[0] == ["team", "period", "metric", "value", "suppressed"]
    tiny = {r[2]: r for r in rows if r[0] == "tiny"}
    assert tiny["mood_mean"][3:] == ["", "true"]
    assert tiny["driver_workload"][3:] == ["", "true"]
    assert tiny["enps"][3:] == ["", "true"]
    assert tiny["period_driver_workload"][3:] == ["", "true"]
    assert tiny["period_enps"][3:] == ["", "true"]
    assert not any(k.startswith("mood_") and k != "mood_mean" for k in tiny)
    assert SECRET_COMMENT not in report_csv(report)


async def test_small_group_gives_no_figure_in_text_or_chat(ctx):
    report = await seed_small_and_large(ctx)
    text = report_text(report, "en")
    tiny_text = text.split("tiny:")[1]
    assert "hidden: fewer than 5 people answered" in tiny_text
    assert "1.3" not in tiny_text and "−100" not in tiny_text  # mood mean 1.33, eNPS −100
    assert "Mood answers" not in tiny_text
    assert SECRET_COMMENT not in text
    tiny_only = await build_report(ctx, teams=["tiny"])
    assert SECRET_COMMENT not in plain_text(report_message(tiny_only, "en"))
    assert "1.3" not in plain_text(report_message(tiny_only, "en"))


# ------------------------------------------------------------------ /team-pulse permissions


async def pulse(ctx, user: str, text: str = "") -> Message:
    outcome = await handle(ctx, leader(user), Where("D1", "dm"), Command.parse("team-pulse", text))
    assert outcome.posts == []  # a report is never posted for others
    return outcome.reply


async def test_someone_who_leads_no_team_gets_a_polite_refusal_without_numbers(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5)], leaders=("U0BOSS",))
    for line in ("", "soporte", "soporte 4"):
        reply = await pulse(ctx, "U0NOBODY", line)
        assert "leaders" in reply.fallback
        assert not re.search(r"\d", plain_text(reply))


async def test_leader_of_one_team_cannot_read_another(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5)], leaders=("U0BOSS",))
    await seed_team(ctx, "ventas", [P([2] * 5)], leaders=("U0OTHER",))
    refused = await pulse(ctx, "U0BOSS", "ventas")
    assert "only its leaders" in plain_text(refused)
    assert not any(isinstance(b, Chart) for b in refused.blocks)
    missing = await pulse(ctx, "U0BOSS", "no-such-team")
    assert plain_text(missing).replace("no-such-team", "") == plain_text(refused).replace("ventas", "")


async def test_team_leader_gets_their_team_with_chart(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5), P([3] * 5)], leaders=("U0BOSS",))
    reply = await pulse(ctx, "U0BOSS")
    (chart,) = [b for b in reply.blocks if isinstance(b, Chart)]
    assert chart.points == (4.0, 3.0)
    assert chart.png is not None and chart.png.startswith(b"\x89PNG")
    assert "soporte" in plain_text(reply)


async def test_global_leader_reads_every_team_and_any_one(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5)], leaders=("U0BOSS",))
    await seed_team(ctx, "ventas", [P([2] * 5)])
    async with ctx.store.session() as s:
        s.add(Leader(team_id=None, user_ref="console:U0CEO"))
        await s.commit()
    summary = plain_text(await pulse(ctx, "U0CEO"))
    assert "soporte" in summary and "ventas" in summary
    one = await pulse(ctx, "U0CEO", "VENTAS 6")
    assert "ventas: the last 6 periods" in plain_text(one)
    unknown = plain_text(await pulse(ctx, "U0CEO", "marketing"))
    assert "no team called" in unknown and "soporte, ventas" in unknown


async def test_weeks_out_of_range_is_refused_with_the_limit(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5)], leaders=("U0BOSS",))
    assert "between 1 and 104" in plain_text(await pulse(ctx, "U0BOSS", "soporte 0"))
    assert "between 1 and 104" in plain_text(await pulse(ctx, "U0BOSS", "500"))


def test_request_parsing_allows_team_names_with_spaces():
    assert parse_request("") == (None, 12)
    assert parse_request("8") == (None, 8)
    assert parse_request("customer success 6") == ("customer success", 6)


async def test_help_explains_the_command(ctx):
    assert "/team-pulse TEAM" in plain_text(await pulse(ctx, "U0NOBODY", "help"))


@pytest.mark.parametrize("command", ["team-pulse", "empty-chair", "pulse"])
async def test_every_command_answers_help_and_ayuda_with_its_usage_and_runs_nothing(ctx, command):
    for word in ("help", "AYUDA"):
        outcome = await handle(ctx, leader("U0NOBODY"), Where("C1", "channel"), Command.parse(command, word))
        assert outcome.posts == [] and outcome.reply.fallback.startswith(f"/{command} ")


# ------------------------------------------------------------------ Spanish


async def test_spanish_report_uses_spanish_words_and_numbers(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5, delivered=10), P([4, 4, 4, 3, 4, 4], delivered=8, enps=[10] * 6)])
    report = await build_report(ctx, teams=["soporte"])
    text = report_text(report, "es")
    assert "soporte: los últimos 12 periodos" in text
    assert "Participación: 75\xa0% (6 de 8)" in text
    assert "Ánimo (1–5): 3,8 (−0,2 respecto a la ronda anterior)" in text
    assert "eNPS: +100" in text
    assert "Evolución del ánimo: ▆▆" in text
    assert "Silla vacía: 0 sillas abiertas" in text
    es_refusal = await handle(ctx, Actor("console", "U0X", locale="es"), Where(), Command.parse("team-pulse", ""))
    assert "Los informes de equipo son para quienes lideran equipos" in es_refusal.reply.fallback


# ------------------------------------------------------------------ efficiency


async def test_company_report_costs_the_same_few_queries_for_many_teams(ctx):
    for i in range(12):
        await seed_team(ctx, f"team-{i:02d}", [P([3, 4, 5, 4, 3]), P([4] * 6, comments=["ok"] * 6)])
    await close_due_rounds(ctx)  # as the clock does; the report itself only reads
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(ctx.store.engine.sync_engine, "before_cursor_execute", listener)
    report = await build_report(ctx, teams=None)
    event.remove(ctx.store.engine.sync_engine, "before_cursor_execute", listener)
    assert len(report.teams) == 12 and all(len(r.comments) == 6 for r in report.teams)
    # Due rounds, the rounds' figures, the comments, the follow-ups and the commitments: five
    # statements whatever the number of teams.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 5


async def test_every_withheld_place_in_json_carries_no_number(ctx):
    report = await seed_small_and_large(ctx)

    def walk(node):
        if isinstance(node, dict):
            if node.get("suppressed") is True:
                assert set(node) <= {"suppressed", "period", "driver"}, node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    data = report_json(report)
    walk(data)
    assert json.loads(json.dumps(data)) == data  # plain JSON all the way down


async def test_bad_weeks_or_unknown_team_is_a_clear_error(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5)])
    with pytest.raises(Invalid) as bad_weeks:
        await build_report(ctx, teams=None, weeks=0)
    assert "between 1 and 104" in t(bad_weeks.value.message_id, "en", **bad_weeks.value.args_)
    with pytest.raises(NotFound) as unknown:
        await build_report(ctx, teams=["soporte", "nope"])
    assert t(unknown.value.message_id, "es", **unknown.value.args_) == (
        "No hay ningún equipo llamado «nope». Equipos: soporte."
    )
