"""Fan-out benchmark: one check-in round to 2,000 members through the real Slack messenger and the outbox.

The fake Slack (`tests/fakes/slack_api.py`, a real HTTP server on 127.0.0.1) enforces 1 message
a second per channel and 20 a second per workspace (sliding one-second windows) and answers a
share of all calls with 429. The round is opened with `handlers.checkins.open_round` on a SQLite
store and drained by `schedules.outbox.Sender` through `bot.slack.messenger.SlackMessenger`,
whose token bucket is set to the workspace's allowed rate.

    .venv/bin/python bench/fanout_bench.py [--members 2000] [--rate-per-workspace 20]
        [--rate-per-channel 1] [--ratio-429 0.05] [--retry-after 1] [--concurrency 8]

Prints the achieved rate against the allowed rate, duplicates (a member with more than one
message) and losses (a member with none, or a delivery not marked sent). Target: rate ratio
≥ 0.95, 0 duplicates, 0 lost. The baseline is a bare loop posting the same DMs through slack-sdk
and the same gate (no store, no outbox) against a fresh fake with the same limits and 429s; the
two run in `--pairs` pairs, order alternating (bench/pairs.py). RESULT's rate_ratio and
limit_ratio are pulsebot's medians over the pairs; duplicates and lost count every run. About
100 s a run at 2,000 members: 5 pairs take about 17 minutes, plus 30 s for the two senders.

A second run does it as an operator would with two processes: the real `pulsebot serve` (the
clock's holder) and `pulsebot checkins send` started beside it on the same SQLite file, against
the same fake (`--two-members`, default 600). Its figures come from the fake's own timeline:
achieved rate over the time the workspace was not inside a 429's Retry-After, duplicates,
losses, and posts that arrived inside a Retry-After window (must be 0).

Last line: `RESULT rate_ratio=… duplicates=… lost=… two_rate_ratio=… two_duplicates=… two_lost=…
two_inside_pause=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import func, select  # noqa: E402

from bench.pairs import Pairs, add_pairs_argument  # noqa: E402
from bot.slack.messenger import SlackMessenger, WorkspaceGate, make_client  # noqa: E402
from handlers.checkins import open_round  # noqa: E402
from handlers.config import parse_config  # noqa: E402
from handlers.context import Context  # noqa: E402
from handlers.members import sync_roster  # noqa: E402
from handlers.ports import Actor  # noqa: E402
from handlers.setup import apply_config  # noqa: E402
from schedules.outbox import Sender  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Delivery  # noqa: E402
from tests.fakes.slack_api import FakeChannel, FakeSlack, FakeUser  # noqa: E402

TEAM = "soporte"


class MeasuredGate(WorkspaceGate):
    """The messenger's own gate, also keeping the time a 429's Retry-After forbade any send.

    Slack's contract (and the fake's) is that after a 429 the workspace may not send until
    Retry-After has passed, so that time is not part of the allowed budget.
    """

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.intervals: list[tuple[float, float]] = []

    def pause(self, seconds: float) -> None:
        now = time.monotonic()
        start, end = now, now + seconds
        if self.intervals and start <= self.intervals[-1][1]:
            start = self.intervals[-1][0]
            end = max(end, self.intervals.pop()[1])
        self.intervals.append((start, end))
        super().pause(seconds)

    def paused_between(self, begin: float, finish: float) -> float:
        return sum(max(0.0, min(e, finish) - max(s, begin)) for s, e in self.intervals)


async def prepare(db: Path, members: list[str]) -> Context:
    store = Store(f"sqlite+aiosqlite:///{db}")
    await upgrade(store)
    config = parse_config({"pulse": {"min_group_size": 5, "timezone": "Europe/Madrid"},
                           "teams": [{"name": TEAM, "slack_channel": "C0TEAM"}]})
    ctx = Context(store=store, config=config, secret=b"bench-secret-0123456789")
    await apply_config(ctx)
    await sync_roster(ctx, team_name=TEAM, members=[
        Actor(platform="slack", user_id=uid, workspace="T0TEST", timezone="Europe/Madrid") for uid in members
    ])
    return ctx


def _pauses(fake: FakeSlack) -> list[tuple[float, float]]:
    """The fake's 429s on chat.postMessage as merged [start, end) Retry-After windows."""
    out: list[tuple[float, float]] = []
    for t, method, code in fake.timeline:
        if method != "chat.postMessage" or code != 429:
            continue
        if out and t <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], t + fake.retry_after))
        else:
            out.append((t, t + fake.retry_after))
    return out


