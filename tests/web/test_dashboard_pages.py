"""The dashboard over real HTTP on loopback: the login flow, refusals with their status, headers, and no
figure of a suppressed round anywhere (page, chart, table view, downloads)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Faces, build_web_app
from handlers.context import Context
from handlers.dashboard import issue_link
from handlers.ports import Actor
from handlers.report_render import report_csv, report_json
from handlers.reports import build_report
from tests.web.support import LEAD, SUPPRESSED_COMMENT, TWO_TEAMS, seed_rounds


@pytest.fixture
async def client(ctx) -> AsyncIterator[TestClient]:
    await seed_rounds(ctx)
    async with TestClient(TestServer(build_web_app(ctx, Faces(), public_url="http://127.0.0.1"),
                                     host="127.0.0.1")) as c:
        yield c


async def sign_in(client: TestClient, ctx: Context, actor: Actor = LEAD) -> None:
    token = await issue_link(ctx, actor)
    resp = await client.post("/dashboard/login", data={"token": token}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/dashboard/"


async def test_the_link_shows_a_button_and_only_the_button_signs_in(client, ctx):
    token = await issue_link(ctx, LEAD)
    for _ in range(2):  # a chat app's preview, then the leader: neither spends the link
        page = await client.get("/dashboard/login", params={"token": token})
        assert page.status == 200
        html = await page.text()
        assert '<form method="post" action="/dashboard/login">' in html and "<button" in html
    assert (await client.get("/dashboard/")).status == 401  # looking did not sign in
    resp = await client.post("/dashboard/login", data={"token": token}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/dashboard/"  # a clean URL: no token
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Path=/dashboard/" in cookie and "Max-Age=28800" in cookie
    overview = await client.get("/dashboard/")
    assert overview.status == 200
    assert 'href="/dashboard/team/soporte?weeks=12&amp;lang=en"' in await overview.text()
    again = await client.post("/dashboard/login", data={"token": token}, allow_redirects=False)
    assert again.status == 410
    assert "/team-pulse" in await again.text()


async def test_forged_expired_and_missing_links_are_refused_with_their_status(client, ctx):
    token = await issue_link(ctx, LEAD)
    assert (await client.get("/dashboard/login", params={"token": token + "x"})).status == 401
    assert (await client.post("/dashboard/login", data={"token": "nonsense"})).status == 401
    assert (await client.post("/dashboard/login", data={})).status == 401
    ctx.clock.move(minutes=16)
    expired = await client.get("/dashboard/login", params={"token": token})
    assert expired.status == 410 and "expired" in await expired.text()


async def test_logout_ends_the_session(client, ctx):
    await sign_in(client, ctx)
    assert (await client.get("/dashboard/team/soporte")).status == 200
    bye = await client.post("/dashboard/logout")
    assert bye.status == 200 and "pulsebot_dashboard=\"\"" in bye.headers.get("Set-Cookie", "")
    assert (await client.get("/dashboard/team/soporte")).status == 401


async def test_a_link_for_someone_who_leads_nothing_is_refused(client, ctx):
    token = await issue_link(ctx, LEAD)
    ctx.config = ctx.config.model_copy(update={"teams": [ctx.config.teams[0].model_copy(update={"leaders": []})]})
    from handlers.setup import apply_config

    await apply_config(ctx)
    assert (await client.get("/dashboard/login", params={"token": token})).status == 403
    assert (await client.post("/dashboard/login", data={"token": token})).status == 403


async def test_another_teams_page_and_downloads_are_refused(make_ctx):
    ctx = await make_ctx(TWO_TEAMS)
    async with TestClient(TestServer(build_web_app(ctx, Faces()), host="127.0.0.1")) as client:
        await sign_in(client, ctx)
        for path in ("/dashboard/team/ventas", "/dashboard/team/ventas/report.csv",
                     "/dashboard/team/ventas/report.json", "/dashboard/team/nobody"):
            resp = await client.get(path)
            assert resp.status == 403, path
            assert "ventas" not in (await resp.text()).split("<main>")[0]
        overview = await (await client.get("/dashboard/")).text()
        assert "soporte" in overview and "ventas" not in overview


async def test_every_dashboard_response_carries_the_strict_headers(client, ctx):
    await sign_in(client, ctx)
    for path in ("/dashboard/", "/dashboard/team/soporte", "/dashboard/team/soporte/report.csv",
                 "/dashboard/static/style.css", "/dashboard/login?token=bad", "/dashboard/team/ventas",
                 "/dashboard/no-such-page"):
        resp = await client.get(path)
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, path
        assert resp.headers.get("X-Frame-Options") == "DENY", path
        assert resp.headers.get("Referrer-Policy") == "no-referrer", path
        assert resp.headers.get("Cache-Control") == "no-store", path
    assert "Content-Security-Policy" not in (await client.get("/healthz")).headers


async def test_the_team_page_shows_what_the_chat_report_shows_and_no_suppressed_figure(client, ctx):
    await sign_in(client, ctx)
    for lang, hidden in (("en", "hidden: fewer than 3 people answered"),
                         ("es", "oculto: respondieron menos de 3 personas")):
        resp = await client.get("/dashboard/team/soporte", params={"lang": lang})
        assert resp.status == 200
        html = await resp.text()
        assert f'<html lang="{lang}">' in html
        assert hidden in html  # W47, worded as in chat
        assert re.search(r"4[.,]0", html)  # W46's mood is shown
        words = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)  # SVG coordinates are numbers too
        assert "1.5" not in words and "1,5" not in words  # W47's would-be mean
        assert SUPPRESSED_COMMENT not in html and "the new rota helps" in html
        trend, dist = (re.search(rf'<svg[^>]*aria-labelledby="{c}-t.*?</svg>', html, flags=re.S).group(0)
                       for c in ("trend", "dist"))
        assert trend.count("<circle") == 1  # W46 only: a withheld figure is a gap
        assert dist.count("<rect") == 3 + 5  # W46's moods 3, 4 and 5, then the legend; nothing for W47
        for svg in (trend, dist):
            assert "<title" in svg and "<desc" in svg  # a text alternative
        assert html.count("<details>") == html.count('class="chart"') == 3  # a table view for each chart
        assert "1: 1 · 2: 1" not in html and "2: 0 · 3: 1 · 4: 2 · 5: 1" in html
        assert "<script" not in html and "style=" not in html
        assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from another origin


async def test_downloads_are_the_documents_pulsebot_report_writes(client, ctx):
    await sign_in(client, ctx)
    expected = await build_report(ctx, teams=["soporte"], weeks=12)
    csv_resp = await client.get("/dashboard/team/soporte/report.csv")
    assert csv_resp.status == 200 and csv_resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_resp.headers["Content-Disposition"]
    body = await csv_resp.text()
    assert body == report_csv(expected)
    rows = {(r["period"], r["metric"]): r for r in csv.DictReader(io.StringIO(body))}
    assert rows[("2026-W47", "mood_mean")]["value"] == "" and rows[("2026-W47", "mood_mean")]["suppressed"] == "true"
    assert ("2026-W47", "mood_1") not in rows and SUPPRESSED_COMMENT not in body
    doc = await (await client.get("/dashboard/team/soporte/report.json")).json()
    want = report_json(expected)
    assert {k: v for k, v in doc.items() if k != "generated_at"} == {
        k: v for k, v in want.items() if k != "generated_at"}
    w47 = next(p for p in doc["teams"][0]["periods"] if p["period"] == "2026-W47")
    assert w47["mood"] == {"suppressed": True}
    assert SUPPRESSED_COMMENT not in json.dumps(doc)


async def test_the_period_choice_changes_the_window(client, ctx):
    await sign_in(client, ctx)
    html = await (await client.get("/dashboard/team/soporte", params={"weeks": "4"})).text()
    assert 'aria-current="page">4<' in html
    assert (await client.get("/dashboard/team/soporte", params={"weeks": "9999"})).status == 200


async def test_the_cookie_is_secure_when_the_public_url_is_https(ctx):
    app = build_web_app(ctx, Faces(), public_url="https://pulse.example.com")
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        token = await issue_link(ctx, LEAD)
        resp = await client.post("/dashboard/login", data={"token": token}, allow_redirects=False)
        assert resp.status == 303 and "Secure" in resp.headers["Set-Cookie"]


async def test_a_sign_in_posted_from_another_site_is_refused(client, ctx):
    token = await issue_link(ctx, LEAD)
    resp = await client.post("/dashboard/login", data={"token": token}, headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    ok = await client.post("/dashboard/login", data={"token": token}, allow_redirects=False,
                           headers={"Origin": "http://127.0.0.1"})
    assert ok.status == 303  # the refused post did not spend the link


async def test_a_browser_hiding_its_origin_is_let_in_only_from_this_site(client, ctx):
    # Referrer-Policy: no-referrer makes a browser post `Origin: null`, even from our own form.
    token = await issue_link(ctx, LEAD)
    for site in ("cross-site", "same-site", None):
        headers = {"Origin": "null", **({"Sec-Fetch-Site": site} if site else {})}
        assert (await client.post("/dashboard/login", data={"token": token}, headers=headers)).status == 403, site
    ok = await client.post("/dashboard/login", data={"token": token}, allow_redirects=False,
                           headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert ok.status == 303
