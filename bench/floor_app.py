"""The fair floor for a check-in tap's ack (issue 14): a bare slack-bolt app that stores one row, then acks.

Once "acknowledged" means "stored" (DESIGN.md, Reliability), a bare app that only acks is no
longer the floor: any app must write before it answers. This one does the least an app can: one
`INSERT … ON CONFLICT DO UPDATE` of (respondent key, round, score) and a commit on one aiosqlite
connection (pulsebot's default driver), on a SQLite file with the same durability pulsebot uses
(WAL, synchronous=NORMAL: a committed row survives a crash of the process), before the listener
returns. Served like pulsebot: bolt's aiohttp adapter, `process_before_response=True`, signatures
checked. Slash commands are only acked.

Other benches import `serve_floor` (or run this file: `python bench/floor_app.py --port P --db F`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.processes import wait_for_signal  # noqa: E402

KEY_SECRET = b"floor-secret-0123456789abcdef-0123456789"
SCHEMA = ("CREATE TABLE IF NOT EXISTS answer (respondent_key TEXT NOT NULL, round_id INTEGER NOT NULL, "
          "mood INTEGER, PRIMARY KEY (round_id, respondent_key)) WITHOUT ROWID")
UPSERT = ("INSERT INTO answer (respondent_key, round_id, mood) VALUES (?, ?, ?) "
          "ON CONFLICT (round_id, respondent_key) DO UPDATE SET mood = excluded.mood")


async def open_db(path: str) -> Any:
    """The floor's one connection: WAL and synchronous=NORMAL, as pulsebot's SQLite store."""
    import aiosqlite

    db = await aiosqlite.connect(path)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
        await db.execute(f"PRAGMA {pragma}")
    await db.execute(SCHEMA)
    await db.commit()
    return db


def floor_app(db: Any, *, signing_secret: str, token: str, api_url: str) -> Any:
    """The bolt AsyncApp: a tap's value "round:score" is stored under a keyed hash of its user, then acked."""
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token=token, base_url=api_url), signing_secret=signing_secret,
                   process_before_response=True)

    async def store_then_ack(ack: Any, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        round_id, _, score = str(action.get("value", "0:0")).partition(":")
        key = hmac.new(KEY_SECRET, f"{round_id}|slack:{body['user']['id']}".encode(), hashlib.sha256).hexdigest()
        await db.execute(UPSERT, (key, int(round_id or 0), int(score or 0)))
        await db.commit()
        await ack()

    async def just_ack(ack: Any) -> None:
        await ack()

    app.action(re.compile(".+"))(store_then_ack)
    for command in ("/pulse", "/team-pulse", "/empty-chair"):
        app.command(command)(just_ack)
    return app


async def serve_floor(port: int, db_path: str, *, signing_secret: str, token: str, api_url: str) -> None:
    """Serve the floor app on 127.0.0.1:`port` (`POST /slack/events`, `GET /healthz`) until SIGTERM."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    db = await open_db(db_path)
    app = floor_app(db, signing_secret=signing_secret, token=token, api_url=api_url)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", health)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"floor serving on {port}", flush=True)
    await wait_for_signal()
    await runner.cleanup()
    await db.close()


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", required=True, help="the SQLite file the floor writes to")
    p.add_argument("--signing-secret", required=True)
    p.add_argument("--token", default="xoxb-floor")
    p.add_argument("--api-url", default="http://127.0.0.1:9/api/")
    args = p.parse_args()
    asyncio.run(serve_floor(args.port, args.db, signing_secret=args.signing_secret, token=args.token,
                            api_url=args.api_url))


if __name__ == "__main__":
    cli()
