"""With MICROSOFT_APP_ID, who may post to /api/messages: attacks tried against the real `pulsebot serve`.

The SDK fetches the keys that sign Teams' tokens from fixed Microsoft addresses (they cannot be
configured), so the served process reaches a fake identity platform at those very addresses
through a local HTTPS proxy (`tests/fakes/identity_provider.py`); MSAL gets the bot's outbound
token there too. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.teams.adapter import auth_configuration
from bot.teams.app import same_service_url
from handlers.config import Settings
from tests.environ import clean_env
from tests.fakes.identity_provider import BOT_FRAMEWORK_ISSUER, OUTBOUND_TOKEN, FakeIdentity
from tests.fakes.teams_connector import FakeConnector
from tests.schedules.serving import ROOT, Served
from tests.teams.conftest import APP_ID, MEMBERS, TENANT, TeamsClient

OTHER_TENANT = "0b9f4c5e-1a2b-4c3d-8e9f-a0b1c2d3e4f5"  # someone else's Entra tenant
TOML = """
[pulse]
min_group_size = 3
default_locale = "en"
leaders = ["teams:29:lead"]

[[teams]]
name = "soporte"
teams_conversation = "19:soporte@thread.tacv2"
"""


@dataclass
class Secured:
    """A served process with an app id, the fake identity platform and two fake connectors."""

    idp: FakeIdentity
    connector: FakeConnector  # the serviceUrl the tokens vouch for
    elsewhere: FakeConnector  # an address an attacker would like the bot to call
    client: TeamsClient
    db: Path

    async def post(self, activity: dict[str, Any], token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.client.http.post(self.client.url, json=activity, headers=headers) as resp:
            return resp.status

    def install(self, service_url: str | None = None) -> dict[str, Any]:
        """Ana installs the app in her personal chat (the bot stores her and says welcome)."""
        user = MEMBERS[0]
        activity = self.client._base(user, self.client.personal(user), type="installationUpdate", action="add")
        if service_url is not None:
            activity["serviceUrl"] = service_url
        return activity

    def members(self) -> list[str]:
        with sqlite3.connect(self.db) as db:
            return [row[0] for row in db.execute("SELECT user_id FROM member WHERE platform = 'teams'")]

    def token(self, **kwargs: Any) -> str:
        kwargs.setdefault("service_url", self.connector.url)
        return self.idp.channel_token(app_id=APP_ID, **kwargs)


def _env(tmp_path: Path, idp: FakeIdentity) -> dict[str, str]:
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {k: v for k, v in clean_env().items() if k.lower() not in proxies}
    config = tmp_path / "pulsebot.toml"
    config.write_text(TOML)
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'pulse.db'}",
        PULSEBOT_CONFIG=str(config),
        PULSEBOT_SECRET=secrets.token_hex(32),
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD="not-a-real-password",
        MICROSOFT_APP_TENANT_ID=TENANT,
        PYTHONPATH=str(ROOT),
        **idp.env(),
    )
    return env


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[Secured]:
    async with FakeIdentity(tmp_path / "idp", tenant=TENANT) as idp, FakeConnector() as connector, \
            FakeConnector() as elsewhere:
        connector.require_token = OUTBOUND_TOKEN  # the bot's replies carry the token MSAL got
        server = Served(_env(tmp_path, idp), tmp_path / "serve.log")
        try:
            await server.wait_healthy()
            async with aiohttp.ClientSession() as http:
                client = TeamsClient(http, f"http://127.0.0.1:{server.port}/api/messages", connector.url)
                yield Secured(idp, connector, elsewhere, client, tmp_path / "pulse.db")
        finally:
            server.stop()
        assert idp.refused == [], f"the server tried to reach {idp.refused}"


async def test_a_valid_bot_framework_token_is_accepted_and_the_reply_carries_the_bots_token(secured: Secured):
    assert await secured.post(secured.install(), secured.token()) == 202
    assert secured.members() == ["29:ana"]
    welcome = secured.connector.activities("a:personal-29:ana")
    assert welcome and all(c.authorization == f"Bearer {OUTBOUND_TOKEN}" for c in secured.connector.calls())
    # The keys came from the Bot Framework's key address, and the outbound token from the tenant.
    assert ("login.botframework.com", "GET", "/v1/.well-known/keys") in secured.idp.requests
    assert secured.idp.token_requests and secured.idp.token_requests[0]["client_id"] == APP_ID


async def test_a_token_signed_by_an_unknown_key_is_refused_and_changes_nothing(secured: Secured):
    forged = [
        secured.token(key=secured.idp.stranger),  # a key id nobody publishes
        secured.token(key=secured.idp.stranger, kid=secured.idp.bot_framework.kid),  # claims the real key id
    ]
    for token in forged:
        assert await secured.post(secured.install(), token) == 401
    assert secured.members() == []
    assert secured.connector.calls() == []


async def test_a_validly_signed_token_from_another_issuer_is_refused(secured: Secured):
    # Another Entra tenant can mint a token for our app id; the signature and audience are fine.
    other = secured.idp.entra_token(app_id=APP_ID, tenant=OTHER_TENANT, service_url=secured.connector.url)
    assert await secured.post(secured.install(), other) == 401
    # And a Bot Framework-signed token naming a made-up issuer.
    assert await secured.post(secured.install(), secured.token(iss="https://api.botframework.evil")) == 401
    assert secured.members() == []
    assert secured.connector.calls() == []


async def test_a_token_for_another_app_is_refused(secured: Secured):
    token = secured.idp.channel_token(app_id="11111111-2222-3333-4444-555555555555",
                                      service_url=secured.connector.url)
    assert await secured.post(secured.install(), token) == 401
    assert secured.members() == []


async def test_replies_go_only_to_the_service_url_the_token_vouches_for(secured: Secured):
    # A real token, replayed with an activity whose serviceUrl the caller chose: nothing is done
    # and nobody is called (the bot would otherwise post a welcome, or a report, there).
    assert await secured.post(secured.install(service_url=secured.elsewhere.url), secured.token()) == 401
    # A token that vouches for no serviceUrl vouches for none.
    assert await secured.post(secured.install(), secured.token(service_url=None)) == 401
    assert secured.members() == []
    assert secured.elsewhere.calls() == [] and secured.connector.calls() == []


def test_issuer_validation_is_on_with_the_bot_framework_and_tenant_issuers():
    config = auth_configuration(Settings(microsoft_app_id=APP_ID, microsoft_app_tenant_id=TENANT))
    assert config.VALIDATE_ISSUER is True
    assert config.ISSUERS == [BOT_FRAMEWORK_ISSUER, f"https://sts.windows.net/{TENANT}/",
                              f"https://login.microsoftonline.com/{TENANT}/v2.0"]
    multi = auth_configuration(Settings(microsoft_app_id=APP_ID))
    assert multi.VALIDATE_ISSUER is True and multi.ISSUERS == [BOT_FRAMEWORK_ISSUER]


def test_service_urls_compare_like_the_bot_frameworks_own_check():
    url = "https://smba.trafficmanager.net/emea/"
    assert same_service_url(url, "https://SMBA.trafficmanager.net/emea")
    assert not same_service_url(url, "https://smba.trafficmanager.net/amer/")
    assert not same_service_url(url, "http://127.0.0.1:9/")
    assert not same_service_url(None, url) and not same_service_url(url, None)
