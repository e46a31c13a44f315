"""POST /slack/events exists only with SLACK_SIGNING_SECRET: in Socket Mode without it, it is 404.

The attack: a server in Socket Mode (SLACK_APP_TOKEN, no signing secret) still served the HTTP
route, unsigned, so anyone could run `/pulse me` or `/team-pulse` as any user and have the answer
posted to a `response_url` of their choosing. Tried over real HTTP against the app `pulsebot
serve` builds, with the Socket Mode connection made to the fake Slack.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import build_faces, build_web_app
from bot.slack.app import EVENTS_PATH
from handlers.config import Settings
from tests.context import build_ctx, sqlite_in
from tests.fakes.slack_api import FakeSlack
from tests.polling import eventually
from tests.slack.conftest import CHANNELS, CONFIG, SIGNING_SECRET, TEAM_ID, USERS, sign


def _command(command: str, text: str, user: str, response_url: str) -> str:
    return urlencode({
        "token": "legacy", "team_id": TEAM_ID, "team_domain": "fake", "channel_id": "C0SUPPORT",
        "channel_name": "soporte", "user_id": user, "user_name": user.lower(), "command": command,
        "text": text, "api_app_id": "A0PULSE", "response_url": response_url, "trigger_id": f"trig-{user}",
    })


async def test_socket_mode_without_a_signing_secret_serves_no_http_route(tmp_path, caplog):
    async with FakeSlack(users=USERS, channels=CHANNELS, team_id=TEAM_ID) as fake:
        ctx = await build_ctx(sqlite_in(tmp_path), CONFIG)
        settings = Settings(slack_bot_token=fake.bot_token, slack_app_token=fake.app_token,
                            slack_signing_secret=None, slack_api_url=fake.api_url,
                            microsoft_app_id=None, pulsebot_teams_emulator=False)
        with caplog.at_level("INFO"):
            faces = build_faces(ctx, settings)
            server = TestServer(build_web_app(ctx, faces), host="127.0.0.1")
            await server.start_server()
        try:
            for face in faces.all():
                await face.start()  # Socket Mode connects to the fake, as `serve` does
            await eventually(lambda: fake.socket_connected)
            url = str(server.make_url(EVENTS_PATH))
            async with aiohttp.ClientSession() as http:
                for command, text, user in (("/pulse", "me", "U1"), ("/team-pulse", "", "U0BOSS")):
                    body = _command(command, text, user, fake.new_response_url())
                    for headers in ({}, sign(body, secret="guessed-secret"), sign(body, secret=SIGNING_SECRET)):
                        async with http.post(url, data=body, headers={
                                "Content-Type": "application/x-www-form-urlencoded", **headers}) as resp:
                            assert resp.status == 404, (command, headers)
            assert fake.calls("response_url") == []
            assert any("POST /slack/events is off" in r.getMessage() for r in caplog.records)
        finally:
            await server.close()
            for face in faces.all():
                await face.stop()
            await ctx.store.dispose()


async def test_over_http_an_unsigned_slash_command_is_refused_and_answers_nowhere(tmp_path):
    async with FakeSlack(users=USERS, channels=CHANNELS, team_id=TEAM_ID) as fake:
        ctx = await build_ctx(sqlite_in(tmp_path), CONFIG)
        settings = Settings(slack_bot_token=fake.bot_token, slack_signing_secret=SIGNING_SECRET,
                            slack_app_token=None, slack_api_url=fake.api_url,
                            microsoft_app_id=None, pulsebot_teams_emulator=False)
        faces = build_faces(ctx, settings)
        server = TestServer(build_web_app(ctx, faces), host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http:
                body = _command("/team-pulse", "", "U0BOSS", fake.new_response_url())
                async with http.post(str(server.make_url(EVENTS_PATH)), data=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
                    assert resp.status == 401
            assert fake.calls("response_url") == []
        finally:
            await server.close()
            for face in faces.all():
                await face.stop()
            await ctx.store.dispose()
