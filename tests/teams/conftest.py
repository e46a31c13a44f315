"""Fixtures of the Teams face's tests: the real server on 127.0.0.1, a fake Bot Connector, and a
small client that POSTs activities shaped as Teams sends them."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import itertools  # noqa: E402
import json  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
import pytest  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from jsonschema import Draft6Validator  # noqa: E402

from bot.app import Faces, build_web_app  # noqa: E402
from bot.teams.app import TeamsFace, build_teams  # noqa: E402
from handlers.config import Settings  # noqa: E402
from handlers.context import Context  # noqa: E402
from tests.fakes.teams_connector import FakeConnector, member  # noqa: E402

BOT_ID = "28:pulsebot-app"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM_ID = "19:soporte@thread.tacv2"
MEETING_CHAT = "19:meeting_weekly@thread.v2"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
EMULATOR = Settings(microsoft_app_id="", microsoft_app_password="", pulsebot_teams_emulator=True)

CARD_SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "adaptive-card-1.5.schema.json").read_text())

TEAMS_CONFIG: dict[str, Any] = {
    "pulse": {"min_group_size": 3, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["29:boss"]},
    "teams": [{"name": "soporte", "teams_conversation": TEAM_ID, "leaders": ["29:lead"]}],
    "meetings": [{"teams_conversation": MEETING_CHAT, "on_meeting_start": True, "team": "soporte",
                  "topic": "Weekly sync"}],
}


@dataclass(frozen=True)
class User:
    """A Teams user as activities carry them."""

    id: str
    name: str
    aad: str
    locale: str = "en-US"
    tz: str = "Europe/Madrid"


MEMBERS = [
    User("29:ana", "Ana García", "aad-ana", "es-ES", "Europe/Madrid"),
    User("29:bob", "Bob", "aad-bob", "en-GB", "Europe/London"),
    User("29:carla", "Carla", "aad-carla", "en-US", "America/New_York"),
    User("29:dan", "Dan", "aad-dan"),
    User("29:eve", "Eve", "aad-eve"),
    User("29:fran", "Fran", "aad-fran"),
]
LEAD = User("29:lead", "Lena Lead", "aad-lead")


def assert_valid_card(card: dict[str, Any]) -> None:
    """The card validates against the official Adaptive Card 1.5 schema."""
    errors = [f"{list(e.path)}: {e.message}" for e in Draft6Validator(CARD_SCHEMA).iter_errors(card)]
    assert errors == [], "\n".join(errors[:10])


def card_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every object of a card (elements, runs, actions, their data), in reading order."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from card_nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from card_nodes(item)


def card_texts(card: dict[str, Any]) -> str:
    """Every text run and action title of a card, one string (for asserting what a user reads)."""
    out: list[str] = []
    for node in card_nodes(card):
        if node.get("type") == "TextRun":
            out.append(node["text"])
        if node.get("type", "").startswith("Action."):
            out.append(node.get("title", ""))
    return "\n".join(out)


def find_action(card: dict[str, Any], action: str, value_suffix: str = "") -> dict[str, Any]:
    """The Action.Execute of a card for this neutral action (and value ending)."""
    found = [node for node in card_nodes(card)
             if node.get("type") == "Action.Execute" and isinstance(data := node.get("data"), dict)
             and data.get("action") == action and str(data.get("value", "")).endswith(value_suffix)]
    assert found, f"no {action} action ending {value_suffix!r}"
    return found[0]


class TeamsClient:
    """Sends activities to /api/messages the way Teams does."""

    def __init__(self, http: aiohttp.ClientSession, url: str, service_url: str) -> None:
        self.http = http
        self.url = url
        self.service_url = service_url
        self._ids = itertools.count(1)

    def _base(self, user: User, conversation: dict[str, Any], **extra: Any) -> dict[str, Any]:
        activity = {
            "id": f"f:{next(self._ids)}",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "timestamp": "2026-11-23T09:00:00.000Z",
            "localTimezone": user.tz,
            "locale": user.locale,
            "from": {"id": user.id, "name": user.name, "aadObjectId": user.aad},
            "recipient": {"id": BOT_ID, "name": "pulsebot"},
            "conversation": conversation,
            "channelData": {"tenant": {"id": TENANT}},
            "entities": [{"type": "clientInfo", "locale": user.locale, "timezone": user.tz, "platform": "Web"}],
        }
        activity.update(extra)
        return activity

    @staticmethod
    def personal(user: User) -> dict[str, Any]:
        return {"id": f"a:personal-{user.id}", "conversationType": "personal", "tenantId": TENANT}

    @staticmethod
    def channel(team_id: str = TEAM_ID) -> dict[str, Any]:
        return {"id": team_id, "conversationType": "channel", "isGroup": True, "tenantId": TENANT}

    @staticmethod
    def meeting(chat: str = MEETING_CHAT) -> dict[str, Any]:
        return {"id": chat, "conversationType": "groupChat", "isGroup": True, "tenantId": TENANT}

    async def send(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        async with self.http.post(self.url, json=activity, headers=headers or {}) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text else None)

    async def install_personal(self, user: User) -> tuple[int, Any]:
        return await self.send(self._base(user, self.personal(user), type="installationUpdate", action="add"))

    async def install_team(self, installer: User, team_id: str = TEAM_ID) -> tuple[int, Any]:
        activity = self._base(
            installer, self.channel(team_id), type="conversationUpdate",
            membersAdded=[{"id": BOT_ID}],
            channelData={"tenant": {"id": TENANT}, "team": {"id": team_id, "name": "Soporte"},
                         "eventType": "teamMemberAdded"},
        )
        return await self.send(activity)

    async def say(self, user: User, text: str, conversation: dict[str, Any] | None = None,
                  **extra: Any) -> tuple[int, Any]:
        conversation = conversation or self.personal(user)
        if conversation.get("conversationType") != "personal":
            text = f"<at>pulsebot</at> {text}"
            extra.setdefault("entities", [{"type": "mention", "text": "<at>pulsebot</at>",
                                           "mentioned": {"id": BOT_ID, "name": "pulsebot"}}])
        return await self.send(self._base(user, conversation, type="message", text=text, **extra))

    async def tap(self, user: User, action: dict[str, Any], *, reply_to: str,
                  conversation: dict[str, Any] | None = None, inputs: dict[str, str] | None = None) -> tuple[int, Any]:
        """An Action.Execute tap: Teams merges the card's inputs into the action's data."""
        data = {**action["data"], **(inputs or {})}
        value = {"action": {"type": "Action.Execute", "verb": action.get("verb"), "data": data},
                 "trigger": "manual"}
        activity = self._base(user, conversation or self.personal(user), type="invoke",
                              name="adaptiveCard/action", value=value, replyToId=reply_to)
        return await self.send(activity)

    async def meeting_start(self, user: User, chat: str = MEETING_CHAT, event_id: str = "ev-1") -> tuple[int, Any]:
        activity = self._base(
            user, self.meeting(chat), type="event", name="application/vnd.microsoft.meetingStart",
            value={"Id": "meeting-1", "MeetingType": "Scheduled", "Title": "Weekly",
                   "StartTime": "2026-11-23T09:00:00Z"},
            channelData={"tenant": {"id": TENANT}, "meeting": {"id": "meeting-1"}},
        )
        activity["id"] = event_id
        return await self.send(activity)


@dataclass
class TeamsRig:
    """Everything a test touches: the context, the face, the fake connector and the client."""

    ctx: Context
    face: TeamsFace
    connector: FakeConnector
    client: TeamsClient


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as fake:
        for user in [*MEMBERS, LEAD]:
            fake.add_member(TEAM_ID, member(user.id, user.name, aad=user.aad))
        yield fake


async def _rig(ctx: Context, connector: FakeConnector, settings: Settings) -> AsyncIterator[TeamsRig]:
    face = build_teams(ctx, settings)
    await face.start()
    server = TestServer(build_web_app(ctx, Faces(teams=face)), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield TeamsRig(ctx, face, connector, TeamsClient(http, str(server.make_url("/api/messages")), connector.url))
    await server.close()
    await face.stop()


@pytest.fixture
async def rig(make_ctx, connector: FakeConnector) -> AsyncIterator[TeamsRig]:
    """Emulator mode (no app id, PULSEBOT_TEAMS_EMULATOR=1): what the Bot Framework Emulator and
    these tests speak, from 127.0.0.1."""
    ctx = await make_ctx(TEAMS_CONFIG)
    async for r in _rig(ctx, connector, EMULATOR):
        yield r


@pytest.fixture
async def secured_rig(make_ctx, connector: FakeConnector) -> AsyncIterator[TeamsRig]:
    """An app id set: every request needs a valid Bot Framework token."""
    ctx = await make_ctx(TEAMS_CONFIG)
    settings = Settings(microsoft_app_id=APP_ID, microsoft_app_password="not-used-offline",
                        microsoft_app_tenant_id=TENANT)
    async for r in _rig(ctx, connector, settings):
        yield r
