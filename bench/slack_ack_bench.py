"""Slack ack latency of `pulsebot serve` next to a bare slack-bolt AsyncApp, on loopback (issue 3).

Run from the repository root: `.venv/bin/python bench/slack_ack_bench.py [--pairs 7] [--steady-seconds 231]`.

Three processes besides this one: a fake Slack Web API (tests/fakes/slack_api.py), the real
`pulsebot serve` (store on a temporary SQLite file, a seeded team with an open round whose DMs
were really sent through the outbox), and a bare AsyncApp whose listeners only ack, served by the
same aiohttp adapter and, like pulsebot, answering when its listener returns
(process_before_response=True; bolt's default polls for the ack every 10 ms, which would flatter
pulsebot). Both get the same signed requests, half slash commands (/pulse me, /pulse help,
/empty-chair, and one in fifty a leader's /team-pulse) and half check-in button taps, each tap's
payload carrying the tapped DM as Slack sends it (its `message` with the blocks: about 8 KB
encoded). They run in `--pairs` pairs (bench/pairs.py), the order alternating: in each pair each
server gets `--bursts` bursts of 200 at once (5 by default) and a steady 100 per second
(`--steady-seconds` per server: 33 s a pair by default, in `--parts` parts, 5), the two servers
taking turns so that a slow spell of the machine falls on both. Each pair gives per server a burst
p99 (the middle of its bursts' p99s), a steady p99 (the middle of its parts' p99s: at 100 a second
one 0.1 s stall delays the slowest 1 % of a 10 s spell on its own), a steady p50 (over all its
steady answers); the RESULT ratios are the medians of the pairwise ratios. Before the pairs every
member taps once on each side, not measured: a member's first tap in a process also has pulsebot
keep their profile, once (as in team_pulse_bench). The fake Slack runs only on idle cores, on one
(`SCHED_IDLE`, bot/priority.py), as Slack's own work is not on pulsebot's machine. Latency is
request sent → response read, here; pulsebot's work behind each ack (stores, chat.update,
response_url, the report and its chart) runs meanwhile against the fake API.
About 23 min with the defaults. Last line: `RESULT burst_p99_ratio=… steady_p99_ratio=… over_3s=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import os
import random
import re
import statistics
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

logger = logging.getLogger(__name__)

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-bench-token"
TEAM = "T0BENCH"
CHANNEL = "C0BENCH"
LEADER = "U0LEAD"
SLACK_LIMIT = 3.0
# One command in fifty is a leader's report (the heaviest: several queries and a chart, ~0.25 s
# of CPU): at 100 requests a second that is a report every second, far more than any company.
COMMAND_MIX = [("/pulse", "me")] * 20 + [("/pulse", "help")] * 14 + [("/empty-chair", "Q3 pricing")] * 15 + [
    ("/team-pulse", "")
]
if os.environ.get("BENCH_NO_REPORT"):
    COMMAND_MIX = COMMAND_MIX[:-1]


def users(n: int) -> list[str]:
    return [f"U{i:04d}" for i in range(1, n + 1)]


# -- child roles ---------------------------------------------------------------------------------


async def role_fake(members: int) -> None:
    from bot.priority import yield_to_the_server
    from tests.fakes.slack_api import FakeChannel, FakeSlack, FakeUser

    # The fake stands in for Slack's servers, whose work is not on pulsebot's machine: it runs only
    # on cores the servers under test leave idle (as in team_pulse_bench), and still answers every call.
    yield_to_the_server(19)
    people = [FakeUser(u, f"user{u}", locale="es-ES" if i % 2 else "en-US") for i, u in enumerate(users(members))]
    people.append(FakeUser(LEADER, "lead"))
    fake = FakeSlack(users=people, channels=[FakeChannel(CHANNEL, "bench", [*users(members), LEADER, "UPULSEBOT"])],
                     bot_token=TOKEN, team_id=TEAM)
    await fake.start()
    print(fake.url, flush=True)
    await wait_for_signal()


async def role_bare(port: int, api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    # process_before_response=True, as pulsebot: bolt answers when the listener returns instead of
    # polling for the ack every 10 ms, so the comparison measures pulsebot's own overhead.
    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET,
                   process_before_response=True)

    async def just_ack(ack: Any) -> None:
        await ack()

    for command in ("/pulse", "/team-pulse", "/empty-chair"):
        app.command(command)(just_ack)
    app.action(re.compile(".+"))(just_ack)

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


# -- set-up --------------------------------------------------------------------------------------


def write_config(folder: Path) -> Path:
    path = folder / "pulsebot.toml"
    path.write_text(
        "[pulse]\nmin_group_size = 5\ndefault_locale = \"es\"\ntimezone = \"Europe/Madrid\"\n\n"
        f"[[teams]]\nname = \"bench\"\nslack_channel = \"{CHANNEL}\"\nleaders = [\"{LEADER}\"]\n",
        encoding="utf-8",
    )
    return path


Tap = tuple[str, str, str, int, dict[str, Any]]  # (user, DM channel, its ts, round id, the DM's message)


async def seed(env: dict[str, str], api_url: str) -> list[Tap]:
    """Roster from the channel, a round opened and its DMs sent; each member's `Tap`."""
    import tomllib

    from bot.slack.messenger import SlackMessenger, WorkspaceGate, make_client
    from bot.slack.roster import sync_team
    from handlers.checkins import open_round
    from handlers.config import parse_config
    from handlers.context import Context
    from handlers.setup import apply_config
    from schedules.outbox import Sender
    from storage.db import Store
    from storage.migrate import upgrade

    store = Store(env["DATABASE_URL"])
    await upgrade(store)
    config = parse_config(tomllib.loads(Path(env["PULSEBOT_CONFIG"]).read_text()))
    ctx = Context(store=store, config=config, secret=env["PULSEBOT_SECRET"].encode())
    await apply_config(ctx)
    gate = WorkspaceGate(rate=1000, burst=1000)
    client = make_client(TOKEN, base_url=api_url, gate=gate)

    async def client_for(_workspace: str) -> Any:
        return client, gate

    ctx.messengers["slack"] = SlackMessenger(client_for)
    await sync_team(ctx, client, TEAM, "bench")
    opened = await open_round(ctx, team_name="bench")
    await Sender(ctx).drain()
    taps = []
    for user in users(int(env["BENCH_MEMBERS"])):
        dm = "D" + user[1:]
        message = (await client.conversations_history(channel=dm))["messages"][0]
        taps.append((user, dm, message["ts"], opened.round_id, message))
    await store.dispose()
    return taps


