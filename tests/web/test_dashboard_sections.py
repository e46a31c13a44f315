"""The team page's sections over real HTTP: the driver × period heatmap, the eNPS trend, the empty chair
and failed deliveries, each with its text alternative and table view, and no figure of a withheld round."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.app import Faces, build_web_app
from handlers.context import Context
from handlers.dashboard import issue_link
from handlers.ports import Actor
from storage.models import Delivery, EmptyChair, Followup, Impact, Member, Response, Round, Team
from tests.context import START

LEAD = Actor(platform="console", user_id="lead")
# (period, weeks back, driver, driver scores, eNPS answers or None when not asked, failed deliveries)
ROUNDS = (
    ("2026-W45", 3, "clarity", [4, 4, 5, 5, 5], [10, 10, 10, 9, 0], 0),  # clarity 4.6, eNPS +60
    ("2026-W46", 2, "workload", [1, 2], [10, 8], 1),  # two answers (k=3): would be 1.5 and eNPS +50
    ("2026-W47", 1, "clarity", [3, 3, 3], None, 0),  # clarity 3.0, eNPS not asked
)


def svg(html: str, chart_id: str) -> str:
    return re.search(rf'<svg[^>]*aria-labelledby="{chart_id}-t.*?</svg>', html, flags=re.S).group(0)


def section(html: str, heading_id: str) -> str:
    return re.search(rf'<section aria-labelledby="{heading_id}">.*?</section>', html, flags=re.S).group(0)


def table_view(html: str, heading_id: str) -> str:
    return re.search(r"<details>.*?</details>", section(html, heading_id), flags=re.S).group(0)


async def seed(ctx: Context) -> None:
    async with ctx.store.session() as s:
        team = (await s.exec(select(Team).where(Team.name == "soporte"))).one()
        members = [m for m in (await s.exec(select(Member))).all()
                   if m.user_id in ("ana", "bea", "carlos", "dani", "eva")]
        for period, back, driver, scores, enps, failed in ROUNDS:
            start = START - timedelta(weeks=back, hours=9)
            rnd = Round(team_id=team.id, period=period, period_start=start, opened_at=start + timedelta(hours=9),
                        closes_at=start + timedelta(hours=81), driver=driver, enps=enps is not None)
            s.add(rnd)
            await s.flush()
            for i, m in enumerate(members):
                s.add(Delivery(round_id=rnd.id, member_id=m.id, due_at=rnd.opened_at,
                               status="failed" if i >= len(members) - failed else "sent"))
            for i, score in enumerate(scores):
                s.add(Response(round_id=rnd.id, respondent_key=f"{period}-{i}", mood=4, driver=driver,
                               driver_score=score, enps=enps[i] if enps else None))
        chairs = [EmptyChair(platform="console", conversation="c", team_id=team.id, opened_by="u",
                             opened_at=START - timedelta(days=d)) for d in (2, 5, 9)]
        s.add_all(chairs)
        await s.flush()
        for chair, effects in zip(chairs, (["better", "unknown"], ["worse", "better"], []), strict=True):
            s.add_all(Impact(chair_id=chair.id, author="u", effect=e, created_at=START) for e in effects)
        await s.flush()
        # The "we don't know" of the chair two days back was found out a day later (in W47); its
        # impact still says "we don't know" here, so the chair's own figures above stay as they were.
        unknown = (await s.exec(select(Impact).where(Impact.effect == "unknown"))).one()
        s.add(Followup(impact_id=unknown.id, chair_id=unknown.chair_id, owner="console:u",
                       created_at=START - timedelta(days=2), owned_at=START - timedelta(days=2),
                       due_at=START + timedelta(days=5), resolved_at=START - timedelta(days=1),
                       effect="better", note="asked them"))
        await s.commit()


@pytest.fixture
async def client(ctx) -> AsyncIterator[TestClient]:
    await seed(ctx)
    async with TestClient(TestServer(build_web_app(ctx, Faces(), public_url="http://127.0.0.1"),
                                     host="127.0.0.1")) as c:
        token = await issue_link(ctx, LEAD)
        assert (await c.post("/dashboard/login", data={"token": token}, allow_redirects=False)).status == 303
        yield c


async def page(client: TestClient, lang: str = "en") -> str:
    resp = await client.get("/dashboard/team/soporte", params={"lang": lang})
    assert resp.status == 200
    return await resp.text()


async def test_the_heatmap_colours_each_rounds_driver_and_leaves_a_withheld_one_empty(client):
    for lang, hidden, shown in (("en", "hidden: fewer than 3 people answered", "4.6"),
                                ("es", "oculto: respondieron menos de 3 personas", "4,6")):
        html = await page(client, lang)
        heat = svg(html, "heat")
        assert "<title" in heat and "<desc" in heat  # the text alternative
        assert heat.count("<rect") == 2 + 1 + 5  # W45 and W47 filled, W46 dashed and empty, the legend
        assert heat.count("stroke-dasharray") == 1
        assert f">{shown}<" in heat and re.search(r">3[.,]0<", heat)
        assert "1.5" not in heat and "1,5" not in heat  # W46's would-be score
        rows = table_view(html, "heat-h")
        assert shown in rows and hidden in rows  # W46's row says why, as chat words it
        assert "1.5" not in rows and "1,5" not in rows
        assert ("Workload" if lang == "en" else "Carga de trabajo") in rows


async def test_the_enps_trend_has_a_bar_only_where_it_was_asked_and_shown(client):
    for lang, hidden in (("en", "hidden: fewer than 3 people answered"),
                         ("es", "oculto: respondieron menos de 3 personas")):
        html = await page(client, lang)
        enps = svg(html, "enps")
        assert "<title" in enps and "<desc" in enps
        assert enps.count("<rect") == 1 and ">+60<" in enps  # W45 only; W46 withheld, W47 not asked
        rows = table_view(html, "enps-h")
        assert "+60" in rows and hidden in rows and "W47" not in rows
        assert "+50" not in html  # W46's would-be eNPS, nowhere on the page


async def test_the_empty_chair_and_failed_deliveries_have_their_sections(client):
    html = await page(client, "en")
    chairs = section(html, "chairs-h")
    for label, value in (("Chairs opened", "3"), ("Share with client impacts", "67%"),
                         ("Better for clients", "2"), ("Worse for clients", "1"), ("No change", "0"),
                         ("We don't know", "1"), ("“We don't know” still open", "1")):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in chairs.replace("&#39;", "'"), label
    failed = section(html, "deliveries-h")
    assert re.search(r"<th scope=\"row\">2026-W46</th><td>1</td><td>0</td>", failed)
    assert "W45" not in failed and "W47" not in failed
    es = section(await page(client, "es"), "chairs-h")
    assert "Sillas abiertas" in es and "Con impactos para el cliente" in es


async def test_a_team_whose_rounds_never_asked_enps_says_so(ctx):
    async with ctx.store.session() as s:
        team = (await s.exec(select(Team).where(Team.name == "soporte"))).one()
        start = START - timedelta(weeks=1, hours=9)
        s.add(Round(team_id=team.id, period="2026-W47", period_start=start, opened_at=start,
                    closes_at=start + timedelta(hours=72), driver="clarity"))
        await s.commit()
    async with TestClient(TestServer(build_web_app(ctx, Faces()), host="127.0.0.1")) as client:
        token = await issue_link(ctx, LEAD)
        await client.post("/dashboard/login", data={"token": token})
        html = await page(client)
        assert "No round in these periods asked the eNPS question." in section(html, "enps-h")
        assert 'aria-labelledby="enps-t' not in html
        assert "Every check-in in these periods was delivered." in section(html, "deliveries-h")


async def test_the_trend_and_the_overview_sparkline_are_told_in_words_not_glyphs(client):
    for lang, hidden, mood in (("en", "hidden: fewer than 3 people answered", "4.0"),
                               ("es", "oculto: respondieron menos de 3 personas", "4,0")):
        desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg(await page(client, lang), "trend"), flags=re.S).group(1)
        assert f"2026-W45: {mood}" in desc and f"2026-W46: {hidden}" in desc, desc
        overview = await (await client.get("/dashboard/", params={"lang": lang})).text()
        label = re.search(r'<svg[^>]*role="img" aria-label="([^"]*)"', overview).group(1)
        assert f"2026-W46: {hidden}" in label, label
        for glyph in "▁▂▃▄▅▆▇█·":
            assert glyph not in desc and glyph not in label


async def test_the_client_connection_view_sets_each_periods_score_beside_its_chairs(client):
    html = await page(client)
    view = section(html, "client-h")
    # Clarity and workload were asked, never "customer": no score to show, only the chairs.
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>', view)
    assert [r[0] for r in rows] == ["2026-W45", "2026-W46", "2026-W47"]
    assert all(r[1] == "not asked this period" for r in rows)
    # Two chairs in the last period's days, both with impacts; the one nine days back, in W46, with none.
    assert [r[2:] for r in rows] == [("0", "—"), ("1", "0%"), ("2", "100%")]
    assert "This week I knew how my work affected our clients." in view
    es = section(await page(client, "es"), "client-h")
    assert "Conexión con el cliente" in es and "no se preguntó este periodo" in es
    # The follow-ups resolved, in the period they were resolved in (W47), in the last column.
    resolved = re.findall(r'<tr><th scope="row">([^<]+)</th>(?:<td>[^<]+</td>){3}<td>([^<]+)</td></tr>', view)
    assert resolved == [("2026-W45", "0"), ("2026-W46", "0"), ("2026-W47", "1")]


async def test_the_empty_chair_section_shows_the_follow_ups_open_overdue_resolved_and_median(client):
    chairs = section(await page(client, "en"), "chairs-h")
    for label, value in (("Open follow-ups", "0"), ("Overdue follow-ups", "0"), ("Follow-ups resolved", "1"),
                         ("Median time to resolve", "1.0 days")):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in chairs, label
    es = section(await page(client, "es"), "chairs-h")
    assert "<dt>Seguimientos resueltos</dt><dd>1</dd>" in es and "1,0 días" in es
