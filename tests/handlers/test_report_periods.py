"""Each period's own driver score and eNPS in the shared report: figures, suppression on their own
counts, phased release, and the JSON keys and CSV rows that carry them (the dashboard's heatmap and eNPS trend)."""

from __future__ import annotations

import pytest

from handlers.context import Context
from handlers.report_render import report_csv, report_json
from handlers.reports import SUPPRESSED, Enps, Mood, Pending, Score, build_report
from tests.handlers.test_reports import NOW, P, seed_team


@pytest.fixture
async def ctx(make_ctx) -> Context:
    """An empty migrated store, min group size 5 (as tests/handlers/test_reports.py)."""
    return await make_ctx({"pulse": {"min_group_size": 5, "default_locale": "en"}}, now=NOW)


async def test_each_period_carries_its_own_driver_score_and_enps(ctx):
    await seed_team(ctx, "soporte", [
        P([3] * 6, driver="clarity", driver_scores=[4, 4, 4, 5, 5, 5]),
        P([3] * 5, driver="workload", driver_scores=[2] * 5, enps=[10, 10, 9, 7, 0]),
    ])
    first, second = (await build_report(ctx, teams=["soporte"])).teams[0].periods
    assert isinstance(first.driver_score, Score) and first.driver_score.mean == pytest.approx(4.5)
    assert first.driver_score.respondents == 6 and first.enps is None  # eNPS not asked that week
    assert isinstance(second.driver_score, Score) and second.driver_score.mean == pytest.approx(2.0)
    assert isinstance(second.enps, Enps) and second.enps.score == pytest.approx(60 - 20)
    assert second.enps.respondents == 5


async def test_period_driver_score_and_enps_below_the_threshold_are_withheld_on_their_own_count(ctx):
    # Six answered the mood (shown), but only three scored the driver and four gave an eNPS.
    await seed_team(ctx, "soporte", [
        P([4] * 6, driver="clarity", driver_scores=[5] * 6),
        P([4] * 6, driver="clarity", driver_scores=[1, 1, 1], enps=[0, 0, 0, 0]),
    ])
    team = (await build_report(ctx, teams=["soporte"])).teams[0]
    first, second = team.periods
    assert isinstance(second.mood, Mood)
    assert second.driver_score is SUPPRESSED and second.enps is SUPPRESSED
    # Nothing to subtract: the window's figures are those of the periods shown, and nothing more.
    assert dict(team.drivers)["clarity"].mean == pytest.approx(first.driver_score.mean)
    assert team.enps is SUPPRESSED


async def test_open_round_has_no_driver_score_or_enps_yet(ctx):
    await seed_team(ctx, "soporte", [P([5] * 6, driver_scores=[5] * 6, enps=[10] * 6, open=True)])
    (p,) = (await build_report(ctx, teams=["soporte"])).teams[0].periods
    assert isinstance(p.driver_score, Pending) and isinstance(p.enps, Pending)
    (period,) = report_json(await build_report(ctx, teams=["soporte"]))["teams"][0]["periods"]
    assert set(period["driver_score"]) == set(period["enps"]) == {"suppressed", "pending", "results_at"}


async def test_json_and_csv_carry_each_periods_driver_score_and_enps(ctx):
    await seed_team(ctx, "soporte", [
        P([3] * 5, driver="clarity", driver_scores=[4, 4, 4, 4, 5]),
        P([3] * 5, driver="workload", driver_scores=[1, 1], enps=[10, 10, 9, 9, 9]),
    ])
    report = await build_report(ctx, teams=["soporte"])
    w47, w48 = report_json(report)["teams"][0]["periods"]
    assert w47["driver_score"] == {"driver": "clarity", "suppressed": False, "mean": 4.2, "respondents": 5}
    assert w47["enps"] is None
    assert w48["driver_score"] == {"driver": "workload", "suppressed": True}
    assert w48["enps"] == {"suppressed": False, "score": 100.0, "promoters": 1.0, "passives": 0.0,
                           "detractors": 0.0, "respondents": 5}
    lines = report_csv(report).splitlines()
    assert lines[0] == "team,period,metric,value,suppressed"  # the same columns as before
    rows = {(r[1], r[2]): r[3:] for r in (line.split(",") for line in lines[1:])}
    assert rows[("2026-W47", "period_driver_clarity")] == ["4.2", "false"]
    assert rows[("2026-W48", "period_driver_workload")] == ["", "true"]
    assert rows[("2026-W48", "period_enps")] == ["100.0", "false"]
    assert ("2026-W47", "period_enps") not in rows
    # New rows come after the old ones: the window's rows first, each period's own figures next.
    metrics = [line.split(",")[2] for line in lines[1:]]
    assert max(i for i, m in enumerate(metrics) if not m.startswith(("period_", "client_", "commitment_"))) \
        < metrics.index("period_driver_clarity") < metrics.index("period_enps") < metrics.index("client_chairs_opened")
