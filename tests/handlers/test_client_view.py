"""The client-connection view: per period, the "customer" driver score (guarded like every answer)
beside the empty chairs opened in that period and the share of them with client impacts, in the
report's JSON, CSV and text."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from handlers.context import Context
from handlers.report_render import report_csv, report_json, report_text
from handlers.reports import SUPPRESSED, Score, build_report
from storage.models import EmptyChair, Followup, Impact
from tests.handlers.test_reports import NOW, P, seed_team


@pytest.fixture
async def ctx(make_ctx) -> Context:
    return await make_ctx({"pulse": {"min_group_size": 5, "default_locale": "en"}}, now=NOW)


async def add_chairs(ctx: Context, team_id: int, chairs: list[tuple[datetime, list[str]]]) -> None:
    async with ctx.store.session() as s:
        for opened, effects in chairs:
            chair = EmptyChair(platform="console", conversation="c", team_id=team_id, opened_by="u", opened_at=opened)
            s.add(chair)
            await s.flush()
            s.add_all(Impact(chair_id=chair.id, author="u", effect=e, created_at=opened) for e in effects)
        await s.commit()


def day(month: int, d: int, hour: int = 10) -> datetime:
    return NOW.replace(month=month, day=d, hour=hour)


@pytest.fixture
async def seeded(ctx: Context) -> Context:
    # W46 (from Mon 9 Nov), W47 (from 16 Nov, asked "customer": five scores), W48 (from 23 Nov, "customer":
    # only two scored it, below the threshold of five).
    team_id = await seed_team(ctx, "soporte", [
        P([4] * 5, driver="clarity", driver_scores=[4] * 5),
        P([4] * 5, driver="customer", driver_scores=[4, 4, 4, 5, 5]),
        P([3] * 5, driver="customer", driver_scores=[1, 2]),
    ])
    await add_chairs(ctx, team_id, [
        (day(11, 1), ["better"]),  # before the window's first period: not counted
        (day(11, 10), ["better", "unknown"]), (day(11, 11), []), (day(11, 12), ["worse"]),  # W46: 3, 2 with impacts
        (day(11, 17), ["no_change"]),  # W47: 1, with an impact
        (NOW - timedelta(hours=1), []),  # W48: 1, none
    ])
    return ctx


async def test_each_period_sets_the_customer_score_beside_its_chairs(seeded):
    team = (await build_report(seeded, teams=["soporte"])).teams[0]
    w46, w47, w48 = team.client
    assert (w46.period, w46.customer, w46.chairs_opened, w46.chairs_with_impact) == ("2026-W46", None, 3, 2)
    assert isinstance(w47.customer, Score) and w47.customer.mean == pytest.approx(4.4)
    assert (w47.chairs_opened, w47.chairs_with_impact, w47.share_with_impact) == (1, 1, 1.0)
    # Two people scored "customer" in W48: withheld, like any figure of fewer than five.
    assert w48.customer is SUPPRESSED and (w48.chairs_opened, w48.chairs_with_impact) == (1, 0)
    assert team.chairs.opened == 5  # the window's chair figures count the same chairs


async def test_json_csv_and_text_carry_the_view_and_no_withheld_number(seeded):
    report = await build_report(seeded, teams=["soporte"])
    view = report_json(report)["teams"][0]["client_connection"]
    assert [v["period"] for v in view] == ["2026-W46", "2026-W47", "2026-W48"]
    assert view[0]["customer"] is None  # that round asked another driver
    assert view[1]["customer"] == {"suppressed": False, "mean": 4.4, "respondents": 5}
    assert view[2]["customer"] == {"suppressed": True}
    assert view[0]["share_with_impact"] == pytest.approx(0.667)
    assert [v["followups_resolved"] for v in view] == [0, 0, 0]  # none resolved (see the test below)

    rows = {(r[1], r[2]): r[3:] for r in (line.split(",") for line in report_csv(report).splitlines()[1:])}
    assert rows[("2026-W47", "client_customer_score")] == ["4.4", "false"]
    assert rows[("2026-W48", "client_customer_score")] == ["", "true"]
    assert ("2026-W46", "client_customer_score") not in rows
    assert rows[("2026-W46", "client_chairs_opened")] == ["3", "false"]
    assert rows[("2026-W46", "client_chairs_with_impact")] == ["2", "false"]

    text = report_text(report, "en")
    assert "The client in the room and the client connection, per period" in text
    assert "2026-W47: client connection score: 4.4 · 1 chair opened, 100% with client impacts" in text
    assert "2026-W48: client connection score: hidden: fewer than 5 people answered · 1 chair opened" in text
    es = report_text(report, "es")
    assert "2026-W46: puntuación de conexión con el cliente: no se preguntó este periodo · 3 sillas abiertas" in es


async def test_a_team_without_rounds_has_no_view(ctx):
    await seed_team(ctx, "vacio", [])
    team = (await build_report(ctx, teams=["vacio"])).teams[0]
    assert team.client == () and report_json(await build_report(ctx, teams=["vacio"]))["teams"][0][
        "client_connection"] == []


async def test_follow_ups_resolved_count_in_the_period_they_were_resolved_in(seeded):
    async with seeded.store.session() as s:
        unknown = (await s.exec(select(Impact).where(Impact.effect == "unknown"))).one()  # W46's
        chair = EmptyChair(platform="console", conversation="c", team_id=(await s.get(EmptyChair, unknown.chair_id)).team_id,
                           opened_by="u", opened_at=day(11, 2))
        s.add(chair)
        await s.flush()
        others = [Impact(chair_id=chair.id, author="u", effect="unknown", created_at=day(11, 2)) for _ in range(3)]
        s.add_all(others)
        await s.flush()
        for impact, resolved in ((unknown, day(11, 18)), (others[0], NOW - timedelta(hours=2)),
                                 (others[1], day(11, 3)), (others[2], None)):  # before the window; still open
            s.add(Followup(impact_id=impact.id, chair_id=impact.chair_id, owner="console:u",
                           created_at=impact.created_at, owned_at=impact.created_at,
                           due_at=impact.created_at + timedelta(days=7), resolved_at=resolved,
                           effect=None if resolved is None else "better", note=""))
        await s.commit()
    report = await build_report(seeded, teams=["soporte"])
    team = report.teams[0]
    assert [c.followups_resolved for c in team.client] == [0, 1, 1]  # W47 and W48
    view = report_json(report)["teams"][0]["client_connection"]
    assert [v["followups_resolved"] for v in view] == [0, 1, 1]
    rows = {(r[1], r[2]): r[3:] for r in (line.split(",") for line in report_csv(report).splitlines()[1:])}
    assert rows[("2026-W47", "client_followups_resolved")] == ["1", "false"]
    assert "with client impacts · 1 follow-up resolved" in report_text(report, "en").split("2026-W48: client")[1]
    assert (team.followups.open, team.followups.resolved) == (1, 2)
