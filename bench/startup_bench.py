"""Start-up benchmark: `pulsebot serve` from exec to a healthy `/healthz`, next to its floor (issue 14).

Run from the repository root: `.venv/bin/python bench/startup_bench.py [--pairs 7]`.

The floor is what no Slack-only pulsebot can beat: a bare `python -c "import …"` of the
third-party modules a Slack-only server imports (FLOOR below, read off `python -X importtime`).
Each pair starts, in alternating order, that bare import and a Slack-only `pulsebot serve` on a
fresh SQLite store (migrations included), timed from spawn until `/healthz` answers 200 (polled
every 5 ms); the server is then left idle a second and its resident memory read
(/proc/PID/status VmRSS; the report worker's own, a separate process, is printed beside it).
Each pair also starts a server with Slack and Teams configured (Teams with an app id; nothing is
sent, so no network is reached) and times it the same way.

Targets: slack_start_ratio ≤ 1.3, both_start_s ≤ 2.0 (median), slack_rss_mb ≤ 100.
About 5 s a pair on a quiet machine. Last line:
`RESULT slack_start_ratio=… slack_start_s=… both_start_s=… slack_rss_mb=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.pairs import Pairs, add_pairs_argument  # noqa: E402
from bench.processes import free_port, stop  # noqa: E402

# The third-party modules a Slack-only `pulsebot serve` imports (its own packages aside).
FLOOR = ("aiohttp.web, aiosqlite, alembic.command, alembic.config, apscheduler.schedulers.asyncio, babel.dates, "
         "babel.numbers, babel.support, jinja2, pydantic_settings, slack_bolt.async_app, slack_bolt.adapter.aiohttp, "
         "slack_sdk.web.async_client, sqlalchemy.ext.asyncio, sqlmodel")
OWN = ("SLACK_", "MICROSOFT_", "PULSEBOT_")
CONFIG = ('[pulse]\nmin_group_size = 5\ndefault_locale = "es"\ntimezone = "Europe/Madrid"\n\n'
          '[[teams]]\nname = "bench"\nslack_channel = "C0BENCH"\nleaders = ["U0LEAD"]\n')


def environment(folder: Path, *, teams: bool) -> dict[str, str]:
    """A clean environment with Slack (and Teams) configured and a fresh store in `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN)}
    config = folder / "pulsebot.toml"
    config.write_text(CONFIG, encoding="utf-8")
    env.update({
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db", "PULSEBOT_CONFIG": str(config),
        "PULSEBOT_SECRET": "bench-secret-0123456789abcdef-0123456789", "SLACK_BOT_TOKEN": "xoxb-bench",
        # An address nothing answers on: the roster sync at start fails fast and is logged, not fatal.
        "SLACK_SIGNING_SECRET": "bench-signing-secret", "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
        "PULSEBOT_PUBLIC_URL": "http://127.0.0.1", "PYTHONPATH": str(ROOT),
    })
    if teams:
        env.update({"MICROSOFT_APP_ID": "00000000-0000-0000-0000-0000000b0001",
                    "MICROSOFT_APP_PASSWORD": "bench-password", "MICROSOFT_APP_TENANT_ID": "bench-tenant"})
    return env


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """The direct children of `pid` (the report worker and multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


async def start_to_healthy(*, teams: bool, idle: float) -> tuple[float, float, float]:
    """Seconds from spawn to a 200 from `/healthz`; then the server's and its children's RSS (MB)."""
    with tempfile.TemporaryDirectory(prefix="pulsebot-start-") as tmp:
        env = environment(Path(tmp), teams=teams)
        port = free_port()
        log = open(os.environ["BENCH_LOG"], "ab") if os.environ.get("BENCH_LOG") else subprocess.DEVNULL
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        try:
            async with aiohttp.ClientSession() as http:
                while True:
                    if proc.poll() is not None:
                        raise SystemExit(f"serve exited early with {proc.returncode} (BENCH_LOG=FILE keeps its log)")
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(idle)
            own = rss_mb(proc.pid)
            worker = sum(rss_mb(c) for c in children(proc.pid))
        finally:
            stop([proc], timeout=15)
    return elapsed, own, worker


def floor_s() -> float:
    """Seconds a bare interpreter takes to import FLOOR."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {FLOOR}"], check=True, cwd=ROOT)
    return time.perf_counter() - started


async def main(args: argparse.Namespace) -> int:
    pairs = Pairs("slack_start_s", "both_start_s", "slack_rss_mb", "worker_rss_mb")
    floor_s()  # the first run of anything reads the files from disk; neither side should pay it alone
    await start_to_healthy(teams=False, idle=0)
    for _i, order in pairs.turns(args.pairs):
        for side in order:
            if side == "baseline":
                pairs.add("slack_start_s", baseline=floor_s())
            else:
                slack, own, worker = await start_to_healthy(teams=False, idle=args.idle)
                pairs.add("slack_start_s", pulsebot=slack)
                pairs.add("slack_rss_mb", pulsebot=own)
                pairs.add("worker_rss_mb", pulsebot=worker)
        both, _, _ = await start_to_healthy(teams=True, idle=0)
        pairs.add("both_start_s", pulsebot=both)
    pairs.report()
    # The 2.0 s target is absolute, so it moves with the machine's speed; this figure does not.
    floor = pairs.median("slack_start_s", "baseline")
    print(f"both_start_s ÷ floor (medians): {pairs.median('both_start_s') / floor:.2f}")
    print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"RESULT slack_start_ratio={pairs.ratio('slack_start_s'):.2f} "
          f"slack_start_s={pairs.median('slack_start_s'):.2f} both_start_s={pairs.median('both_start_s'):.2f} "
          f"slack_rss_mb={pairs.median('slack_rss_mb'):.0f}")
    return 0


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pairs_argument(p)
    p.add_argument("--idle", type=float, default=1.0, help="seconds a healthy server idles before its RSS is read")
    raise SystemExit(asyncio.run(main(p.parse_args())))


if __name__ == "__main__":
    cli()
