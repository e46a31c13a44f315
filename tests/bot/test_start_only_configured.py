"""`pulsebot serve` imports a face's SDK only when that face is configured, and matplotlib only to warm it.

A Slack-only server once imported the Microsoft 365 Agents SDK (about 2.7 s cold). These start
the real process (tests/bot/serve_modules.py writes its `sys.modules` when it stops) with only
Slack configured, and with Slack and Teams as the positive control. matplotlib belongs to the
report worker, which loads it in the background: seen in the worker's own memory map; with Teams
configured the server warms it too, in the background (Teams draws its charts in-process).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.environ import clean_env
from tests.polling import eventually
from tests.schedules.serving import ROOT, SECRET, fake_for, free_port, team_toml

LAUNCHER = Path(__file__).with_name("serve_modules.py")
TEAMS_SDK = "microsoft_agents"


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def maps_matplotlib(pid: int) -> bool:
    """The process has matplotlib's font renderer (a C extension) mapped: matplotlib is loaded."""
    try:
        return "matplotlib/ft2font" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


async def serve_and_list(tmp_path: Path, api_url: str, *, teams: bool) -> tuple[set[str], bool, bool]:
    """Start serve, wait until healthy and its report worker has warmed up (and, with Teams, the
    server itself); stop it; its modules at healthy, whether the worker and the server warmed."""
    config = tmp_path / "pulsebot.toml"
    config.write_text(team_toml(["U0A", "U0B", "U0C"]), encoding="utf-8")
    out = tmp_path / "modules.txt"
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'pulse.db'}", PULSEBOT_CONFIG=str(config),
                    PULSEBOT_SECRET=SECRET, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="start-signing-secret",
                    SLACK_API_URL=api_url, PULSEBOT_PUBLIC_URL="http://127.0.0.1",
                    PULSEBOT_TEST_MODULES_OUT=str(out), PYTHONPATH=str(ROOT))
    if teams:
        env["PULSEBOT_TEAMS_EMULATOR"] = "1"
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with aiohttp.ClientSession() as http:

            async def healthy() -> bool:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(healthy, timeout=30, step=0.05)
        warmed = await eventually(lambda: any(maps_matplotlib(c) for c in children(proc.pid)), timeout=30,
                                  step=0.05, otherwise=lambda: "the report worker never loaded matplotlib")
        server_warmed = teams and await eventually(lambda: maps_matplotlib(proc.pid), timeout=30, step=0.05,
                                                   otherwise=lambda: "the Teams server never loaded matplotlib")
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 20)
        log.close()
    assert proc.returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]
    return set(out.read_text(encoding="utf-8").split()), warmed, server_warmed


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


async def test_a_slack_only_server_imports_neither_the_teams_sdk_nor_matplotlib(tmp_path: Path):
    fake = fake_for(["U0A", "U0B", "U0C"])
    await fake.start()
    try:
        (tmp_path / "slack").mkdir()
        (tmp_path / "both").mkdir()
        (slack_only, worker_warm, _), (both, _, teams_server_warm) = await asyncio.gather(
            serve_and_list(tmp_path / "slack", fake.url + "/api/", teams=False),
            serve_and_list(tmp_path / "both", fake.url + "/api/", teams=True),
        )
    finally:
        await fake.stop()
    assert loaded(slack_only, "slack_bolt")
    assert not loaded(slack_only, TEAMS_SDK)
    assert not loaded(slack_only, "bot.teams")
    assert not loaded(slack_only, "matplotlib")
    # Migrations ran in a forked child: the server never holds Alembic.
    assert not loaded(slack_only, "alembic") and not loaded(both, "alembic")
    # Socket Mode's client is for SLACK_APP_TOKEN alone; an HTTP server never loads it.
    assert not loaded(slack_only, "slack_bolt.adapter.socket_mode")
    # The positive control: the same server with Teams configured does load its SDK, and warms
    # matplotlib itself in the background, since Teams draws a report's chart in the server.
    assert loaded(both, TEAMS_SDK) and loaded(both, "bot.teams")
    assert teams_server_warm and loaded(both, "matplotlib")
    # ...and the report worker has matplotlib loaded, warmed before any leader asked.
    assert worker_warm
