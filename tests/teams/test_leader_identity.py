"""People are matched by platform and id together: a Teams sender whose id equals a Slack leader's
id is not that leader.

The attack: `pulsebot.toml` says `leaders = ["U0LEAD"]` (a Slack id). Someone on Teams (here the
Emulator; with an app id, any tenant's user whose id they could shape) sends `/team-pulse` as
"U0LEAD". Matching by bare id handed them the company's report. Tried over real HTTP against one
server with both faces, as `pulsebot serve` builds it.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import build_faces, build_web_app
from handlers.config import Settings
from handlers.i18n import t
from tests.context import build_ctx, sqlite_in
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.fakes.teams_connector import FakeConnector
from tests.polling import eventually
from tests.slack.conftest import CHANNELS, SIGNING_SECRET, TEAM_ID, USERS, SlackHarness
from tests.teams.conftest import TeamsClient, User, card_texts

CONFIG: dict[str, Any] = {
    "pulse": {"min_group_size": 3, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["U0LEAD"]},
    "teams": [{"name": "soporte", "slack_channel": "C0SUPPORT", "leaders": ["U0BOSS"]}],
}
SLACK_LEAD = FakeUser("U0LEAD", "lead", locale="en-US")
TEAMS_NAMESAKE = User("U0LEAD", "Lead (Teams)", "aad-namesake")
TEAMS_BOSS_NAMESAKE = User("U0BOSS", "Boss (Teams)", "aad-boss-namesake")


def _said(connector: FakeConnector, conversation: str) -> str:
    out = []
    for activity in connector.activities(conversation):
        out.append(activity.get("text") or "")
        for attachment in activity.get("attachments") or []:
            out.append(card_texts(attachment.get("content") or {}))
    return "\n".join(out)


async def test_a_teams_sender_with_a_slack_leaders_id_reads_no_report(tmp_path):
    async with FakeSlack(users=[*USERS, SLACK_LEAD], channels=CHANNELS, team_id=TEAM_ID) as fake, \
            FakeConnector() as connector:
        ctx = await build_ctx(sqlite_in(tmp_path), CONFIG)
        settings = Settings(slack_bot_token=fake.bot_token, slack_signing_secret=SIGNING_SECRET,
                            slack_app_token=None, slack_api_url=fake.api_url,
                            microsoft_app_id="", pulsebot_teams_emulator=True)
        faces = build_faces(ctx, settings)
        server = TestServer(build_web_app(ctx, faces), host="127.0.0.1")
        await server.start_server()
        try:
            for face in faces.all():
                await face.start()
            async with aiohttp.ClientSession() as http:
                teams = TeamsClient(http, str(server.make_url("/api/messages")), connector.url)
                for namesake, ask in ((TEAMS_NAMESAKE, "team-pulse"), (TEAMS_BOSS_NAMESAKE, "team-pulse soporte")):
                    status, _ = await teams.say(namesake, ask)
                    assert status == 202
                    said = _said(connector, f"a:personal-{namesake.id}")
                    assert t("reports.not_a_leader", "en") in said, said
                    assert "soporte" not in said and "%" not in said
                    cards = [att["content"] for a in connector.activities(f"a:personal-{namesake.id}")
                             for att in a.get("attachments") or []]
                    assert not any(el.get("type") == "Image" for card in cards for el in card.get("body", []))

                # The real leaders, on Slack, still read it.
                slack = SlackHarness(fake, ctx, faces.slack, str(server.make_url("")).rstrip("/"), http)
                for leader in ("U0LEAD", "U0BOSS"):
                    url = await slack.command("/team-pulse", "", user=leader)
                    answer = await eventually(lambda url=url: [c for c in fake.calls("response_url")
                                                               if c["_response_url"].endswith(url.rsplit("/", 1)[-1])])
                    text = str(answer)
                    assert "soporte" in text and t("reports.not_a_leader", "en") not in text, text
        finally:
            await server.close()
            for face in faces.all():
                await face.stop()
            await ctx.store.dispose()
