"""The leader's wait: signed `/team-pulse` to the report and its chart visible in the fake Slack (issue 14).

Run from the repository root: `.venv/bin/python bench/team_pulse_bench.py [--requests 300] [--pairs 7]`.

Processes besides this one: a fake Slack Web API (tests/fakes/slack_api.py, which records every
call with the time it arrived; it runs only on cores the servers leave idle, `SCHED_IDLE`, on one core, as
Slack's own work is not on pulsebot's machine), the real `pulsebot serve` (temporary SQLite
store; a demo team's 12 weeks of closed rounds plus a round open to 200 Slack members, whose DMs
went through the outbox), and a bare slack-bolt AsyncApp that, for a check-in tap, does the same one-row write
(an upsert of the answer into SQLite, WAL, synchronous=NORMAL like pulsebot's store) and then
acks: the fair floor once an ack means stored.

The leader's wait runs from sending the signed slash command to the moment both the report
(posted to the command's response_url) and the chart (files.completeUploadExternal into the
leader's DM) have reached the fake; the fake's arrival times use the same system-wide monotonic
clock as this process. The leader asks again as soon as an answer is complete, `--requests` times
in all, while check-in taps arrive at `--rate` (100) a second. Acks are measured in `--pairs`
pairs (bench/pairs.py): pulsebot's turn (taps during its share of the leader's requests) and the
bare app's turn (the same tap rate for as long), the order alternating; ack_ratio is the median
of the pairwise tap-ack p99 ratios. Before the pairs every member taps once on each side, not
measured: a member's first tap in a process also keeps their profile, once. Cold: `--cold` fresh
servers whose first request comes the moment `/healthz` first answers 200, and as many whose
first request comes `--cold-after` seconds later (the report worker warms matplotlib meanwhile);
printed, not in RESULT. Then the Teams leader's wait (bench/teams_pulse.py: `team-pulse` in the
personal chat to the card with its chart at the fake Bot Connector), cold and `--teams-requests`
warm; printed, not in RESULT. About 3-4 minutes with the defaults.

Targets: pulse_p50_s ≤ 1.0, pulse_p99_s ≤ 2.0 (warm), ack_ratio ≤ 1.3.
Last line: `RESULT pulse_p50_s=… pulse_p99_s=… ack_ratio=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.pairs import Pairs, add_pairs_argument, percentile  # noqa: E402
from bench.processes import free_port, spawn, stop, wait_for_signal, wait_healthy  # noqa: E402
from bench.slack_ack_bench import (  # noqa: E402
    CHANNEL,
    LEADER,
    SECRET,
    TEAM,
    TOKEN,
    Requests,
    first_taps,
    quiet,
    signed,
    users,
    write_config,
)
from bench.slack_ack_bench import seed as seed_round  # noqa: E402

# -- child roles ---------------------------------------------------------------------------------


async def role_fake(members: int, wait_port: int) -> None:
    """The fake Slack, plus `GET /_pulse/RID?since=T` on `wait_port`: answers once the report for
    response_url RID and a chart upload after T have arrived, with their arrival times."""
    from aiohttp import web

    from bot.priority import yield_to_the_server
    from tests.fakes.slack_api import FakeChannel, FakeSlack, FakeUser

    # The fake stands in for Slack's servers, whose work is not on pulsebot's machine: it runs only
    # on cores the servers under test leave idle (on one, as pulsebot's own helpers: bot/priority.py),
    # and still answers every call.
    yield_to_the_server(19)

    class Recording(FakeSlack):
        replied: dict[str, float] = {}
        uploads: list[float] = []
        changed = asyncio.Event()

        def _record(self, method: str, args: dict[str, Any], team_id: str = "") -> None:
            super()._record(method, args, team_id)
            if method == "response_url":
                self.replied[str(args.get("_response_url", "")).rsplit("/", 1)[-1]] = time.monotonic()
            elif method == "files.completeUploadExternal":
                self.uploads.append(time.monotonic())
            self.changed.set()
            type(self).changed = asyncio.Event()

    people = [FakeUser(u, f"user{u}", locale="es-ES" if i % 2 else "en-US") for i, u in enumerate(users(members))]
    people.append(FakeUser(LEADER, "lead"))
    fake = Recording(users=people, channels=[FakeChannel(CHANNEL, "bench", [*users(members), LEADER, "UPULSEBOT"])],
                     bot_token=TOKEN, team_id=TEAM)
    await fake.start()

    async def wait(request: web.Request) -> web.Response:
        rid, since = request.match_info["rid"], float(request.query["since"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            uploaded = [t for t in Recording.uploads if t > since]
            if rid in Recording.replied and uploaded:
                return web.json_response({"replied": Recording.replied.pop(rid), "uploaded": uploaded[0]})
            changed = Recording.changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=1.0)
            except TimeoutError:
                pass
        return web.json_response({"timeout": True}, status=504)

    app = web.Application()
    app.router.add_get("/_pulse/{rid}", wait)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", wait_port).start()
    print(fake.url, flush=True)
    await wait_for_signal()


async def role_bare(port: int, api_url: str, db: str) -> None:
    """A bare AsyncApp that upserts the tapped answer into SQLite, commits, then acks."""
    import aiosqlite
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    conn = await aiosqlite.connect(db)
    for pragma in ("journal_mode=WAL", "busy_timeout=5000", "synchronous=NORMAL"):
        await conn.execute(f"PRAGMA {pragma}")
    await conn.execute("CREATE TABLE IF NOT EXISTS response (id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL, "
                       "respondent_key TEXT NOT NULL, mood INTEGER, UNIQUE (round_id, respondent_key))")
    await conn.commit()
    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET,
                   process_before_response=True)

    async def tap(ack: Any, body: dict[str, Any]) -> None:
        round_id, score = body["actions"][0]["value"].split(":")
        key = hashlib.sha256(f"bench:{body['user']['id']}:{round_id}".encode()).hexdigest()
        await conn.execute("INSERT INTO response (round_id, respondent_key, mood) VALUES (?, ?, ?) "
                           "ON CONFLICT (round_id, respondent_key) DO UPDATE SET mood = excluded.mood",
                           (int(round_id), key, int(score)))
        await conn.commit()
        await ack()

    app.action({"action_id": __import__("re").compile("checkin\\.mood.*")})(tap)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", health)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"bare serving on {port}", flush=True)
    await wait_for_signal()
    await conn.close()


# -- load ----------------------------------------------------------------------------------------


async def demo_history(env: dict[str, str]) -> None:
    """Twelve weeks of closed rounds for the team (console members), so the report and chart are full."""
    from bot.app import build_context
    from handlers.config import Settings
    from handlers.demo import seed

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        ctx = await build_context(Settings())
        await seed(ctx, members=24, weeks=12)
        await ctx.store.dispose()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Taps:
    """Signed check-in taps at a steady rate against one server, until stopped; their latencies."""

    def __init__(self, http: aiohttp.ClientSession, url: str, requests: Requests, rate: float) -> None:
        self.http, self.url, self.requests, self.rate = http, url, requests, rate
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        tasks = []
        start = time.perf_counter()
        i = 0
        while not self._stop.is_set():
            delay = start + i / self.rate - time.perf_counter()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                    break
                except TimeoutError:
                    pass
            tasks.append(asyncio.create_task(self._one(self.requests._tap())))
            i += 1
        await asyncio.gather(*tasks)

    async def _one(self, body: str) -> None:
        t0 = time.perf_counter()
        try:
            async with self.http.post(self.url + "/slack/events", data=body.encode(),
                                      headers=signed(body, "application/x-www-form-urlencoded")) as resp:
                await resp.read()
                self.errors += resp.status != 200
        except aiohttp.ClientError:
            self.errors += 1
        self.latencies.append(time.perf_counter() - t0)

    def stop(self) -> None:
        self._stop.set()


async def leader_wait(http: aiohttp.ClientSession, url: str, fake_url: str, wait_url: str, rid: str) -> float:
    """Seconds from sending `/team-pulse` to both its report and its chart arriving at the fake."""
    body = urlencode({
        "token": "x", "team_id": TEAM, "team_domain": "bench", "channel_id": CHANNEL, "channel_name": "bench",
        "user_id": LEADER, "user_name": "lead", "command": "/team-pulse", "text": "", "api_app_id": "A0",
        "response_url": f"{fake_url}/response/{rid}", "trigger_id": f"t{rid}",
    })
    since = time.monotonic()
    waiting = asyncio.create_task(http.get(f"{wait_url}/_pulse/{rid}?since={since}"))
    async with http.post(url + "/slack/events", data=body.encode(),
                         headers=signed(body, "application/x-www-form-urlencoded")) as resp:
        await resp.read()
        if resp.status != 200:
            raise SystemExit(f"/team-pulse answered {resp.status}")
    async with await waiting as done:
        got = await done.json()
    if got.get("timeout"):
        raise SystemExit("the report or its chart never arrived (BENCH_LOG=FILE keeps the server's log)")
    return max(got["replied"], got["uploaded"]) - since


# -- main ----------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            wait_port = free_port()
            fake, fake_url = spawn([python, __file__, "--role", "fake", "--members", str(args.members),
                                    "--port", str(wait_port)], env, read_line=True)
            procs.append(fake)
            wait_url, api_url = f"http://127.0.0.1:{wait_port}", fake_url + "/api/"
            env.update({
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "PULSEBOT_CONFIG": str(write_config(Path(tmp))),
                "PULSEBOT_SECRET": "bench-secret-0123456789abcdef-0123456789", "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url, "BENCH_MEMBERS": str(args.members),
                "PULSEBOT_PUBLIC_URL": "http://127.0.0.1",
            })
            env.pop("SLACK_APP_TOKEN", None)
            await demo_history(env)
            taps = await seed_round(env, api_url)
            bare_port = free_port()
            bare, _ = spawn([python, __file__, "--role", "bare", "--port", str(bare_port), "--api-url", api_url,
                             "--db", f"{tmp}/bare.db"], env)
            procs.append(bare)

            def start_pulsebot() -> tuple[subprocess.Popen[bytes], str]:
                port = free_port()
                proc, _ = spawn([python, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)], env)
                procs.append(proc)
                return proc, f"http://127.0.0.1:{port}"

            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                cold: dict[float, list[float]] = {0.0: [], args.cold_after: []}
                for n in range(args.cold):  # a fresh server's first request: at once, and a little later
                    for after in cold:
                        proc, url = start_pulsebot()
                        await wait_healthy(url, proc, timeout=60)
                        await asyncio.sleep(after)
                        cold[after].append(await leader_wait(http, url, fake_url, wait_url, f"cold{n}-{after}"))
                        proc.send_signal(signal.SIGTERM)
                        proc.wait(timeout=20)
                pulse, pulse_url = start_pulsebot()
                targets = {"pulsebot": pulse_url, "baseline": f"http://127.0.0.1:{bare_port}"}
                await wait_healthy(pulse_url, pulse, timeout=60)
                await wait_healthy(targets["baseline"], bare)
                await leader_wait(http, pulse_url, fake_url, wait_url, "warm-up")
                for target in targets.values():
                    await first_taps(http, target, api_url, taps, args.rate)
                pairs = Pairs("tap_ack_p99_ms", "tap_ack_p50_ms", "pulse_p50_s")
                waits: list[float] = []
                per_pair = max(1, args.requests // args.pairs)
                turn_seconds = args.turn_seconds
                errors = 0
                for turn, order in pairs.turns(args.pairs):
                    got: dict[str, list[float]] = {}
                    for side in order:
                        await quiet(fake_url)
                        stream = Taps(http, targets[side], Requests(api_url, taps, 100 + turn), args.rate)
                        running = asyncio.create_task(stream.run())
                        started = time.perf_counter()
                        if side == "pulsebot":
                            mine = [await leader_wait(http, pulse_url, fake_url, wait_url, f"p{turn}-{i}")
                                    for i in range(per_pair)]
                            waits += mine
                            pairs.add("pulse_p50_s", pulsebot=percentile(mine, 50))
                            turn_seconds = time.perf_counter() - started
                        else:
                            await asyncio.sleep(turn_seconds)  # as long as pulsebot's last turn
                        stream.stop()
                        await running
                        got[side] = stream.latencies
                        errors += stream.errors if side == "pulsebot" else 0
                    for figure, q in (("tap_ack_p99_ms", 99), ("tap_ack_p50_ms", 50)):
                        pairs.add(figure, pulsebot=1000 * percentile(got["pulsebot"], q),
                                  baseline=1000 * percentile(got["baseline"], q))
            pairs.report()
            print(f"leader's wait, warm: n={len(waits)} min {min(waits):.3f} p50 {percentile(waits, 50):.3f} "
                  f"p99 {percentile(waits, 99):.3f} max {max(waits):.3f} s; pulsebot tap errors {errors}")
            for after, got_cold in cold.items():
                if got_cold:
                    print(f"leader's wait, cold (a fresh server's first request, {after:g} s after /healthz is "
                          f"first 200): n={len(got_cold)} min {min(got_cold):.3f} median "
                          f"{percentile(got_cold, 50):.3f} max {max(got_cold):.3f} s")
            if args.teams_requests:
                from bench.teams_pulse import teams_leader_wait

                await teams_leader_wait(demo_history, requests=args.teams_requests, cold=args.cold,
                                        after=args.cold_after)
            print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}")
            print(f"RESULT pulse_p50_s={percentile(waits, 50):.3f} pulse_p99_s={percentile(waits, 99):.3f} "
                  f"ack_ratio={pairs.ratio('tap_ack_p99_ms'):.2f}")
            return 0
    finally:
        stop(procs)


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--role", choices=["main", "fake", "bare"], default="main")
    p.add_argument("--members", type=int, default=200)
    p.add_argument("--requests", type=int, default=300, help="the leader's /team-pulse requests, warm")
    add_pairs_argument(p)
    p.add_argument("--rate", type=float, default=100.0, help="check-in taps a second during the turns")
    p.add_argument("--turn-seconds", type=float, default=10.0, help="the bare app's first turn, when it goes first")
    p.add_argument("--cold", type=int, default=3, help="fresh servers asked at once, and as many asked later")
    p.add_argument("--cold-after", type=float, default=3.0, help="seconds after healthy for the later cold request")
    p.add_argument("--teams-requests", type=int, default=50, help="the Teams leader's warm requests (0: skip Teams)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-url", default="")
    p.add_argument("--db", default="")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.role == "fake":
        asyncio.run(role_fake(args.members, args.port))
    elif args.role == "bare":
        asyncio.run(role_bare(args.port, args.api_url, args.db))
    else:
        raise SystemExit(asyncio.run(main(args)))


if __name__ == "__main__":
    cli()
