"""Anonymous replies in Slack: the leader's Reply beside a comment, the author's DM, the answer back."""

from __future__ import annotations

import json

from handlers.i18n import t
from handlers.inputs import Tap, handle
from handlers.ports import Actor, Where
from handlers.replies import batch_end
from schedules.relays import send_relays
from tests.polling import eventually
from tests.slack.test_slack_round import actions_of, start_round

WRITERS = {"U1": "the rota hurts", "U2": "more training please", "U3": "clients love the new flow"}


async def _closed_round_with_comments(slack) -> None:
    rid = await start_round(slack)
    for user, comment in WRITERS.items():
        dm = slack.fake.dm_channel(user)
        message = slack.fake.messages(dm)[0]
        await slack.tap(user, actions_of(message)[0][2], channel=dm, ts=message["ts"])
        actor = Actor(platform="slack", user_id=user, workspace="T0TEST")
        await handle(slack.ctx, actor, Where("dm"), Tap.parse("checkin.comment.submit", str(rid), {"comment": comment}))
    await eventually(lambda: len(slack.fake.calls("chat.update")) == 3)
    slack.ctx.clock.move(hours=73)  # the round closes past its window


def _buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def test_a_leader_reply_reaches_only_the_author_and_the_answer_comes_back_unnamed(slack):
    await _closed_round_with_comments(slack)
    url = await slack.command("/team-pulse", "", user="U0BOSS")
    (report,) = await eventually(lambda: [c for c in slack.fake.calls("response_url") if c["_response_url"] == url])
    blocks = report["blocks"]
    at = next(i for i, b in enumerate(blocks) if "more training please" in json.dumps(b))
    (reply,) = blocks[at + 1]["elements"]
    assert reply["text"]["text"] == t("replies.reply", "en") and len(reply["value"]) == 32
    await slack.tap("U0BOSS", reply, channel="C0SUPPORT", ts="1.1", ephemeral=True, response_url=url)
    view = (await eventually(lambda: slack.fake.calls("views.open")))[0]["view"]
    status, _ = await slack.submit("U0BOSS", view, {"text": "What training would help most?"})
    assert status == 200

    before = {u: len(slack.fake.messages(slack.fake.dm_channel(u))) for u in ("U1", "U2", "U3", "U4")}
    posts = len(slack.fake.calls("chat.postMessage"))
    slack.ctx.clock.at = batch_end(slack.ctx.clock.now(), 15)
    assert await send_relays(slack.ctx) == 1
    new = slack.fake.calls("chat.postMessage")[posts:]
    assert [c["channel"] for c in new] == ["U2"]  # only the author, and nobody else
    after = {u: len(slack.fake.messages(slack.fake.dm_channel(u))) for u in before}
    assert after == {**before, "U2": before["U2"] + 1}
    dm = slack.fake.messages(slack.fake.dm_channel("U2"))[-1]
    assert "What training would help most?" in json.dumps(dm["blocks"])
    answer, stop = _buttons(dm["blocks"])
    assert answer["text"]["text"] == t("replies.answer", "en") and stop["text"]["text"] == t("replies.stop", "en")

    views = len(slack.fake.calls("views.open"))
    await slack.tap("U2", answer, channel=slack.fake.dm_channel("U2"), ts=dm["ts"])
    form = (await eventually(lambda: slack.fake.calls("views.open")[views:]))[0]["view"]
    await slack.submit("U2", form, {"text": "A course on the new API"})
    slack.ctx.clock.move(minutes=1)
    slack.ctx.clock.at = batch_end(slack.ctx.clock.now(), 15)
    assert await send_relays(slack.ctx) == 1
    back = slack.fake.calls("chat.postMessage")[-1]
    assert back["channel"] == "U0BOSS"
    text = json.dumps(back["blocks"]) + back.get("text", "")
    assert "A member of soporte" in text and "A course on the new API" in text
    assert "U2" not in text and "bob" not in text  # no id, no name

    await slack.tap("U2", stop, channel=slack.fake.dm_channel("U2"), ts=dm["ts"])
    await eventually(lambda: t("replies.stop.done", "en") in json.dumps(slack.fake.messages(slack.fake.dm_channel("U2"))))
    views, told = len(slack.fake.calls("views.open")), t("replies.stopped", "en")
    to_author = len(slack.fake.messages(slack.fake.dm_channel("U2")))
    await slack.tap("U0BOSS", reply, channel="C0SUPPORT", ts="1.1", ephemeral=True, response_url=url)
    await eventually(lambda: told in json.dumps(slack.fake.calls("response_url") + slack.fake.calls("chat.postMessage")))
    assert slack.fake.calls("views.open")[views:] == []  # refused before the leader types anything
    status, body = await slack.submit("U0BOSS", view, {"text": "One more thing"})  # an old form sent again
    assert status == 200 and told in body
    slack.ctx.clock.at = batch_end(slack.ctx.clock.now(), 15)
    await send_relays(slack.ctx)
    assert len(slack.fake.messages(slack.fake.dm_channel("U2"))) == to_author  # nothing more reached the author
