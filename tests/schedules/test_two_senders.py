"""`pulsebot checkins send` beside a running `pulsebot serve` on one SQLite store: one sender.

Before, both processes drained the outbox, each with its own rate-limit state: after a 429 the
other kept posting inside the Retry-After window. Now the command hands the round to the
clock's holder (or takes the clock's lock itself), and a 429's pause is in the store.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from tests.fakes.slack_api import FakeSlack
from tests.polling import eventually
from tests.schedules.serving import (
    LAUNCHER,
    ROOT,
    Served,
    assert_exactly_one_each,
    fake_for,
    serve_env,
    team_toml,
)

# Calls already on the wire when a 429 is answered may still arrive just after it.
IN_FLIGHT = 0.15


def posts_inside_a_pause(fake: FakeSlack) -> list[tuple[float, float]]:
    """(429 time, offending post time) for every chat.postMessage that arrived while a 429's
    Retry-After was running, calls already in flight excepted."""
    posts = [(t, code) for t, m, code in fake.timeline if m == "chat.postMessage"]
    limits = [t for t, code in posts if code == 429]
    return [(t0, t) for t0 in limits for t, _ in posts if t0 + IN_FLIGHT < t < t0 + fake.retry_after]


async def test_checkins_send_beside_serve_never_posts_inside_a_rate_limit_pause(tmp_path):
    members = [f"U{i:04d}" for i in range(40)]
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'pulse.db'}"
    config = tmp_path / "pulsebot.toml"
    config.write_text(team_toml(members), encoding="utf-8")
    fake = fake_for(members)
    fake.rate_per_workspace = 6  # below the face's pace: 429s with Retry-After: 1 are certain
    async with fake:
        env = serve_env(db_url=db_url, config=config, api_url=fake.api_url, token=fake.bot_token, rate=20)
        served = Served(env, tmp_path / "serve.log")
        try:
            body = await served.wait_healthy()
            await eventually(lambda: _holder(served), timeout=20, otherwise=lambda: served.log.read_text()[-2000:])
            assert body["ok"]
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(LAUNCHER), "checkins", "send", "--team", "soporte", cwd=ROOT, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
        finally:
            served.stop()
    assert proc.returncode == 0, err.decode()[-3000:]
    assert "sent 40" in out.decode() and "running pulsebot serve" in out.decode(), out.decode()
    assert fake.rate_limited("chat.postMessage") > 0  # the limit was really hit
    assert posts_inside_a_pause(fake) == []
    assert_exactly_one_each(fake, members)


async def _holder(served: Served) -> bool:
    body = await served.health()
    return bool(body and body.get("clock_holder"))