# -- load ----------------------------------------------------------------------------------------


class Requests:
    """Signed Slack requests: a mix of slash commands and check-in taps."""

    def __init__(self, api_url: str, taps: list[Tap], seed_: int = 7) -> None:
        self.api_url = api_url
        self.taps = taps
        self.rng = random.Random(seed_)
        self.n = 0

    def next(self) -> tuple[str, str]:
        self.n += 1
        if self.n % 2:
            return self._command(), "application/x-www-form-urlencoded"
        return self._tap(), "application/x-www-form-urlencoded"

    def _command(self) -> str:
        user = self.rng.choice(self.taps)[0]
        command, text = COMMAND_MIX[self.n // 2 % len(COMMAND_MIX)]
        if command == "/team-pulse":
            user = LEADER
        return urlencode({
            "token": "x", "team_id": TEAM, "team_domain": "bench", "channel_id": CHANNEL, "channel_name": "bench",
            "user_id": user, "user_name": user.lower(), "command": command, "text": text, "api_app_id": "A0",
            "response_url": f"{self.api_url.removesuffix('/api/')}/response/{self.n}", "trigger_id": f"t{self.n}",
        })

    def _tap(self) -> str:
        user, dm, ts, rid, message = self.rng.choice(self.taps)
        score = self.rng.randint(1, 5)
        payload = {
            "type": "block_actions", "team": {"id": TEAM, "domain": "bench"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0", "trigger_id": f"t{self.n}",
            "container": {"type": "message", "message_ts": ts, "channel_id": dm, "is_ephemeral": False},
            "channel": {"id": dm, "name": "directmessage"},
            "response_url": f"{self.api_url.removesuffix('/api/')}/response/{self.n}",
            "message": message, "state": {"values": {}},
            "actions": [{"type": "button", "action_id": f"checkin.mood~{score - 1}", "block_id": "b",
                         "value": f"{rid}:{score}", "action_ts": str(time.time())}],
        }
        return urlencode({"payload": json.dumps(payload)})


def signed(body: str, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


async def one(http: aiohttp.ClientSession, url: str, body: str, content_type: str, out: list[float],
              errors: list[int]) -> None:
    headers = signed(body, content_type)
    start = time.perf_counter()
    try:
        async with http.post(url + "/slack/events", data=body.encode(), headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                errors.append(resp.status)
    except aiohttp.ClientError:
        errors.append(-1)
    out.append(time.perf_counter() - start)


async def burst(url: str, requests: Requests, n: int) -> tuple[list[float], list[int]]:
    out: list[float] = []
    errors: list[int] = []
    bodies = [requests.next() for _ in range(n)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await asyncio.gather(*(one(http, url, b, c, out, errors) for b, c in bodies))
    return out, errors


async def steady(url: str, requests: Requests, rate: float, seconds: float) -> tuple[list[float], list[int]]:
    out: list[float] = []
    errors: list[int] = []
    tasks = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            body, ctype = requests.next()
            tasks.append(asyncio.create_task(one(http, url, body, ctype, out, errors)))
        await asyncio.gather(*tasks)
    return out, errors


async def first_taps(http: aiohttp.ClientSession, url: str, api_url: str, taps: list[Tap], rate: float) -> None:
    """One tap from every member at `rate` a second, not measured (both sides): a member's first tap
    in a process has pulsebot keep their profile (users.info, once), which later taps do not pay."""
    for n, member in enumerate(taps):
        body = Requests(api_url, [member], n)._tap()
        async with http.post(url + "/slack/events", data=body.encode(),
                             headers=signed(body, "application/x-www-form-urlencoded")) as resp:
            await resp.read()
        await asyncio.sleep(1 / rate)


async def quiet(fake_url: str, still: float = 0.5, limit: float = 30.0) -> None:
    """Wait until pulsebot's work behind earlier acks is done: no Web API call for `still` s."""
    deadline = time.monotonic() + limit
    last = -1
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(fake_url + "/_stats") as resp:
                calls = (await resp.json())["calls"]
            if calls == last:
                return
            last = calls
            await asyncio.sleep(still)


# -- main ----------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            fake, fake_url = spawn([python, __file__, "--role", "fake", "--members", str(args.members)], env,
                                   read_line=True)
            procs.append(fake)
            api_url = fake_url + "/api/"
            env.update({
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "PULSEBOT_CONFIG": str(write_config(Path(tmp))),
                "PULSEBOT_SECRET": "bench-secret-0123456789abcdef-0123456789", "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url, "BENCH_MEMBERS": str(args.members),
            })
            env.pop("SLACK_APP_TOKEN", None)
            taps = await seed(env, api_url)
            pulse_port, bare_port = free_port(), free_port()
            pulse, _ = spawn([python, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(pulse_port)], env)
            bare, _ = spawn([python, __file__, "--role", "bare", "--port", str(bare_port), "--api-url", api_url], env)
            procs += [pulse, bare]
            targets = {"bare": f"http://127.0.0.1:{bare_port}", "pulsebot": f"http://127.0.0.1:{pulse_port}"}
            await wait_healthy(targets["pulsebot"], pulse)
            await wait_healthy(targets["bare"], bare)
            pairs = Pairs("burst_p99_ms", "steady_p99_ms", "steady_p50_ms", unit="ms")
            over = errors = 0
            for url in targets.values():
                async with aiohttp.ClientSession() as http:
                    await first_taps(http, url, api_url, taps, args.rate)
                await burst(url, Requests(api_url, taps, 1), 40)  # warm-up: imports, caches, connections
            # Each pair: bursts and steady parts on each server, the first alternating from pair to pair
            # and the sides taking turns within it (A B A B …), so that what else the machine does falls on
            # both alike. Every burst and part meets a server done with the previous one's work.
            segment = args.steady_seconds / args.pairs
            for turn, order in pairs.turns(args.pairs):
                bursts: dict[str, list[float]] = {"pulsebot": [], "baseline": []}
                parts: dict[str, list[float]] = {"pulsebot": [], "baseline": []}  # each part's p99
                steadies: dict[str, list[float]] = {"pulsebot": [], "baseline": []}
                for k in range(max(args.bursts, args.parts)):
                    for side in order:
                        name = "bare" if side == "baseline" else "pulsebot"
                        b: list[float] = []
                        st: list[float] = []
                        b_err: list[int] = []
                        st_err: list[int] = []
                        if k < args.bursts:
                            await quiet(fake_url)
                            b, b_err = await burst(targets[name], Requests(api_url, taps, turn * 10 + k), args.burst)
                            bursts[side].append(percentile(b, 99))
                        if k < args.parts:
                            await quiet(fake_url)
                            st, st_err = await steady(targets[name], Requests(api_url, taps, 100 + turn * 10 + k),
                                                      args.rate, segment / args.parts)
                            parts[side].append(percentile(st, 99))
                            steadies[side] += st
                        if name == "pulsebot":
                            over += sum(1 for v in b + st if v > SLACK_LIMIT)
                            errors += len(b_err) + len(st_err)
                # A p99 is the slowest answers of one moment: the pair's is the middle burst's (part's).
                for figure, p99s in (("burst_p99_ms", bursts), ("steady_p99_ms", parts)):
                    pairs.add(figure, pulsebot=1000 * statistics.median(p99s["pulsebot"]),
                              baseline=1000 * statistics.median(p99s["baseline"]))
                pairs.add("steady_p50_ms", pulsebot=1000 * percentile(steadies["pulsebot"], 50),
                          baseline=1000 * percentile(steadies["baseline"], 50))
            pairs.report()
            print(f"pulsebot non-200 answers: {errors}; load average {Path('/proc/loadavg').read_text().split()[:3]}")
            print(f"RESULT burst_p99_ratio={pairs.ratio('burst_p99_ms'):.2f} "
                  f"steady_p99_ratio={pairs.ratio('steady_p99_ms'):.2f} over_3s={over}")
            return 0
    finally:
        stop(procs)


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--role", choices=["main", "fake", "bare"], default="main")
    p.add_argument("--members", type=int, default=200)
    p.add_argument("--burst", type=int, default=200)
    p.add_argument("--bursts", type=int, default=5, help="bursts per server and pair, the sides alternating")
    p.add_argument("--parts", type=int, default=5, help="parts of each server's steady turn in a pair")
    add_pairs_argument(p)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--steady-seconds", type=float, default=231.0, help="steady load per server, cut into one turn a pair")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-url", default="")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.role == "fake":
        asyncio.run(role_fake(args.members))
    elif args.role == "bare":
        asyncio.run(role_bare(args.port, args.api_url))
    else:
        raise SystemExit(asyncio.run(main(args)))


if __name__ == "__main__":
    cli()
