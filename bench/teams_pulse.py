"""The Teams leader's wait, for bench/team_pulse_bench.py: `team-pulse` typed in the personal chat to
the report card with its chart at the fake Bot Connector (tests/fakes/teams_connector.py).

The real `pulsebot serve` (Teams in Emulator mode, loopback only; a demo team's 12 weeks of closed
rounds) answers in the turn; the wait ends when the card with the chart's image has reached the
fake, which runs in this process. Cold is a fresh server's first request, asked `after` seconds
after `/healthz` is first 200; warm, `requests` more on the same server. Printed, not in RESULT.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bench.pairs import percentile
from bench.processes import free_port, spawn, wait_healthy
from tests.fakes.teams_connector import FakeConnector, member
from tests.teams.conftest import LEAD, TEAM_ID, TeamsClient

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ('[pulse]\nmin_group_size = 5\ndefault_locale = "en"\ntimezone = "Europe/Madrid"\n\n'
          f'[[teams]]\nname = "soporte"\nteams_conversation = "{TEAM_ID}"\nleaders = ["teams:{LEAD.id}"]\n')


async def ask(client: TeamsClient, fake: FakeConnector) -> float:
    """Seconds from sending `team-pulse` to the card with the chart at the fake."""
    conversation = f"a:personal-{LEAD.id}"
    before = len(fake.activities(conversation))
    started = time.perf_counter()
    status, _ = await client.say(LEAD, "team-pulse soporte")
    if status not in (200, 202):
        raise SystemExit(f"team-pulse in Teams answered {status}")
    while True:
        for activity in fake.activities(conversation)[before:]:
            for attachment in activity.get("attachments") or []:
                if any(el.get("type") == "Image" for el in (attachment.get("content") or {}).get("body", [])):
                    return time.perf_counter() - started
        await asyncio.sleep(0.002)


async def teams_leader_wait(seed_history: Callable[[dict[str, str]], Awaitable[None]], *, requests: int,
                            cold: int, after: float) -> None:
    """Print the Teams leader's wait, cold and warm."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "pulsebot.toml"
        config.write_text(CONFIG, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "PULSEBOT_"))}
        env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/teams.db", "PULSEBOT_CONFIG": str(config),
                    "PULSEBOT_SECRET": "bench-secret-0123456789abcdef-0123456789", "PULSEBOT_TEAMS_EMULATOR": "1",
                    "PULSEBOT_PUBLIC_URL": "http://127.0.0.1", "PYTHONPATH": str(ROOT)})
        await seed_history(env)
        colds: list[float] = []
        warm: list[float] = []
        async with FakeConnector() as fake, aiohttp.ClientSession() as http:
            fake.add_member(TEAM_ID, member(LEAD.id, LEAD.name, aad=LEAD.aad))
            for n in range(cold + 1):
                port = free_port()
                proc, _ = spawn([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)], env)
                try:
                    await wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=60)
                    await asyncio.sleep(after)
                    client = TeamsClient(http, f"http://127.0.0.1:{port}/api/messages", fake.url)
                    colds.append(await ask(client, fake))
                    if n == cold:  # the last server stays for the warm requests
                        warm = [await ask(client, fake) for _ in range(requests)]
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=20)
    print(f"Teams leader's wait, cold (a fresh server's first request, {after:g} s after healthy): n={len(colds)} "
          f"min {min(colds):.3f} median {percentile(colds, 50):.3f} max {max(colds):.3f} s")
    if warm:
        print(f"Teams leader's wait, warm (no tap load): n={len(warm)} p50 {percentile(warm, 50):.3f} "
              f"p99 {percentile(warm, 99):.3f} max {max(warm):.3f} s")
