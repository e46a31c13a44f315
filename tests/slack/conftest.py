"""Fixtures of the Slack face's tests: a fake Slack Web API and a signing helper."""

from __future__ import annotations

import sys
from pathlib import Path

# `tests.fakes` lives beside the packages, not inside them; make the repository root importable
# when pytest is started from the venv's script (which does not put the cwd on sys.path).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import aiohttp  # noqa: E402
import pytest  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.app import Faces, build_web_app  # noqa: E402
from bot.slack.app import SlackFace  # noqa: E402
from handlers.config import Settings  # noqa: E402
from handlers.context import Context  # noqa: E402
from tests.context import build_ctx, sqlite_in  # noqa: E402
from tests.fakes.slack_api import FakeChannel, FakeSlack, FakeUser  # noqa: E402

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM_ID = "T0TEST"

USERS = [
    FakeUser("U0BOSS", "boss", locale="en-US"),
    FakeUser("U1", "ana", locale="es-ES", tz="Europe/Madrid", real_name="Ana García"),
    FakeUser("U2", "bob", locale="en-GB", tz="Europe/London"),
    FakeUser("U3", "carla", locale="en-US", tz="America/New_York"),
    FakeUser("U4", "dan", locale="en-US"),
    FakeUser("UHELPER", "helperbot", is_bot=True),
    FakeUser("UGONE", "gone", deleted=True),
    FakeUser("UGUEST", "guest", is_restricted=True),
    FakeUser("UGUEST2", "guest2", is_ultra_restricted=True),
]
CHANNELS = [
    FakeChannel("C0SUPPORT", "soporte", members=["U0BOSS", "U1", "U2", "U3", "U4", "UHELPER", "UGONE", "UGUEST",
                                                 "UGUEST2", "UPULSEBOT"]),
    FakeChannel("C0PRIVATE", "secret", members=["U1"], is_private=True),
    FakeChannel("C0PUBLIC", "random", members=["U1", "U2"]),
]
CONFIG = {
    "pulse": {"min_group_size": 3, "default_locale": "en", "timezone": "Europe/Madrid"},
    "teams": [{"name": "soporte", "slack_channel": "C0SUPPORT", "leaders": ["U0BOSS"]}],
}


def sign(body: str, ts: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The headers Slack sends: v0 HMAC-SHA256 of `v0:{ts}:{body}` with the signing secret."""
    ts = int(time.time()) if ts is None else ts
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


@dataclass
class SlackHarness:
    fake: FakeSlack
    ctx: Context
    face: SlackFace
    url: str
    http: aiohttp.ClientSession

    async def send(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
                   headers: dict[str, str] | None = None, signed: bool = True) -> tuple[int, str]:
        all_headers = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
        async with self.http.post(self.url + "/slack/events", data=body.encode(), headers=all_headers) as resp:
            return resp.status, await resp.text()

    async def command(self, command: str, text: str, *, user: str, channel: str = "C0SUPPORT",
                      channel_name: str = "soporte", team_id: str = TEAM_ID) -> str:
        response_url = self.fake.new_response_url()
        body = urlencode({
            "token": "legacy", "team_id": team_id, "team_domain": "fake", "channel_id": channel,
            "channel_name": channel_name, "user_id": user, "user_name": user.lower(), "command": command,
            "text": text, "api_app_id": "A0PULSE", "response_url": response_url, "trigger_id": f"trig-{user}",
        })
        status, answer = await self.send(body)
        assert status == 200, answer
        return response_url

    async def tap(self, user: str, button: dict[str, Any], *, channel: str, ts: str, ephemeral: bool = False,
                  response_url: str = "", team_id: str = TEAM_ID) -> tuple[int, str]:
        payload = {
            "type": "block_actions", "team": {"id": team_id, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
            "api_app_id": "A0PULSE", "trigger_id": f"trig-{user}-{time.monotonic_ns()}",
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral},
            "channel": {"id": channel, "name": "directmessage" if channel.startswith("D") else "soporte"},
            "response_url": response_url or self.fake.new_response_url(),
            "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b",
                         "value": button["value"], "action_ts": str(time.time())}],
        }
        return await self.send(urlencode({"payload": json.dumps(payload)}))

    async def submit(self, user: str, view: dict[str, Any], values: dict[str, str]) -> tuple[int, str]:
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"], "")
            if element["type"] == "static_select":
                state[block["block_id"]] = {element["action_id"]: {
                    "type": "static_select", "selected_option": {"value": value} if value else None}}
            else:
                state[block["block_id"]] = {element["action_id"]: {"type": "plain_text_input", "value": value}}
        payload = {
            "type": "view_submission", "team": {"id": TEAM_ID, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0PULSE", "trigger_id": "trig-submit",
            "view": {**view, "state": {"values": state}},
        }
        return await self.send(urlencode({"payload": json.dumps(payload)}))

    async def event(self, event: dict[str, Any], *, event_id: str,
                    headers: dict[str, str] | None = None, team_id: str = TEAM_ID) -> tuple[int, str]:
        body = json.dumps({"token": "legacy", "team_id": team_id, "api_app_id": "A0PULSE", "type": "event_callback",
                           "event_id": event_id, "event_time": int(time.time()), "event": event})
        return await self.send(body, content_type="application/json", headers=headers)


@pytest.fixture
async def slack(tmp_path: Any, request: pytest.FixtureRequest) -> AsyncIterator[SlackHarness]:
    # The report worker process is started only where a test asks for it (it takes ~1 s to start).
    report_worker = request.node.get_closest_marker("report_worker") is not None
    # So is the courier process (bot/slack/courier.py): where a test asks for it, it is ready first.
    courier = request.node.get_closest_marker("courier") is not None
    async with FakeSlack(users=USERS, channels=CHANNELS, team_id=TEAM_ID) as fake:
        ctx = await build_ctx(sqlite_in(tmp_path), CONFIG)
        settings = Settings(slack_bot_token=fake.bot_token, slack_signing_secret=SIGNING_SECRET,
                            slack_api_url=fake.api_url, slack_app_token=None)
        face = SlackFace(ctx, settings, rate=1000, burst=1000, report_worker=report_worker, courier=courier)
        ctx.messengers["slack"] = face.messenger
        await face.start()
        if courier:
            assert await face.runtime.courier.start()
        web_app = build_web_app(ctx, Faces(slack=face))
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            yield SlackHarness(fake, ctx, face, f"http://127.0.0.1:{port}", http)
        await runner.cleanup()
        await face.stop()
        await ctx.store.dispose()
