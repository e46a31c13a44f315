"""`pulsebot serve` with Teams configured starts, reads a team's roster, and says nothing deprecated.

The Teams face once imported `microsoft-agents-hosting-teams`, whose authors deprecated it: it
logged so at every start. The roster is now read from the Bot Connector through the core SDK's
connector client; this runs the real process with Python's deprecation warnings shown.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.fakes.teams_connector import FakeConnector, member
from tests.polling import eventually
from tests.schedules.serving import Served
from tests.teams.conftest import LEAD, MEMBERS, TEAM_ID, TeamsClient
from tests.teams.test_crash_e2e import teams_env, teams_toml


async def test_serve_with_teams_logs_and_warns_no_deprecation(tmp_path: Path, db_url: str):
    config = tmp_path / "pulsebot.toml"
    config.write_text(teams_toml(), encoding="utf-8")
    env = teams_env(db_url=db_url, config=config)
    env["PYTHONWARNINGS"] = "always::DeprecationWarning,always::PendingDeprecationWarning"
    log = tmp_path / "serve.log"
    async with FakeConnector() as fake:
        for user in [*MEMBERS, LEAD]:
            fake.add_member(TEAM_ID, member(user.id, user.name, aad=user.aad))
        served = Served(env, log)
        try:
            await served.wait_healthy()
            async with aiohttp.ClientSession() as http:
                client = TeamsClient(http, f"http://127.0.0.1:{served.port}/api/messages", fake.url)
                status, _ = await client.install_team(LEAD)
            assert status == 202

            async def roster_read() -> bool:
                return "teams roster read" in log.read_text()

            await eventually(roster_read, timeout=20, otherwise=lambda: log.read_text()[-3000:])
        finally:
            served.stop()
        assert fake.calls("pagedmembers")
    text = log.read_text()
    assert "deprecat" not in text.lower(), text[-3000:]
