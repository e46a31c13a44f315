"""Run the real `pulsebot serve` as a subprocess against a fake Slack, for crash and replica tests.

`serve_paced.py` starts the ordinary CLI with the Slack face's per-workspace pace taken from
`PULSEBOT_TEST_SLACK_RATE` (the face's default of 4 messages a second would make a 500-member
round last two minutes); everything else is the product as an operator runs it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from handlers.config import WEEKDAYS
from tests.environ import clean_env
from tests.fakes.slack_api import FakeChannel, FakeSlack, FakeUser
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).with_name("serve_paced.py")
SECRET = "e2e-secret-0123456789abcdef-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quiet_weekday(tz: str = "Europe/Madrid") -> str:
    """A weekday whose opening is neither today nor yesterday: the clock's catch-up stays out of the way."""
    today = datetime.now(UTC).astimezone(ZoneInfo(tz)).date()
    busy = {today.weekday(), (today - timedelta(days=1)).weekday()}
    return next(day for i, day in enumerate(WEEKDAYS) if i not in busy)


def team_toml(members: list[str], channel: str = "C0TEAM") -> str:
    roster = ", ".join(f'"slack:{m}"' for m in members)
    return (
        '[pulse]\nmin_group_size = 3\ndefault_locale = "es"\ntimezone = "Europe/Madrid"\n\n'
        f'[[teams]]\nname = "soporte"\nslack_channel = "{channel}"\nmembers = [{roster}]\n'
        f'checkin = {{ cadence = "weekly", weekday = "{quiet_weekday()}", time = "10:00", '
        "window_hours = 2, reminder_after_hours = 1 }\n"
    )


def serve_env(*, db_url: str, config: Path, api_url: str, token: str, rate: float) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=db_url,
        PULSEBOT_CONFIG=str(config),
        PULSEBOT_SECRET=SECRET,
        SLACK_BOT_TOKEN=token,
        SLACK_SIGNING_SECRET="e2e-signing-secret",
        SLACK_API_URL=api_url,
        PULSEBOT_TEST_SLACK_RATE=str(rate),
        PYTHONPATH=str(ROOT),
    )


class Served:
    """One `pulsebot serve` process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT,
        )

    async def health(self) -> dict | None:
        try:
            async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{self.port}/healthz", timeout=aiohttp.ClientTimeout(total=2)
            ) as resp:
                return await resp.json()
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def wait_healthy(self, timeout: float = 30.0) -> dict:
        """The first ok body of /healthz; fails at once if the process exits first."""

        async def healthy() -> dict | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            body = await self.health()
            return body if body is not None and body.get("ok") else None

        return await eventually(healthy, timeout=timeout, step=0.1,
                                otherwise=lambda: f"serve never became healthy:\n{self.log.read_text()[-3000:]}")

    async def holds_clock(self) -> bool:
        """This process runs the clock now (its /healthz says so)."""
        body = await self.health()
        return bool(body and body.get("clock_holder"))

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, like a crash or an OOM kill."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._out.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._out.closed:
            self._out.close()


async def one_holder(replicas: list[Served]) -> bool:
    """Exactly one of `replicas` runs the clock."""
    return [await r.holds_clock() for r in replicas].count(True) == 1


def fake_for(members: list[str]) -> FakeSlack:
    """A fake Slack whose channel C0TEAM holds `members` (and the bot)."""
    users = [FakeUser(uid, uid.lower()) for uid in members]
    return FakeSlack(users=users, channels=[FakeChannel("C0TEAM", "soporte", members=[*members, "UPULSEBOT"])])


def assert_exactly_one_each(fake: FakeSlack, members: list[str]) -> None:
    """Every member got exactly one DM."""
    per_member = {uid: len(fake.messages(fake.dm_channel(uid))) for uid in members}
    assert {n for n in per_member.values()} == {1}, {u: n for u, n in per_member.items() if n != 1}
