"""The dashboard's team page shows each closed round's commitment beside the next round's follow-up."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer

from bot.app import Faces, build_web_app
from handlers.checkins import open_round
from handlers.closing import close_team_round
from handlers.inputs import Tap, handle
from handlers.ports import Actor, Where
from tests.clock import FixedClock
from tests.web.test_dashboard_pages import sign_in

MEMBERS = ["ana", "bea", "carlos", "dani", "eva"]  # the default test team; min group size 3


async def _press(ctx, user: str, action: str, value: str, fields: dict[str, str] | None = None) -> None:
    await handle(ctx, Actor(platform="console", user_id=user), Where(kind="dm"), Tap.parse(action, value, fields))


async def test_the_team_page_shows_the_commitment_beside_its_follow_up(make_ctx):
    ctx = await make_ctx()
    first = await open_round(ctx, team_name="soporte")
    for n, user in enumerate(MEMBERS):
        await _press(ctx, user, "checkin.mood", f"{first.round_id}:{1 + n % 5}")
    await close_team_round(ctx, team_name="soporte")
    await _press(ctx, "lead", "commit.submit", str(first.round_id), {"driver": "clarity", "sentence": "Goals <b>on</b> the wall"})
    ctx.clock = FixedClock(ctx.clock.now() + timedelta(days=7))
    second = await open_round(ctx, team_name="soporte")
    for n, user in enumerate(MEMBERS[:4]):
        await _press(ctx, user, "checkin.mood", f"{second.round_id}:3")
        await _press(ctx, user, "checkin.focus", f"{second.round_id}:{4 + n % 2}")
    await close_team_round(ctx, team_name="soporte")
    await _press(ctx, "lead", "commit.skip", str(second.round_id))

    async with TestClient(TestServer(build_web_app(ctx, Faces(), public_url="http://127.0.0.1"),
                                     host="127.0.0.1")) as http:
        await sign_in(http, ctx)
        page = await (await http.get("/dashboard/team/soporte?lang=en")).text()
    section = page[page.index('id="commitments-h"'):]
    section = section[:section.index("</section>")]
    assert "Leaders&#39; commitments" in section or "Leaders' commitments" in section
    assert "Clarity — “Goals &lt;b&gt;on&lt;/b&gt; the wall”" in section  # as written, and inert
    assert "did things improve? (2026-W49): 4.5" in section
    assert "no commitment (skipped)" in section
