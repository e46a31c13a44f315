"""Every request to /slack/events is authenticated; bad input changes nothing and breaks nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlmodel import select

from storage.models import EmptyChair, Member
from tests.slack.conftest import SIGNING_SECRET, TEAM_ID, sign


def chair_command() -> str:
    return urlencode({"team_id": TEAM_ID, "channel_id": "C0SUPPORT", "channel_name": "soporte", "user_id": "U1",
                      "user_name": "ana", "command": "/empty-chair", "text": "pricing", "response_url": "",
                      "trigger_id": "t"})


async def stored(slack) -> tuple[int, int]:
    async with slack.ctx.store.session() as session:
        chairs = len((await session.exec(select(EmptyChair))).all())
        members = len((await session.exec(select(Member))).all())
    return chairs, members


async def test_bad_signature_is_refused_and_nothing_is_stored(slack):
    before = await stored(slack)
    body = chair_command()
    status, _ = await slack.send(body, signed=False, headers=sign(body, secret="not-the-secret"))
    assert status == 401
    assert await stored(slack) == before
    assert slack.fake.calls("chat.postMessage") == []


async def test_stale_timestamp_is_refused(slack):
    body = chair_command()
    status, _ = await slack.send(body, signed=False, headers=sign(body, ts=int(time.time()) - 6 * 60))
    assert status == 401
    assert await stored(slack) == (0, 0)


async def test_missing_signature_headers_are_refused(slack):
    status, _ = await slack.send(chair_command(), signed=False)
    assert status == 401
    body = chair_command()
    only_ts = {"X-Slack-Request-Timestamp": sign(body)["X-Slack-Request-Timestamp"]}
    status, _ = await slack.send(body, signed=False, headers=only_ts)
    assert status == 401
    assert await stored(slack) == (0, 0)


async def test_malformed_payload_with_a_valid_signature_gets_an_error_and_the_server_stays_up(slack):
    for body, ctype in [
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C+2%5D", "application/x-www-form-urlencoded"),  # JSON, but a list
        ("[1, 2]", "application/json"),
        ("{\"type\": \"event_callback\", \"event\": 42", "application/json"),
        (urlencode({"payload": json.dumps({"type": "block_actions", "actions": "nope"})}),
         "application/x-www-form-urlencoded"),
        (urlencode({"payload": json.dumps({"type": "view_submission", "view": {"callback_id": "pulsebot.form"}})}),
         "application/x-www-form-urlencoded"),
    ]:
        status, answer = await slack.send(body, content_type=ctype)
        assert "malformed" in answer
        assert status == 400, (body, status)
    async with slack.http.get(slack.url + "/healthz") as resp:
        assert resp.status == 200
    assert await stored(slack) == (0, 0)
    assert SIGNING_SECRET  # the harness signs with the secret the face was built with


async def test_slack_url_verification_gets_its_challenge_back(slack):
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    status, answer = await slack.send(body, content_type="application/json")
    assert status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in answer


async def test_a_timestamp_that_is_not_a_number_is_refused(slack):
    body = chair_command()
    headers = {**sign(body), "X-Slack-Request-Timestamp": "yesterday"}
    status, _ = await slack.send(body, signed=False, headers=headers)
    assert status == 401
