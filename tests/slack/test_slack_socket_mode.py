"""Socket Mode: with SLACK_APP_TOKEN the face connects out and answers over the socket."""

from __future__ import annotations

import pytest

from bot.slack.app import SlackFace
from handlers.config import Settings
from tests.context import build_ctx, sqlite_in
from tests.fakes.slack_api import FakeSlack
from tests.polling import eventually
from tests.slack.conftest import CHANNELS, CONFIG, TEAM_ID, USERS


async def test_a_slash_command_over_socket_mode_is_acked_and_answered(tmp_path):
    async with FakeSlack(users=USERS, channels=CHANNELS, team_id=TEAM_ID) as fake:
        ctx = await build_ctx(sqlite_in(tmp_path), CONFIG)
        settings = Settings(slack_bot_token=fake.bot_token, slack_app_token=fake.app_token,
                            slack_signing_secret=None, slack_api_url=fake.api_url)
        face = SlackFace(ctx, settings, report_worker=False, courier=False)
        await face.start()
        try:
            await eventually(lambda: fake.socket_connected)
            assert fake.calls("apps.connections.open")
            url = fake.new_response_url()
            envelope = await fake.push_envelope("slash_commands", {
                "team_id": TEAM_ID, "channel_id": "C0SUPPORT", "channel_name": "soporte", "user_id": "U1",
                "user_name": "ana", "command": "/pulse", "text": "ayuda", "response_url": url, "trigger_id": "t",
            })
            await eventually(lambda: any(a.get("envelope_id") == envelope for a in fake.socket_acks))
            answer = await eventually(lambda: fake.calls("response_url"))
            assert answer[0]["response_type"] == "ephemeral" and "/pulse" in str(answer[0]["blocks"])
        finally:
            await face.stop()
            await ctx.store.dispose()


async def test_the_app_token_is_refused_for_anything_but_connecting():
    async with FakeSlack() as fake:
        from slack_sdk.errors import SlackApiError
        from slack_sdk.web.async_client import AsyncWebClient

        client = AsyncWebClient(token=fake.app_token, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="x")
        assert err.value.response["error"] == "not_allowed_token_type"
