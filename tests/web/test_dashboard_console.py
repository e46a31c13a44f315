"""`pulsebot chat --demo` serves the dashboard on a loopback port and `/team-pulse` prints a link that opens it."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import aiohttp

from tests.e2e.test_cli import SECRET


async def _line_with(proc: asyncio.subprocess.Process, pattern: str) -> re.Match[str]:
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=120)).decode()
        assert line, "chat ended before printing the link"
        if match := re.search(pattern, line):
            return match


async def test_the_console_leader_opens_the_dashboard_from_team_pulse(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "PULSEBOT_"))}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", PULSEBOT_SECRET=SECRET,
               PYTHONUNBUFFERED="1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat", "--as", "valeria", "--demo", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(b"/team-pulse soporte\n")
        await proc.stdin.drain()
        link = (await _line_with(proc, r"(http://127\.0\.0\.1:\d+)/dashboard/login\?token=(\S+)"))
        base, token = link.group(1), link.group(2)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{base}/dashboard/login", params={"token": token}) as page:
                assert page.status == 200
            async with http.post(f"{base}/dashboard/login", data={"token": token}) as signed:
                assert signed.status == 200 and str(signed.url) == f"{base}/dashboard/"
                assert "soporte" in await signed.text()
            async with http.get(f"{base}/dashboard/team/soporte") as team:
                html = await team.text()
                assert team.status == 200 and "<svg" in html and "soporte" in html
        proc.stdin.write(b"/quit\n")
        await proc.stdin.drain()
        assert await asyncio.wait_for(proc.wait(), timeout=60) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