async def bench_two_senders(args: argparse.Namespace) -> tuple[float, int, int, int]:
    """`pulsebot serve` plus `pulsebot checkins send` on one store: one sender, same figures."""
    import os
    import subprocess

    from tests.polling import eventually
    from tests.schedules.serving import LAUNCHER, ROOT, Served, serve_env, team_toml

    members = [f"U{i:05d}" for i in range(args.two_members)]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "pulsebot.toml"
        config.write_text(team_toml(members), encoding="utf-8")
        fake = FakeSlack(
            users=[FakeUser(uid, uid.lower()) for uid in members],
            channels=[FakeChannel("C0TEAM", TEAM, members=[*members, "UPULSEBOT"])],
            rate_per_channel=args.rate_per_channel, rate_per_workspace=args.rate_per_workspace,
            random_429_ratio=args.ratio_429, retry_after=args.retry_after, seed=args.seed,
        )
        async with fake:
            env = serve_env(db_url=f"sqlite+aiosqlite:///{Path(tmp) / 'two.db'}", config=config,
                            api_url=fake.api_url, token=fake.bot_token,
                            rate=args.rate_per_workspace * args.headroom)
            env["PULSEBOT_TEST_SLACK_BURST"] = "1"  # paced like the in-process run: no bursts
            served = Served(env, Path(tmp) / "serve.log")
            try:
                await served.wait_healthy()
                await eventually(served.holds_clock, timeout=30)
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, str(LAUNCHER), "checkins", "send", "--team", TEAM, cwd=ROOT,
                    env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])},
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                )
                out, err = await proc.communicate()
            finally:
                served.stop()
            print(f"two senders: checkins send exited {proc.returncode}: {out.decode().strip() or err.decode()[-500:]}")
            posts = [t for t, m, code in fake.timeline if m == "chat.postMessage" and code == 200]
            pauses = _pauses(fake)
            begin, finish = min(posts), max(posts)
            elapsed = finish - begin
            paused = sum(max(0.0, min(e, finish) - max(s0, begin)) for s0, e in pauses)
            inside = sum(1 for t, m, _c in fake.timeline if m == "chat.postMessage"
                         for s0, e in pauses if s0 + 0.15 < t < e)
            per_member = Counter({uid: len(fake.messages(fake.dm_channel(uid))) for uid in members})
            duplicates = sum(n - 1 for n in per_member.values() if n > 1)
            lost = sum(1 for n in per_member.values() if n == 0) + (proc.returncode != 0)
            delivered = sum(1 for n in per_member.values() if n >= 1)
            rate = (delivered - 1) / elapsed if elapsed else 0.0
            allowed = args.rate_per_workspace * (elapsed - paused) / elapsed if elapsed else 1.0
            print(f"two senders: delivered {delivered}/{len(members)} in {elapsed:.1f} s ({rate:.2f} msg/s), "
                  f"Retry-After pauses {paused:.1f} s, allowed {allowed:.2f} msg/s, achieved / allowed "
                  f"{rate / allowed:.3f}; posts inside a pause {inside}; duplicates {duplicates}, lost {lost}")
    return rate / allowed, duplicates, lost, inside


