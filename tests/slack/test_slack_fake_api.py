"""The fake Slack Web API behaves like Slack for the calls pulsebot makes."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeChannel, FakeSlack, FakeUser

USERS = [FakeUser("U1", "ana", locale="es-ES"), FakeUser("U2", "bob", tz="America/New_York")]
CHANNELS = [FakeChannel("C1", "soporte", members=["U1", "U2", "UPULSEBOT"]), FakeChannel("C2", "other", ["U1"])]


async def test_unknown_token_is_refused_with_invalid_auth():
    async with FakeSlack(users=USERS) as fake:
        client = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
        with pytest.raises(SlackApiError) as err:
            await client.auth_test()
        assert err.value.response["error"] == "invalid_auth"


async def test_dm_by_user_id_lands_in_the_dm_channel_with_metadata():
    async with FakeSlack(users=USERS, channels=CHANNELS) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        sent = await client.chat_postMessage(
            channel="U1", text="hola", metadata={"event_type": "pulsebot_delivery", "event_payload": {"key": "k1"}}
        )
        assert sent["channel"] == fake.dm_channel("U1")
        plain = await client.conversations_history(channel=sent["channel"])
        assert "metadata" not in plain["messages"][0]
        full = await client.conversations_history(channel=sent["channel"], include_all_metadata=True)
        assert full["messages"][0]["metadata"]["event_payload"] == {"key": "k1"}
        assert fake.calls("chat.postMessage")[0]["channel"] == "U1"


async def test_channel_without_the_bot_says_not_in_channel():
    async with FakeSlack(users=USERS, channels=CHANNELS) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C2", text="x")
        assert err.value.response["error"] == "not_in_channel"


async def test_rate_per_channel_answers_429_with_retry_after():
    async with FakeSlack(users=USERS, channels=CHANNELS, rate_per_channel=1) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url, retry_handlers=[])
        await client.chat_postMessage(channel="C1", text="one")
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="two")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "1"
        assert fake.rate_limited("chat.postMessage") == 1
        assert len(fake.messages("C1")) == 1


async def test_users_info_gives_locale_only_when_asked():
    async with FakeSlack(users=USERS) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        assert "locale" not in (await client.users_info(user="U1"))["user"]
        assert (await client.users_info(user="U1", include_locale=True))["user"]["locale"] == "es-ES"


async def test_files_upload_v2_stores_the_bytes_and_shares_in_the_dm():
    async with FakeSlack(users=USERS) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        dm = (await client.conversations_open(users="U1"))["channel"]["id"]
        done = await client.files_upload_v2(channel=dm, content=b"\x89PNG...", filename="trend.png", title="Trend")
        assert fake.uploaded(done["file"]["id"]) == b"\x89PNG..."
        assert fake.messages(dm)[-1]["files"][0]["title"] == "Trend"


async def test_members_are_paginated_and_response_url_is_recorded():
    async with FakeSlack(users=USERS, channels=CHANNELS) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        first = await client.conversations_members(channel="C1", limit=2)
        assert first["members"] == ["U1", "U2"]
        rest = await client.conversations_members(channel="C1", cursor=first["response_metadata"]["next_cursor"])
        assert rest["members"] == ["UPULSEBOT"]
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        url = fake.new_response_url()
        await AsyncWebhookClient(url).send(text="hi", response_type="ephemeral")
        assert fake.calls("response_url")[0]["text"] == "hi"
