"""`pulsebot dashboard-link --as …` through a real subprocess: a link for a leader, a refusal for anyone else."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from handlers.config import parse_config
from handlers.context import Context
from handlers.dashboard import check_link
from storage.db import Store
from tests.e2e.test_cli import SECRET, run

CONFIG = """
[pulse]
min_group_size = 3
default_locale = "es"
leaders = ["console:ceo"]

[[teams]]
name = "soporte"
leaders = ["console:lead"]
members = ["console:ana", "console:bea", "console:carlos"]
"""


async def _reader_of(tmp_path: Path, token: str) -> str:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    try:
        ctx = Context(store=store, config=parse_config({}), secret=SECRET.encode())
        return (await check_link(ctx, token)).actor.key
    finally:
        await store.dispose()


def test_a_leader_gets_a_one_time_link_at_the_public_url(tmp_path):
    done = run(tmp_path, "dashboard-link", "--as", "console:lead", config=CONFIG,
               env={"PULSEBOT_PUBLIC_URL": "https://pulse.example.com/"})
    assert done.returncode == 0, done.stderr
    url = urlsplit(done.stdout.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "pulse.example.com", "/dashboard/login")
    (token,) = parse_qs(url.query)["token"]
    assert asyncio.run(_reader_of(tmp_path, token)) == "console:lead"


def test_without_a_public_url_the_link_points_at_this_machine(tmp_path):
    done = run(tmp_path, "dashboard-link", "--as", "console:ceo", "--port", "8123", config=CONFIG)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("http://127.0.0.1:8123/dashboard/login?token=")


def test_someone_who_leads_nothing_gets_no_link(tmp_path):
    done = run(tmp_path, "dashboard-link", "--as", "console:ana", config=CONFIG)
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr and "pulsebot:" in done.stderr
    bad = run(tmp_path, "dashboard-link", "--as", "nowhere:x", config=CONFIG)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_serve_warns_when_chat_faces_would_get_loopback_links(caplog):
    from bot.web.app import public_url

    assert public_url(None, 3000) == "http://127.0.0.1:3000" and not caplog.records
    assert public_url(" https://pulse.example.com/ ", 3000, warn=True) == "https://pulse.example.com"
    assert not caplog.records
    assert public_url("", 8080, warn=True) == "http://127.0.0.1:8080"
    assert "PULSEBOT_PUBLIC_URL is not set" in caplog.text
