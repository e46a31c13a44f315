"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright): what a leader
sees and does, from the link `/team-pulse` gives them to signing out.

Playwright's own browser download is not used (CI cannot reach it): the system's /usr/bin/chromium
is launched with --no-sandbox. Without it the tests skip locally, and fail in CI (CI=true), where
.ci/run installs it. One browser serves the whole module; each test gets a fresh context (its own
cookies). Screenshots of the team page (es and en, 1280 and 390 px wide) are written to
`artifacts/dashboard/` (git-ignored; PULSEBOT_ARTIFACTS moves it) for a person to look at.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer, unused_port
from playwright.async_api import Browser, Page, async_playwright

from bot.app import Faces, build_web_app
from handlers.config import parse_config
from handlers.context import Context
from handlers.dashboard import issue_link
from handlers.messages import Link
from handlers.ports import Where
from handlers.setup import apply_config
from handlers.team_pulse import team_pulse
from tests.context import build_ctx
from tests.web.support import LEAD, SUPPRESSED_COMMENT, TWO_TEAMS, seed_rounds

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one browser, one loop, for the whole module

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("PULSEBOT_ARTIFACTS") or Path(__file__).parents[2] / "artifacts") / "dashboard"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
W47_FIGURES = ("1.5", "1,5", "1: 1", SUPPRESSED_COMMENT)  # the suppressed round's mean, distribution, comment


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="module")
async def ctx(db_url: str) -> AsyncIterator[Context]:
    """Two teams, soporte with its two closed rounds. The suite's `ctx` runs in a loop of its own per
    test; the store must live in the browser's (the module's) loop, so this one replaces it here."""
    context = await build_ctx(db_url, TWO_TEAMS)
    await seed_rounds(context)
    yield context
    await context.store.dispose()


@pytest_asyncio.fixture(loop_scope="module")
async def base(ctx: Context) -> AsyncIterator[str]:
    """`pulsebot serve`'s web app on a loopback port, its address as the public URL of the links."""
    port = unused_port()
    url = f"http://127.0.0.1:{port}"
    server = TestServer(build_web_app(ctx, Faces(), public_url=url), host="127.0.0.1", port=port)
    await server.start_server()
    ctx.public_url = url
    try:
        yield url
    finally:
        await server.close()


@dataclass
class Watch:
    """What a page did: every request's URL, console errors and uncaught page errors."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest_asyncio.fixture(loop_scope="module")
async def tab(browser: Browser) -> AsyncIterator[tuple[Page, Watch]]:
    context = await browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    watch = Watch()
    page.on("request", lambda r: watch.requests.append(r.url))
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    yield page, watch
    await context.close()


async def link_from_team_pulse(ctx: Context) -> str:
    """The "Open the dashboard" link of the leader's `/team-pulse`, as chat shows it."""
    reply = (await team_pulse(ctx, LEAD, Where(), "")).reply
    (link,) = [b for b in reply.blocks if isinstance(b, Link)]
    return link.url


async def sign_in(page: Page, link: str) -> None:
    await page.goto(link)
    async with page.expect_navigation():
        await page.locator('form[action="/dashboard/login"] button').click()


async def check_basics(page: Page, lang: str) -> None:
    """Lighthouse-style basics: a title, `lang`, every control labelled, usable 390 px wide."""
    assert (await page.title()).strip()
    assert await page.get_attribute("html", "lang") == lang
    unlabelled = await page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && !e.labels.length && !e.getAttribute('aria-label')
                     && !e.getAttribute('aria-labelledby'))
        .map(e => e.outerHTML)""")
    assert unlabelled == []
    nameless = await page.evaluate("""() => [...document.querySelectorAll('button, a[href]')]
        .filter(e => !e.innerText.trim() && !e.getAttribute('aria-label')).map(e => e.outerHTML)""")
    assert nameless == []
    width = page.viewport_size["width"] if page.viewport_size else 0
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    await page.set_viewport_size({"width": width, "height": DESKTOP["height"]})


async def screenshots(page: Page, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("desktop", DESKTOP), ("390px", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=ARTIFACTS / f"team-{lang}-{name}.png", full_page=True)
    await page.set_viewport_size(DESKTOP)
    print(f"screenshots of the team page: {ARTIFACTS}")


async def charts_drawn(page: Page) -> None:
    svgs = page.locator("main svg")
    assert await svgs.count() >= 2  # the trend and the distribution
    for i in range(await svgs.count()):
        box = await svgs.nth(i).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20
        assert await svgs.nth(i).locator("rect, circle, path, polyline, line").count() > 0


async def page_words(page: Page) -> str:
    """Everything the page says: its text with every table view opened, and every chart's words."""
    closed = page.locator("details:not([open]) > summary")
    while await closed.count():
        await closed.first.click()
    text = await page.locator("body").inner_text()
    charts = await page.evaluate("""() => [...document.querySelectorAll('svg')].map(s =>
        s.textContent + ' ' + [...s.querySelectorAll('[aria-label]')].map(e => e.getAttribute('aria-label')).join(' '))
        .join('\\n')""")
    return text + "\n" + charts


async def download(page: Page, selector: str) -> str:
    async with page.expect_download() as info:
        await page.locator(selector).click()
    done = await info.value
    assert await done.failure() is None
    return Path(str(await done.path())).read_text(encoding="utf-8")


