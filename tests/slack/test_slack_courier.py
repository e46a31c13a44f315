"""The courier (bot/slack/courier.py): the calls that only show what is stored, made by a process of
its own against the fake Slack: the redrawn card, replies to a response_url, a 429's pause shared
with the server's gate, and what happens when the process dies."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from sqlmodel import select

from handlers.checkin_message import mood_label
from handlers.i18n import t
from handlers.pauses import pause_left
from storage.models import Response
from tests.polling import eventually
from tests.slack.test_slack_round import actions_of, start_round

pytestmark = pytest.mark.courier


def kept(mood: int) -> str:
    """What the card (or the reply) says was kept, for U3 (who reads English)."""
    return t("recorded.mood", "en", label=mood_label(mood, "en"))


async def first_dm(slack, user: str) -> tuple[str, dict]:
    await start_round(slack)
    return dm_of(slack, user)


def dm_of(slack, user: str) -> tuple[str, dict]:
    dm = slack.fake.dm_channel(user)
    return dm, slack.fake.messages(dm)[0]


async def test_a_tapped_card_is_redrawn_by_the_courier_process(slack):
    courier = slack.face.runtime.courier
    assert courier.ready and courier.carried == 0
    dm, message = await first_dm(slack, "U3")
    assert (await slack.tap("U3", actions_of(message)[0][4], channel=dm, ts=message["ts"]))[0] == 200
    update = (await eventually(lambda: slack.fake.calls("chat.update")))[0]
    assert (update["channel"], update["ts"]) == (dm, message["ts"])
    assert kept(5) in str(update["blocks"])
    await eventually(lambda: courier.carried == 1)  # the call was the courier's, not the server's
    assert len(slack.fake.messages(dm)) == 1  # redrawn in place: no reply beside it
    # It runs only on cores the server leaves idle: an ack never waits behind it for a core.
    assert os.sched_getscheduler(courier._proc.pid) == os.SCHED_IDLE  # noqa: SLF001
    assert os.sched_getscheduler(0) != os.SCHED_IDLE
    # And on one core only, the last this process may use, when it may use more: the server's
    # caches are not filled with the courier's data on every core (bot/priority.py).
    cores = sorted(os.sched_getaffinity(0))
    expected = {cores[-1]} if len(cores) > 1 else set(cores)
    assert os.sched_getaffinity(courier._proc.pid) == expected  # noqa: SLF001


async def test_a_command_reply_to_the_response_url_goes_through_the_courier(slack):
    courier = slack.face.runtime.courier
    url = await slack.command("/pulse", "me", user="U3")
    reply = await eventually(lambda: [c for c in slack.fake.calls("response_url") if c["_response_url"] == url])
    assert reply[0]["response_type"] == "ephemeral"
    assert t("me.none", "en") in str(reply[0]["blocks"])
    await eventually(lambda: courier.carried == 1)


async def test_a_429_on_the_redraw_pauses_the_workspace_then_the_card_is_redrawn(slack):
    dm, message = await first_dm(slack, "U3")
    slack.fake.fail_next("chat.update", limited=True)
    tapped = time.monotonic()
    await slack.tap("U3", actions_of(message)[0][2], channel=dm, ts=message["ts"])
    await eventually(lambda: slack.fake.rate_limited("chat.update") == 1)
    # The pause is recorded for every process (in the store, on the test's clock, which then moves on).
    assert await eventually(lambda: pause_left(slack.ctx, platform="slack", workspace="")) > 0
    slack.ctx.clock.move(seconds=slack.fake.retry_after)
    await eventually(lambda: slack.fake.calls("chat.update"))
    assert kept(3) in str(slack.fake.calls("chat.update")[0]["blocks"])
    limited_at, redrawn_at = [at for at, method, _ in slack.fake.timeline if method == "chat.update"]
    assert redrawn_at - limited_at >= slack.fake.retry_after - 0.05  # Retry-After was waited out
    assert time.monotonic() - tapped >= slack.fake.retry_after - 0.05
    await eventually(lambda: slack.face.runtime.courier.carried == 2)


async def test_when_the_courier_dies_mid_call_the_member_still_sees_their_answer_was_kept(slack):
    courier = slack.face.runtime.courier
    dm, message = await first_dm(slack, "U3")
    slack.fake.fail_next("chat.update", hold=True)
    assert (await slack.tap("U3", actions_of(message)[0][1], channel=dm, ts=message["ts"]))[0] == 200
    await eventually(lambda: slack.fake.held == 1)
    os.kill(courier._proc.pid, signal.SIGKILL)  # noqa: SLF001 - the test plays the crash
    # The redraw it had is failed, so the reply says it instead, sent by the server itself.
    notice = await eventually(lambda: slack.fake.messages(dm)[1:])
    assert kept(2) in str(notice[0]["blocks"])
    slack.fake.release()
    assert not courier.ready
    async with slack.ctx.store.session() as session:
        assert [r.mood for r in (await session.exec(select(Response))).all()] == [2]
    # Later calls are the server's own: the card of the next tap is redrawn, once.
    before = len(slack.fake.calls("chat.update"))
    await slack.tap("U3", actions_of(message)[0][3], channel=dm, ts=message["ts"])
    await eventually(lambda: len(slack.fake.calls("chat.update")) == before + 1)
    assert not courier.ready


@pytest.mark.report_worker
async def test_the_leaders_report_and_chart_are_carried_by_the_courier(slack):
    courier = slack.face.runtime.courier
    await start_round(slack)
    for user in ("U1", "U2", "U3"):
        dm, message = dm_of(slack, user)
        await slack.tap(user, actions_of(message)[0][3], channel=dm, ts=message["ts"])
    await eventually(lambda: len(slack.fake.calls("chat.update")) == 3)
    await eventually(lambda: courier.carried == 3)
    url = await slack.command("/team-pulse", "", user="U0BOSS")
    report = await eventually(lambda: [c for c in slack.fake.calls("response_url") if c["_response_url"] == url])
    assert report[0]["response_type"] == "ephemeral"
    upload = (await eventually(lambda: slack.fake.calls("files.completeUploadExternal")))[0]
    boss_dm = slack.fake.dm_channel("U0BOSS")
    assert slack.fake.messages(boss_dm)[-1]["files"]  # the chart, in the leader's DM only
    assert upload["channel_id"] == boss_dm
    # The chart's bytes crossed the pipe as they are: what reached Slack is the PNG itself.
    assert slack.fake.uploaded(upload["files"][0]["id"]).startswith(b"\x89PNG\r\n\x1a\n")
    # Both by the courier: the report to the response_url, and the upload as one hand-over.
    await eventually(lambda: courier.carried == 3 + 2)


async def test_a_server_stopped_while_its_courier_starts_stops_at_once(slack):
    courier = slack.face.runtime.courier
    await courier.stop()
    assert not courier.ready
    courier.wake()  # the first call of a server that is told to stop right then
    await asyncio.wait_for(courier.stop(), 5)
    assert not courier.ready


async def test_the_courier_process_answers_frames_and_leaves_on_one_it_cannot_read():
    """Its protocol, spoken to the process itself: a refused method is answered with a 400 in a
    frame; a frame that is not a pickled dict ends it (nothing after it could be found again)."""
    import pickle
    import struct
    import sys

    from bot.slack.courier_process import frame, read_frame

    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.slack.courier_process", "0",
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert await asyncio.wait_for(read_frame(proc.stdout), 30) == {"ready": True}
        proc.stdin.write(frame({"id": 5, "base": "http://127.0.0.1:9/api/", "token": "xoxb-1",
                                "method": "chat_delete", "args": {"channel": "C1", "ts": "1.2"}}))
        answer = await asyncio.wait_for(read_frame(proc.stdout), 10)
        assert answer == {"id": 5, "status": 400, "error": "method_not_handed_over", "retry_after": 0}
        body = pickle.dumps(["not", "a", "dict"])
        proc.stdin.write(struct.pack(">I", len(body)) + body)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
