"""Dashboard benchmark: one team's page over HTTP against the same team's `report --format json`, and its weight.

On the store `bench/report_bench.py` seeds (~1M responses: 5,000 members, 100 teams, 200 weeks;
its `open_store` does the seeding, once per file), the real aiohttp app (`bot.app.build_web_app`)
listens on a loopback port; a leader of the team signs in through a one-time link, as from chat,
and the bench times `GET /dashboard/team/NAME?weeks=12` (session check, report, HTML and SVG,
over the socket) against `json.dumps(report_json(build_report(...)))`, what `pulsebot report
--team NAME --format json` computes, in `--pairs` pairs (bench/pairs.py: order alternating, each
side `--runs` times a pair, its median), so load on the machine hits both; the ratio is the median
of the pairwise ratios. About a minute to seed a new store, then seconds.
The weight is the page's HTML plus every same-origin asset it references (the stylesheet; no
script, no font, no image today), fetched as a browser would.

    .venv/bin/python bench/dashboard_bench.py [--db FILE] [--teams 100] [--members 5000] [--weeks 200] [--pairs 7]

Targets: page ≤ 3× the JSON report, page with assets ≤ 200 KB.
Last line: `RESULT page_ratio=… page_kb=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pairs import Pairs, add_pairs_argument  # noqa: E402
from bench.processes import free_port  # noqa: E402
from bench.report_bench import FIRST_MONDAY, WINDOW, BenchClock, open_store  # noqa: E402
from bot.app import Faces, build_web_app  # noqa: E402
from handlers.config import PulseConfig, PulseSection  # noqa: E402
from handlers.context import Context  # noqa: E402
from handlers.dashboard import issue_link  # noqa: E402
from handlers.ports import Actor  # noqa: E402
from handlers.report_render import report_json  # noqa: E402
from handlers.reports import build_report  # noqa: E402
from storage.models import Leader, Team  # noqa: E402

TARGET_RATIO, TARGET_KB = 3.0, 200
ASSET = re.compile(r'<(?:link|script|img|source)\b[^>]*?\b(?:href|src)="(/[^"]*)"')


async def lead(ctx: Context, team: str) -> Actor:
    """A Slack leader of `team`, stored as setup stores one ("slack:U…"); added once to a reused store."""
    actor = Actor(platform="slack", user_id=f"UDASH{team.replace('-', '').upper()}")
    async with ctx.store.session() as s:
        row = (await s.exec(select(Team).where(Team.name == team))).first()
        if row is None:
            raise SystemExit(f"no team called {team} in the store")
        ref = f"slack:{actor.user_id}"
        if (await s.exec(select(Leader).where(Leader.user_ref == ref))).first() is None:
            s.add(Leader(team_id=row.id, user_ref=ref))
            await s.commit()
    return actor


async def paired(pairs: Pairs, page: Callable[[], Awaitable[object]], report: Callable[[], Awaitable[object]],
                 args: argparse.Namespace) -> None:
    """The page (pulsebot) and the JSON report (baseline) in `args.pairs` pairs, order alternating;
    each side `args.runs` times a pair, its median one figure."""
    await page()  # warm the page cache, the statement and template caches
    await report()
    sides = {"pulsebot": page, "baseline": report}
    for _i, order in pairs.turns(args.pairs):
        got = {}
        for side in order:
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                await sides[side]()
                times.append((time.perf_counter() - t0) * 1000)
            got[side] = statistics.median(times)
        pairs.add("page_ms", **got)


async def weight(http: aiohttp.ClientSession, base: str, path: str) -> tuple[int, dict[str, int]]:
    """Bytes of the page's HTML, and of each same-origin asset it references."""
    async with http.get(base + path) as resp:
        assert resp.status == 200, resp.status
        html = await resp.read()
    assets: dict[str, int] = {}
    for ref in sorted(set(ASSET.findall(html.decode()))):
        async with http.get(base + ref) as resp:
            assert resp.status == 200, (ref, resp.status)
            assets[ref] = len(await resp.read())
    return len(html), assets


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="reuse or create this SQLite file (default: a temporary one)")
    ap.add_argument("--teams", type=int, default=100)
    ap.add_argument("--members", type=int, default=5000)
    ap.add_argument("--weeks", type=int, default=200)
    ap.add_argument("--runs", type=int, default=9, help="runs of each side within a pair (their median)")
    add_pairs_argument(ap)
    ap.add_argument("--team", default="team-042")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="pulsebot-dash-bench-")
    path = Path(args.db) if args.db else Path(tmp.name) / "bench.db"
    store = await open_store(path, teams=args.teams, members=args.members, weeks=args.weeks)
    now = FIRST_MONDAY + timedelta(weeks=args.weeks - 1, days=4)
    ctx = Context(store=store, config=PulseConfig(pulse=PulseSection(min_group_size=5)),
                  secret=b"bench-secret-0123456789abcdef-0123", clock=BenchClock(now))
    actor = await lead(ctx, args.team)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    runner = web.AppRunner(build_web_app(ctx, Faces(), public_url=base), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    page_path = f"/dashboard/team/{args.team}?weeks={WINDOW}"
    try:
        # The session cookie is set for 127.0.0.1: aiohttp keeps cookies of an IP address only when told.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            token = await issue_link(ctx, actor)
            async with http.post(base + "/dashboard/login", data={"token": token}, allow_redirects=False) as resp:
                assert resp.status == 303, f"sign-in answered {resp.status}"

            async def page() -> None:
                async with http.get(base + page_path) as resp:
                    assert resp.status == 200, resp.status
                    await resp.read()

            async def report() -> None:
                json.dumps(report_json(await build_report(ctx, teams=[args.team], weeks=WINDOW)),
                           ensure_ascii=False, indent=2)

            pairs = Pairs("page_ms", unit="ms")
            await paired(pairs, page, report, args)
            page_ms, json_ms = pairs.median("page_ms"), pairs.median("page_ms", "baseline")
            html_bytes, assets = await weight(http, base, page_path)
            html_52, assets_52 = await weight(http, base, f"/dashboard/team/{args.team}?weeks=52")
    finally:
        await runner.cleanup()
        await store.dispose()

    pairs.report()
    ratio = pairs.ratio("page_ms")
    total = html_bytes + sum(assets.values())
    print(f"{args.team}, last {WINDOW} periods, signed in over loopback ({args.pairs} pairs of {args.runs} runs a side)")
    print(f"team page (HTTP)        {page_ms:8.2f} ms")
    print(f"report --format json    {json_ms:8.2f} ms   ratio {ratio:5.2f}   (target ≤ {TARGET_RATIO:g}×)")
    listed = ", ".join(f"{ref} {n / 1024:.1f} KB" for ref, n in assets.items()) or "none"
    print(f"page weight: HTML {html_bytes / 1024:.1f} KB + assets ({listed}) = {total / 1024:.1f} KB"
          f"   (target ≤ {TARGET_KB} KB)")
    print(f"for scale, the 52-period page: {(html_52 + sum(assets_52.values())) / 1024:.1f} KB with its assets")
    print(f"RESULT page_ratio={ratio:.2f} page_kb={total / 1024:.1f}")
    tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