async def bench(args: argparse.Namespace) -> tuple[float, float, int, int]:
    members = [f"U{i:05d}" for i in range(args.members)]
    with tempfile.TemporaryDirectory() as tmp:
        ctx = await prepare(Path(tmp) / "fanout.db", members)
        fake = FakeSlack(
            users=[FakeUser(uid, uid.lower()) for uid in members],
            channels=[FakeChannel("C0TEAM", TEAM, members=[*members, "UPULSEBOT"])],
            rate_per_channel=args.rate_per_channel, rate_per_workspace=args.rate_per_workspace,
            random_429_ratio=args.ratio_429, retry_after=args.retry_after, seed=args.seed,
        )
        await fake.start()
        try:
            # A little under the limit: request jitter must not push 21 posts into one sliding second,
            # because every 429 closes the whole workspace for its Retry-After.
            gate = MeasuredGate(rate=args.rate_per_workspace * args.headroom, burst=1)
            client = make_client(fake.bot_token, base_url=fake.api_url, gate=gate)

            async def client_for(_workspace: str):  # noqa: ANN202
                return client, gate

            ctx.messengers["slack"] = SlackMessenger(client_for)
            opened = await open_round(ctx, team_name=TEAM)
            print(f"round {opened.period}: {opened.new_deliveries} deliveries in the outbox")
            sender = Sender(ctx, per_workspace=args.concurrency, base_delay=1.0)
            started = time.monotonic()
            total = Counter()
            while True:
                report = await sender.drain()
                total.update(sent=report.sent, found=report.found, retried=report.retried, failed=report.failed)
                async with ctx.store.session() as session:
                    waiting = (await session.exec(
                        select(func.count()).where(Delivery.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
                    )).one()
                if not waiting:
                    break
                await asyncio.sleep(0.2)  # rows backing off: the sender loop polls like this
            finished = time.monotonic()
            elapsed = finished - started
            paused = gate.paused_between(started, finished)
            per_member = Counter({uid: len(fake.messages(fake.dm_channel(uid))) for uid in members})
            async with ctx.store.session() as session:
                statuses = dict((await session.exec(
                    select(Delivery.status, func.count()).group_by(Delivery.status))).all())
            duplicates = sum(n - 1 for n in per_member.values() if n > 1)
            lost = sum(1 for n in per_member.values() if n == 0) + sum(
                n for status, n in statuses.items() if status != "sent")
            delivered = sum(1 for n in per_member.values() if n >= 1)
            rate = delivered / elapsed
            allowed = args.rate_per_workspace * (elapsed - paused) / elapsed
            print(f"delivered {delivered}/{len(members)} in {elapsed:.1f} s: {rate:.2f} msg/s "
                  f"(limits: {args.rate_per_workspace:g}/s per workspace, {args.rate_per_channel:g}/s per channel)")
            print(f"429 Retry-After pauses (whole workspace, as Slack requires): {paused:.1f} s of {elapsed:.1f} s; "
                  f"allowed rate over the run {allowed:.2f} msg/s")
            print(f"achieved / allowed = {rate / allowed:.3f}; achieved / workspace limit = "
                  f"{rate / args.rate_per_workspace:.3f}")
            print(f"sender: sent {total['sent']}, found already posted {total['found']}, "
                  f"retried {total['retried']}, failed {total['failed']}; statuses {statuses}")
            print(f"fake Slack: chat.postMessage answered {len(fake.calls('chat.postMessage'))}, "
                  f"429s {fake.rate_limited('chat.postMessage')} (+{fake.rate_limited('conversations.history')} "
                  f"on conversations.history)")
            print(f"duplicates {duplicates}, lost {lost}")
        finally:
            await fake.stop()
            await ctx.store.dispose()
    return rate / allowed, rate / args.rate_per_workspace, duplicates, lost


async def bare(args: argparse.Namespace) -> tuple[float, float]:
    """The baseline: the same DMs posted by a bare loop (slack-sdk, the same gate, no store, no outbox)."""
    from slack_sdk.errors import SlackApiError

    members = [f"U{i:05d}" for i in range(args.members)]
    fake = FakeSlack(
        users=[FakeUser(uid, uid.lower()) for uid in members],
        channels=[FakeChannel("C0TEAM", TEAM, members=[*members, "UPULSEBOT"])],
        rate_per_channel=args.rate_per_channel, rate_per_workspace=args.rate_per_workspace,
        random_429_ratio=args.ratio_429, retry_after=args.retry_after, seed=args.seed,
    )
    await fake.start()
    try:
        gate = MeasuredGate(rate=args.rate_per_workspace * args.headroom, burst=1)
        client = make_client(fake.bot_token, base_url=fake.api_url, gate=gate)
        todo = list(reversed(members))

        async def worker() -> None:
            while todo:
                uid = todo.pop()
                await gate.acquire()
                try:
                    await client.chat_postMessage(channel=uid, text="¿Cómo te sientes esta semana?")
                except SlackApiError:
                    todo.append(uid)  # past the client's own 429 retries: again, later
        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        finished = time.monotonic()
        elapsed = finished - started
        delivered = sum(1 for uid in members if fake.messages(fake.dm_channel(uid)))
        rate = delivered / elapsed
        allowed = args.rate_per_workspace * (elapsed - gate.paused_between(started, finished)) / elapsed
        print(f"bare loop: delivered {delivered}/{len(members)} in {elapsed:.1f} s: {rate:.2f} msg/s, "
              f"achieved / allowed {rate / allowed:.3f}")
    finally:
        await fake.stop()
    return rate / allowed, rate / args.rate_per_workspace


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=2000)
    p.add_argument("--rate-per-workspace", type=float, default=20.0)
    p.add_argument("--rate-per-channel", type=float, default=1.0)
    p.add_argument("--ratio-429", type=float, default=0.05)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--headroom", type=float, default=0.95, help="the client's pace as a share of the limit")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--two-members", type=int, default=600, help="members in the serve + checkins send run")
    add_pairs_argument(p, default=5)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    pairs = Pairs("rate_ratio", "limit_ratio")
    duplicates = lost = 0
    for _i, order in pairs.turns(args.pairs):
        got: dict[str, tuple[float, float]] = {}
        for side in order:
            if side == "pulsebot":
                ratio, raw, dup, gone = asyncio.run(bench(args))
                duplicates, lost = duplicates + dup, lost + gone
                got[side] = (ratio, raw)
            else:
                got[side] = asyncio.run(bare(args))
        pairs.add("rate_ratio", pulsebot=got["pulsebot"][0], baseline=got["baseline"][0])
        pairs.add("limit_ratio", pulsebot=got["pulsebot"][1], baseline=got["baseline"][1])
    two_ratio, two_dup, two_lost, inside = asyncio.run(bench_two_senders(args))
    pairs.report()
    ratio, raw = pairs.median("rate_ratio"), pairs.median("limit_ratio")
    print(f"pulsebot's rate / the bare loop's, median of the pairs: {pairs.ratio('rate_ratio'):.3f}")
    print(f"RESULT rate_ratio={ratio:.3f} duplicates={duplicates} lost={lost} limit_ratio={raw:.3f} "
          f"two_rate_ratio={two_ratio:.3f} two_duplicates={two_dup} two_lost={two_lost} two_inside_pause={inside}")
    ok = ratio >= 0.95 and duplicates == 0 and lost == 0
    return 0 if ok and two_ratio >= 0.95 and two_dup == 0 and two_lost == 0 and inside == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
