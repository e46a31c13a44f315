"""/api/messages exists only when Teams is configured; in emulator mode it answers this machine only.

Attacks tried over real HTTP against the app `pulsebot serve` builds (`build_faces` +
`build_web_app`): a forged Teams activity at a Slack-only server, a relayed or far-pointing
request at an emulator-mode server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.app import build_faces, build_web_app
from bot.teams.app import TeamsFace, build_teams, is_loopback
from handlers.config import Settings
from handlers.errors import ConfigError
from storage.models import Member
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import FakeConnector
from tests.teams.conftest import APP_ID, EMULATOR, MEMBERS, TEAMS_CONFIG, TeamsClient, TeamsRig, User

NOBODY = Settings(slack_bot_token=None, slack_signing_secret=None, slack_app_token=None,
                  microsoft_app_id=None, pulsebot_teams_emulator=False)
INTRUDER = User("U0LEAD", "Not The Leader", "aad-intruder")


async def _teams_members(ctx: Any) -> list[Member]:
    async with ctx.store.session() as session:
        return list((await session.exec(select(Member).where(Member.platform == "teams"))).all())


async def _status(client: TeamsClient, activity: dict[str, Any]) -> int:
    async with client.http.post(client.url, json=activity) as resp:
        return resp.status


def _forged(client: TeamsClient, text: str = "team-pulse") -> dict[str, Any]:
    """A message from the personal chat, as Teams would send it, to whatever serviceUrl the client says."""
    return client._base(INTRUDER, client.personal(INTRUDER), type="message", text=text)


def _install(client: TeamsClient) -> dict[str, Any]:
    return client._base(INTRUDER, client.personal(INTRUDER), type="installationUpdate", action="add")


async def _serve(ctx: Any, settings: Settings) -> AsyncIterator[tuple[Any, str]]:
    faces = build_faces(ctx, settings)
    server = TestServer(build_web_app(ctx, faces), host="127.0.0.1")
    await server.start_server()
    try:
        yield faces, str(server.make_url("/api/messages"))
    finally:
        await server.close()
        for face in faces.all():
            await face.stop()


async def test_with_only_slack_configured_a_forged_teams_activity_is_404_and_calls_no_service_url(make_ctx):
    ctx = await make_ctx(TEAMS_CONFIG)
    async with FakeSlack() as slack, FakeConnector() as attacker:
        settings = NOBODY.model_copy(update={"slack_bot_token": slack.bot_token, "slack_api_url": slack.api_url,
                                             "slack_signing_secret": "8f742231b10e8888abcd99yyyzzz85a5"})
        async for faces, url in _serve(ctx, settings):
            assert faces.teams is None and "teams" not in ctx.messengers
            async with aiohttp.ClientSession() as http:
                client = TeamsClient(http, url, attacker.url)  # the attacker's serviceUrl
                assert await _status(client, _forged(client)) == 404
                assert await _status(client, _install(client)) == 404
    assert attacker.calls() == []
    assert await _teams_members(ctx) == []


async def test_with_nothing_configured_there_is_no_teams_route_and_the_log_says_so(make_ctx, caplog):
    ctx = await make_ctx(TEAMS_CONFIG)
    async with FakeConnector() as attacker:
        with caplog.at_level("INFO", logger="bot.app"):
            async for faces, url in _serve(ctx, NOBODY):
                assert faces.all() == []
                async with aiohttp.ClientSession() as http:
                    client = TeamsClient(http, url, attacker.url)
                    assert await _status(client, _forged(client)) == 404
    assert attacker.calls() == []
    assert any("Teams is not configured" in r.getMessage() for r in caplog.records)


async def test_the_teams_face_refuses_to_exist_without_an_app_id_or_the_emulator_flag(make_ctx):
    ctx = await make_ctx(TEAMS_CONFIG)
    with pytest.raises(ConfigError, match="PULSEBOT_TEAMS_EMULATOR"):
        TeamsFace(ctx, Settings(microsoft_app_id="", pulsebot_teams_emulator=False))


async def test_with_an_app_id_the_emulator_flag_opens_nothing(make_ctx, connector: FakeConnector):
    ctx = await make_ctx(TEAMS_CONFIG)
    settings = Settings(microsoft_app_id=APP_ID, microsoft_app_password="x", pulsebot_teams_emulator=True)
    async for faces, url in _serve(ctx, settings):
        assert faces.teams is not None and not faces.teams.emulator
        async with aiohttp.ClientSession() as http:
            assert (await TeamsClient(http, url, connector.url).install_personal(MEMBERS[0]))[0] == 401
    assert connector.calls() == [] and await _teams_members(ctx) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "[::1]", "localhost"])
def test_loopback_addresses_are_this_machine(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.7", "192.168.1.20", "172.17.0.1", "8.8.8.8", "::ffff:10.0.0.7",
                                  "fe80::1%eth0", "2001:db8::1", "0.0.0.0", "", None, "example.com",
                                  "localhost.example.com"])
def test_other_addresses_are_not(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
async def test_emulator_mode_refuses_a_request_relayed_by_a_proxy(rig: TeamsRig, header: str):
    # A reverse proxy on this machine would make every internet client look local.
    activity = rig.client._base(MEMBERS[0], rig.client.personal(MEMBERS[0]), type="installationUpdate", action="add")
    status, _ = await rig.client.send(activity, headers={header: "203.0.113.9"})
    assert status == 403
    assert await _teams_members(rig.ctx) == [] and rig.connector.calls() == []


async def test_emulator_mode_refuses_a_service_url_on_another_machine(rig: TeamsRig):
    activity = rig.client._base(MEMBERS[0], rig.client.personal(MEMBERS[0]), type="installationUpdate", action="add")
    activity["serviceUrl"] = "https://smba.trafficmanager.net/emea/"
    status, _ = await rig.client.send(activity)
    assert status == 403
    assert await _teams_members(rig.ctx) == []


async def test_emulator_mode_answers_a_loopback_client(rig: TeamsRig):
    status, _ = await rig.client.install_personal(MEMBERS[0])
    assert status == 202
    assert [m.user_id for m in await _teams_members(rig.ctx)] == ["29:ana"]
    assert rig.connector.activities("a:personal-29:ana"), "the welcome went to the loopback serviceUrl"


async def test_build_teams_in_emulator_mode_needs_the_flag(make_ctx):
    ctx = await make_ctx(TEAMS_CONFIG)
    assert build_teams(ctx, EMULATOR).emulator
