"""Two `pulsebot serve` started at the same instant on one empty PostgreSQL: both come up healthy.

Before, both applied `pulsebot.toml` at once and the loser died with a unique violation on
`team_name_key` (a rolling deploy, `docker compose up --scale pulsebot=2`). Migrations and the
config now take turns under advisory locks.
"""

from __future__ import annotations

import os

import pytest

from tests.dbutil import empty_postgres
from tests.polling import eventually
from tests.schedules.serving import Served, fake_for, one_holder, serve_env, team_toml

PG_URL = os.environ.get("PULSEBOT_TEST_POSTGRES_URL", "")
ROUNDS = 10


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PULSEBOT_TEST_POSTGRES_URL is not set")
async def test_two_replicas_started_together_on_an_empty_database_both_come_up_ten_times(tmp_path):
    members = [f"U{i:04d}" for i in range(5)]
    config = tmp_path / "pulsebot.toml"
    config.write_text(team_toml(members), encoding="utf-8")
    async with fake_for(members) as fake:
        env = serve_env(db_url=PG_URL, config=config, api_url=fake.api_url, token=fake.bot_token, rate=10)
        for n in range(ROUNDS):
            await empty_postgres(PG_URL)
            replicas = [Served(env, tmp_path / f"serve-{n}-{side}.log") for side in "ab"]
            try:
                for r in replicas:
                    await r.wait_healthy()
                pair = replicas
                await eventually(lambda pair=pair: one_holder(pair), timeout=15, otherwise=lambda n=n: f"round {n}")
            finally:
                for r in replicas:
                    r.stop()
            for r in replicas:
                # What happened while starting and serving (jobs cut short by the stop are another matter).
                log = r.log.read_text().split("pulsebot stopping")[0]
                assert "UniqueViolation" not in log and "Traceback" not in log, log[-3000:]
