"""A leader's commitment in Slack: the invitation DM, the modal (a select and a sentence), the one
post in the team's channel, and the follow-up question in the next check-in."""

from __future__ import annotations

import json

from handlers.checkins import open_round
from schedules import jobs
from schedules.commitment_notes import send_commitment_notes
from schedules.outbox import Sender
from tests.polling import eventually
from tests.slack.test_slack_round import actions_of, start_round

SENTENCE = "We will bring one client story to every Monday meeting <!here>"


async def _closed_round(slack) -> int:
    rid = await start_round(slack)
    for user in ("U1", "U2", "U3", "U4"):
        dm = slack.fake.dm_channel(user)
        message = slack.fake.messages(dm)[0]
        await slack.tap(user, actions_of(message)[0][3], channel=dm, ts=message["ts"])
    await eventually(lambda: len(slack.fake.calls("chat.update")) == 4)
    slack.ctx.clock.move(hours=73)
    assert await jobs.close_rounds(slack.ctx) == [rid]
    return rid


async def test_the_leader_commits_in_a_modal_and_the_team_channel_gets_it_once(slack):
    rid = await _closed_round(slack)
    posts = len(slack.fake.calls("chat.postMessage"))
    assert await send_commitment_notes(slack.ctx) == 1
    (invite,) = slack.fake.calls("chat.postMessage")[posts:]
    assert invite["channel"] == "U0BOSS"  # the team's own leader, and nobody else
    text = json.dumps(invite["blocks"], ensure_ascii=False)
    assert "Pick one focus and tell the team what you will do." in text and "Participation" in text
    dm = slack.fake.messages(slack.fake.dm_channel("U0BOSS"))[-1]
    choose, skip = actions_of(dm)[0]
    assert (choose["value"], skip["text"]["text"]) == (str(rid), "Skip this time")

    await slack.tap("U0BOSS", choose, channel=slack.fake.dm_channel("U0BOSS"), ts=dm["ts"])
    view = (await eventually(lambda: slack.fake.calls("views.open")))[0]["view"]
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert kinds == {"driver": "static_select", "sentence": "plain_text_input"}
    status, _ = await slack.submit("U0BOSS", view, {"driver": "customer", "sentence": SENTENCE})
    assert status == 200

    posts = len(slack.fake.calls("chat.postMessage"))
    assert await send_commitment_notes(slack.ctx) == 1
    assert await send_commitment_notes(slack.ctx) == 0
    # (the leader's own "Done" lands in their DM)
    (post,) = [c for c in slack.fake.calls("chat.postMessage")[posts:] if c["channel"] != "U0BOSS"]
    assert post["channel"] == "C0SUPPORT"  # the team's channel: no DM to each member
    shown = json.dumps(post["blocks"], ensure_ascii=False)
    assert "your leader's focus after the last pulse" in shown and "Client connection" in shown
    assert "<!here>" not in shown  # the sentence is as written, and inert: it pings nobody

    status, body = await slack.submit("U0BOSS", view, {"driver": "workload", "sentence": "Again"})
    assert status == 200 and "already set" in body  # an old form sent again is refused politely

    slack.ctx.clock.move(days=5)
    opened = await open_round(slack.ctx, team_name="soporte")
    assert opened.round_id != rid
    await Sender(slack.ctx).drain()
    spanish = json.dumps(slack.fake.messages(slack.fake.dm_channel("U1"))[-1]["blocks"], ensure_ascii=False)
    english = json.dumps(slack.fake.messages(slack.fake.dm_channel("U2"))[-1]["blocks"], ensure_ascii=False)
    assert "Desde el último pulso, ¿mejoraron las cosas en Conexión con el cliente?" in spanish
    assert "Since the last pulse, did things improve on Client connection?" in english


async def test_team_pulse_commit_opens_the_modal_for_a_skipped_round(slack):
    rid = await _closed_round(slack)
    await send_commitment_notes(slack.ctx)
    dm = slack.fake.messages(slack.fake.dm_channel("U0BOSS"))[-1]
    _, skip = actions_of(dm)[0]
    await slack.tap("U0BOSS", skip, channel=slack.fake.dm_channel("U0BOSS"), ts=dm["ts"])
    await eventually(lambda: "/team-pulse commit" in json.dumps(slack.fake.calls("chat.update")))
    await slack.command("/team-pulse", "commit", user="U0BOSS")
    view = (await eventually(lambda: slack.fake.calls("views.open")))[0]["view"]
    assert json.loads(view["private_metadata"])["v"] == str(rid)
    assert view["title"]["text"] == "Your focus for the team"
