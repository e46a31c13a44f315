""""Maybe delivered" check-ins in the report: apart from failed ones, counted as delivered, frozen at close."""

from __future__ import annotations

import pytest
from sqlmodel import col, select, update

from handlers.closing import close_due_rounds
from handlers.i18n import t
from handlers.messages import plain_text
from handlers.report_render import report_csv, report_json, report_message, report_text
from handlers.reports import build_report
from storage.models import Delivery, RoundSummary
from tests.handlers.test_reports import P, seed_team
from tests.handlers.test_reports import ctx as ctx  # noqa: F401 - the store fixture, shared

MAYBE = 3


async def seed_maybe_delivered(context, *, still_open: bool = False) -> None:  # noqa: ANN001 - a Context
    """Five answered out of seven delivered (two failed); three of the answered ones are 'uncertain'."""
    await seed_team(context, "soporte", [P([4] * 5, failed=2, open=still_open)])
    async with context.store.session() as session:
        sent = (await session.exec(select(Delivery.id).where(Delivery.status == "sent").order_by(Delivery.id))).all()
        await session.exec(update(Delivery).where(col(Delivery.id).in_(sent[:MAYBE])).values(status="uncertain"))
        await session.commit()


async def test_maybe_delivered_is_counted_apart_from_failed_and_as_delivered(ctx):
    await seed_maybe_delivered(ctx, still_open=True)
    team = (await build_report(ctx, teams=["soporte"])).teams[0]
    p = team.latest
    assert p.open  # not frozen yet: counted live from the deliveries
    assert (p.delivered, p.answered, p.failed, p.maybe_delivered) == (7, 5, 2, MAYBE)
    assert p.participation == pytest.approx(5 / 7)  # a maybe-delivered check-in most likely arrived
    assert (team.failed_deliveries, team.maybe_delivered) == (2, MAYBE)
    data = report_json(await build_report(ctx, teams=None))["teams"][0]
    assert (data["failed_deliveries"], data["maybe_delivered"]) == (2, MAYBE)
    assert (data["periods"][0]["failed_deliveries"], data["periods"][0]["maybe_delivered"]) == (2, MAYBE)


async def test_a_closed_rounds_maybe_delivered_count_is_frozen_with_its_figures(ctx):
    await seed_maybe_delivered(ctx)  # its window has passed
    await close_due_rounds(ctx)
    async with ctx.store.session() as session:
        summary = (await session.exec(select(RoundSummary))).one()
        # Whatever happens to the rows later (retention, forget), the closed round keeps its figures.
        await session.exec(update(Delivery).values(status="sent"))
        await session.commit()
    assert (summary.delivered, summary.failed, summary.uncertain) == (7, 2, MAYBE)
    p = (await build_report(ctx, teams=["soporte"])).teams[0].latest
    assert not p.open and (p.delivered, p.failed, p.maybe_delivered) == (7, 2, MAYBE)


async def test_maybe_delivered_is_shown_in_csv_and_in_text_in_both_languages(ctx):
    await seed_maybe_delivered(ctx)
    report = await build_report(ctx, teams=["soporte"])
    rows = {r.split(",")[2]: r.split(",") for r in report_csv(report).splitlines()[1:]}
    assert rows["maybe_delivered"][3:] == [str(MAYBE), "false"]
    assert rows["failed_deliveries"][3:] == ["2", "false"]
    for locale in ("en", "es"):
        label = t("reports.label.maybe_delivered", locale)
        assert label != "reports.label.maybe_delivered"
        assert f"{label}: {MAYBE}" in report_text(report, locale)
        assert f"{t('reports.label.failed', locale)}: 2" in plain_text(report_message(report, locale))
    assert "quizá entregados" in report_text(report, "es")


async def test_nothing_maybe_delivered_adds_no_line_to_the_text(ctx):
    await seed_team(ctx, "soporte", [P([4] * 5)])
    report = await build_report(ctx, teams=["soporte"])
    assert t("reports.label.maybe_delivered", "en") not in report_text(report, "en")
    assert report_json(report)["teams"][0]["maybe_delivered"] == 0
