"""The trend chart (handlers/charts.py): a withheld period is a gap, never a point, and a chart
drawn before is never shown once a figure it draws has changed."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.charts import chart_png
from handlers.context import Context
from handlers.reports import build_report
from storage.models import Response, Round
from tests.handlers.test_reports import NOW, P, seed_team


@pytest.fixture
async def ctx(make_ctx) -> Context:
    """An empty migrated store, min group size 5 (as tests/handlers/test_reports.py)."""
    return await make_ctx({"pulse": {"min_group_size": 5, "default_locale": "en"}}, now=NOW)


async def test_chart_of_a_suppressed_period_has_a_gap_not_a_point(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5), P([1, 1]), P([5] * 5)])
    report = await build_report(ctx, teams=["soporte"])
    assert report.teams[0].trend == (4.0, None, 5.0)
    png = chart_png(report.teams[0], "es")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


async def test_a_chart_drawn_before_is_never_shown_once_a_figure_it_draws_has_changed(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5), P([3, 3], delivered=8, open=True)])

    async def chart(locale: str = "en") -> bytes:
        return chart_png((await build_report(ctx, teams=["soporte"])).teams[0], locale)

    first = await chart()
    assert await chart() == first  # nothing changed: the same chart
    async with ctx.store.session() as s:
        open_round = (await s.exec(select(Round).where(Round.closes_at > NOW))).one()
        s.add(Response(round_id=open_round.id, respondent_key="late", mood=5))
        await s.commit()
    after = await chart()
    assert after != first  # a third member answered: the open round's participation bar rose
    assert await chart("es") not in (first, after)  # the same figures in Spanish are another chart