async def test_a_leader_opens_their_link_sees_the_team_downloads_and_signs_out(browser, ctx, base, tab):
    page, watch = tab
    link = await link_from_team_pulse(ctx)
    assert link.startswith(base + "/dashboard/login?token=")

    preview = await browser.new_context()  # a chat app fetching the link to preview it
    assert (await (await preview.new_page()).goto(link)).status == 200
    await preview.close()

    await page.goto(link)  # the leader's own click: still a page with one button
    await check_basics(page, "en")
    async with page.expect_navigation():
        await page.locator('form[action="/dashboard/login"] button').click()
    assert page.url == base + "/dashboard/"  # no token left in the address bar
    await check_basics(page, "en")

    await page.locator('a[href^="/dashboard/team/soporte"]').first.click()
    await page.wait_for_load_state()
    assert "/dashboard/team/soporte" in page.url
    assert "soporte" in await page.locator("h1").first.inner_text()
    await charts_drawn(page)
    await check_basics(page, "en")  # the leader's language: the company's default
    words = await page_words(page)
    assert "hidden: fewer than 3 people answered" in words  # W47, worded as in chat
    assert re.search(r"\b4\.0\b", words) and "the new rota helps" in words  # W46 is shown
    assert not [f for f in W47_FIGURES if f in words]
    await screenshots(page, "en")

    await page.locator("nav.langs a[hreflang=es]").click()  # the language switch keeps the page
    await page.wait_for_load_state()
    assert "/dashboard/team/soporte" in page.url
    await charts_drawn(page)
    await check_basics(page, "es")
    words = await page_words(page)
    assert "oculto: respondieron menos de 3 personas" in words and re.search(r"\b4,0\b", words)
    assert not [f for f in W47_FIGURES if f in words]
    await screenshots(page, "es")

    rows = {(r["period"], r["metric"]): r
            for r in csv.DictReader(io.StringIO(await download(page, 'a[href*="/report.csv"]')))}
    assert rows[("2026-W46", "mood_mean")]["value"] == "4.0"
    assert rows[("2026-W47", "mood_mean")]["value"] == "" and rows[("2026-W47", "mood_mean")]["suppressed"] == "true"
    assert ("2026-W47", "mood_1") not in rows
    doc = json.loads(await download(page, 'a[href*="/report.json"]'))
    (w47,) = [p for p in doc["teams"][0]["periods"] if p["period"] == "2026-W47"]
    assert w47["mood"] == {"suppressed": True}
    assert SUPPRESSED_COMMENT not in json.dumps(doc)

    async with page.expect_navigation():
        await page.locator('form[action="/dashboard/logout"] button').click()
    assert "/team-pulse" in await page.locator("main").inner_text()
    assert watch.errors == []  # (the refusal below logs one: a 401 is a failed load to Chromium)
    assert (await page.goto(base + "/dashboard/team/soporte")).status == 401  # signed out

    assert watch.requests and all(u.startswith(base + "/") for u in watch.requests), watch.requests


async def test_the_link_pressed_a_second_time_is_refused(browser, ctx, base, tab):
    page, watch = tab
    link = await link_from_team_pulse(ctx)
    other = await browser.new_context()  # the same link, opened in a second window too
    second = await other.new_page()
    await second.goto(link)
    await sign_in(page, link)
    assert page.url == base + "/dashboard/"
    async with second.expect_navigation() as nav:
        await second.locator('form[action="/dashboard/login"] button').click()
    response = await nav.value
    assert response is not None and response.status == 410
    assert "/team-pulse" in await second.locator("main").inner_text()
    assert (await second.goto(base + "/dashboard/")).status == 401  # and it signed nobody in
    opened_again = await page.goto(link)
    assert opened_again is not None and opened_again.status == 410
    assert "/team-pulse" in await page.locator("main").inner_text()
    await other.close()
    assert all(u.startswith(base + "/") for u in watch.requests)


async def test_a_members_link_is_refused(ctx, base, tab):
    page, _ = tab
    token = await issue_link(ctx, LEAD)
    soporte, ventas = TWO_TEAMS["teams"]
    ctx.config = parse_config({**TWO_TEAMS, "teams": [  # the leader is only a member now
        {**soporte, "leaders": [], "members": [*soporte["members"], "lead"]}, ventas]})
    await apply_config(ctx)
    link = f"{base}/dashboard/login?token={token}"
    opened = await page.goto(link)
    assert opened is not None and opened.status == 403
    assert not await page.locator('form[action="/dashboard/login"] button').count()
    assert (await page.goto(base + "/dashboard/team/soporte")).status == 401


async def test_another_teams_page_and_downloads_are_refused(ctx, base, tab):
    page, _ = tab
    await sign_in(page, await link_from_team_pulse(ctx))
    overview = await page.locator("main").inner_text()
    assert "soporte" in overview and "ventas" not in overview
    for path in ("/dashboard/team/ventas", "/dashboard/team/ventas/report.csv", "/dashboard/team/ventas/report.json"):
        refused = await page.goto(base + path)
        assert refused is not None and refused.status == 403, path
        assert "ventas" not in await page.locator("header").inner_text()
    assert (await page.goto(base + "/dashboard/team/soporte")).status == 200  # still signed in

