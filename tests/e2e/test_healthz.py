"""`GET /healthz` over real HTTP: ok or unavailable, never the store's error text."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import Faces, build_web_app
from handlers.config import parse_config
from handlers.context import Context
from storage.db import Store
from storage.migrate import upgrade

CONFIG = parse_config({"pulse": {"min_group_size": 3}})
SECRET = b"healthz-secret-0123456789abcdef-0123"


def scheduler() -> dict[str, Any]:
    return {"ok": True, "scheduler": "running", "clock_holder": True}


@asynccontextmanager
async def serve(store: Store) -> AsyncIterator[str]:
    ctx = Context(store=store, config=CONFIG, secret=SECRET)
    runner = web.AppRunner(build_web_app(ctx, Faces(), health=scheduler), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/healthz"
    finally:
        await runner.cleanup()
        await store.dispose()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


async def test_a_store_that_fails_is_reported_unavailable_without_its_error_text(tmp_path: Path, caplog):
    caplog.set_level(logging.ERROR)
    missing = tmp_path / "no-such-dir" / "secret-name.db"
    async with serve(Store(f"sqlite+aiosqlite:///{missing}")) as url:
        status, body = await get(url)
    assert status == 503
    assert json.loads(body) == {"ok": False, "store": "unavailable",
                                                "scheduler": "running", "clock_holder": True}
    assert "unable" not in body.lower() and "secret-name" not in body and "sqlite" not in body.lower()
    # The operator still learns why, from the log.
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert logged and "unable to open database file" in str(logged[0].exc_info[1])


async def test_a_reachable_store_and_a_running_scheduler_are_ok(tmp_path: Path):
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'pulse.db'}")
    await upgrade(store)
    async with serve(store) as url:
        status, body = await get(url)
    assert status == 200
    assert json.loads(body) == {"ok": True, "store": "ok", "scheduler": "running",
                                                "clock_holder": True}
