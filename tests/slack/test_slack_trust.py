"""Slack, tried by someone who wants a comment to link, or to close a chair that is not theirs."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from handlers.config import parse_config
from schedules.meetings import post_meeting_chair
from storage.models import EmptyChair
from tests.polling import eventually
from tests.slack.conftest import CONFIG

URLS = ("https://evil.example/login", "www.x.com", "example.com", "mailto:bob@corp.example", "10.0.0.1")


def buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def text_objects(node: Any) -> list[dict]:
    """Every Block Kit text object in a message."""
    found = []
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
            found.append(node)
        for value in node.values():
            found.extend(text_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(text_objects(value))
    return found


def assert_nothing_links(message: dict) -> None:
    everything = json.dumps(message, ensure_ascii=False)
    for url in URLS:
        assert url not in everything, url
        host = url.split("//")[-1].split("/")[0].split("@")[-1]
        assert host not in everything, host  # not even the bare domain: clients link those too
    for obj in text_objects(message["blocks"]):
        if obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True  # Slack's own auto-parsing is off


async def test_bare_urls_in_a_topic_and_a_note_are_shown_as_words_and_never_link(slack):
    topic = "ver " + " ".join(URLS)
    await slack.command("/empty-chair", topic, user="U2")
    card = (await eventually(lambda: slack.fake.messages("C0SUPPORT")))[0]
    assert_nothing_links(card)
    # The words are all there for a reader: only invisible word joiners were added.
    assert topic in json.dumps(card, ensure_ascii=False).replace("\u2060", "")

    await eventually(lambda: _card_remembered(slack))
    add = next(b for b in buttons(card) if b["action_id"].startswith("chair.impact"))
    await slack.tap("U1", add, channel="C0SUPPORT", ts=card["ts"])
    view = (await eventually(lambda: slack.fake.calls("views.open")))[0]["view"]
    assert_nothing_links({"blocks": view["blocks"]})  # the topic shown in the form, too
    await slack.submit("U1", view, {"effect": "unknown", "who": "www.x.com", "note": "mira " + URLS[0]})
    await eventually(lambda: slack.fake.calls("chat.update"))
    assert_nothing_links(slack.fake.messages("C0SUPPORT")[0])


async def _card_remembered(slack) -> bool:
    async with slack.ctx.store.session() as session:
        chair = (await session.exec(select(EmptyChair))).first()
    return chair is not None and chair.message_ref is not None


async def _summary(slack) -> list[dict]:
    return [m for m in slack.fake.messages("C0SUPPORT") if m.get("thread_ts")]


async def test_a_participant_cannot_close_someone_elses_chair_but_the_teams_leader_can(slack):
    await slack.command("/empty-chair", "Q3 pricing", user="U2")
    card = (await eventually(lambda: slack.fake.messages("C0SUPPORT")))[0]
    await eventually(lambda: _card_remembered(slack))
    close = next(b for b in buttons(card) if b["action_id"].startswith("chair.close"))

    await slack.tap("U1", close, channel="C0SUPPORT", ts=card["ts"])
    refusal = await eventually(lambda: slack.fake.calls("chat.postEphemeral"))
    assert refusal[-1]["user"] == "U1" and "Solo quien abrió esta silla vacía" in refusal[-1]["text"]
    assert await _summary(slack) == [] and slack.fake.calls("chat.update") == []

    await slack.tap("U0BOSS", close, channel="C0SUPPORT", ts=card["ts"])  # soporte's leader
    summary = await eventually(lambda: _summary(slack))
    assert summary[0]["thread_ts"] == card["ts"]


async def test_a_chair_the_clock_posted_is_closed_by_anyone_in_the_channel(slack):
    slack.ctx.config = parse_config({**CONFIG, "meetings": [
        {"slack_channel": "C0SUPPORT", "schedule": "tue 09:30", "team": "soporte", "topic": "Weekly"}]})
    assert await post_meeting_chair(slack.ctx, 0) == 1
    card = slack.fake.messages("C0SUPPORT")[0]
    close = next(b for b in buttons(card) if b["action_id"].startswith("chair.close"))
    await slack.tap("U3", close, channel="C0SUPPORT", ts=card["ts"])
    summary = await eventually(lambda: _summary(slack))
    assert summary[0]["thread_ts"] == card["ts"]
    assert slack.fake.calls("chat.postEphemeral") == []
