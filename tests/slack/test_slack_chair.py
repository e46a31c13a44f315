"""/empty-chair in Slack: a visible card, impacts by modal, a live tally, a summary in the thread."""

from __future__ import annotations

import json

from sqlmodel import select

from storage.models import EmptyChair, Impact
from tests.polling import eventually


def buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_empty_chair_outside_the_bots_channels_says_how_to_add_it_and_stores_nothing(slack):
    for channel, name in (("C0PUBLIC", "random"), ("C0PRIVATE", "secret")):
        url = await slack.command("/empty-chair", "pricing", user="U1", channel=channel, channel_name=name)
        answer = await eventually(lambda url=url: [c for c in slack.fake.calls("response_url")
                                                   if c["_response_url"] == url])
        assert "/invite @pulsebot" in answer[0]["text"]
    async with slack.ctx.store.session() as session:
        assert (await session.exec(select(EmptyChair))).all() == []
    assert slack.fake.calls("chat.postMessage") == []


async def test_chair_card_tally_and_close_summary(slack):
    await slack.command("/empty-chair", "Q3 pricing <!channel>", user="U2")
    await eventually(lambda: slack.fake.messages("C0SUPPORT"))
    card = slack.fake.messages("C0SUPPORT")[0]
    assert "Q3 pricing &lt;!channel&gt;" in str(card["blocks"])
    assert "<!channel>" not in str(card["blocks"])
    await eventually(lambda: _ref_saved(slack))

    add = next(b for b in buttons(card) if b["action_id"].startswith("chair.impact"))
    await slack.tap("U1", add, channel="C0SUPPORT", ts=card["ts"])
    opened = await eventually(lambda: slack.fake.calls("views.open"))
    view = opened[0]["view"]
    status, _ = await slack.submit("U1", view, {"effect": "unknown", "who": "SMB <@U0BOSS>",
                                               "note": "<https://evil.test|click> & see"})
    assert status == 200
    await eventually(lambda: slack.fake.calls("chat.update"))
    updated = str(slack.fake.messages("C0SUPPORT")[0]["blocks"])
    assert "<https://evil.test" not in updated and "<@U0BOSS>" not in updated
    async with slack.ctx.store.session() as session:
        impacts = (await session.exec(select(Impact))).all()
    assert [(i.effect, i.who) for i in impacts] == [("unknown", "SMB <@U0BOSS>")]

    close = next(b for b in buttons(slack.fake.messages("C0SUPPORT")[0]) if b["action_id"].startswith("chair.close"))
    await slack.tap("U2", close, channel="C0SUPPORT", ts=card["ts"])
    summary = await eventually(lambda: [m for m in slack.fake.messages("C0SUPPORT") if m.get("thread_ts")])
    assert summary[0]["thread_ts"] == card["ts"]
    summary_text = json.dumps(summary[0]["blocks"], ensure_ascii=False)
    assert "<https://evil.test" not in summary_text and "https://evil.test" not in summary_text
    assert "&lt;https:\u2060//evil\u2060.test|click&gt;" in summary_text  # shown as words, not a link


async def _ref_saved(slack) -> bool:
    async with slack.ctx.store.session() as session:
        chair = (await session.exec(select(EmptyChair))).first()
    return chair is not None and chair.message_ref is not None


async def test_a_closed_chair_refuses_new_impacts_politely(slack):
    await slack.command("/empty-chair", "", user="U2")
    card = (await eventually(lambda: slack.fake.messages("C0SUPPORT")))[0]
    await eventually(lambda: _ref_saved(slack))
    close = next(b for b in buttons(card) if b["action_id"].startswith("chair.close"))
    add = next(b for b in buttons(card) if b["action_id"].startswith("chair.impact"))
    await slack.tap("U2", close, channel="C0SUPPORT", ts=card["ts"])
    await eventually(lambda: [m for m in slack.fake.messages("C0SUPPORT") if m.get("thread_ts")])
    await slack.tap("U1", add, channel="C0SUPPORT", ts=card["ts"])
    refusal = await eventually(lambda: slack.fake.calls("chat.postEphemeral"))
    assert refusal[-1]["user"] == "U1"
    assert slack.fake.calls("views.open") == []


async def test_a_topic_with_the_word_payload_opens_its_chair(slack):
    # bolt reads any form body containing "payload" as an interaction: this command came out empty
    # (a 400, and no chair). pulsebot reads the form itself (`translate.read_body`).
    await slack.command("/empty-chair", "payload limits for the API", user="U2")
    card = (await eventually(lambda: slack.fake.messages("C0SUPPORT")))[0]
    assert "payload limits for the API" in str(card["blocks"])
    async with slack.ctx.store.session() as session:
        assert [c.topic for c in (await session.exec(select(EmptyChair))).all()] == ["payload limits for the API"]
