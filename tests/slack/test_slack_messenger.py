"""The Slack messenger: DMs by user id with their key, lookup after a lost answer, rate limits."""

from __future__ import annotations

import pytest

from bot.slack.messenger import SlackMessenger, WorkspaceGate, make_client
from handlers.messages import Message, Text
from handlers.ports import Recipient, SendError
from tests.clock import SecondsClock
from tests.fakes.slack_api import FakeChannel, FakeSlack, FakeUser

USERS = [FakeUser("U1", "ana"), FakeUser("U2", "bob"), FakeUser("U3", "gone", deleted=True)]
HELLO = Message((Text("hello <!channel> & co"),), fallback="hello")


def messenger_for(fake: FakeSlack, gate: WorkspaceGate | None = None) -> tuple[SlackMessenger, WorkspaceGate]:
    gate = gate or WorkspaceGate(rate=100, burst=100)
    client = make_client(fake.bot_token, base_url=fake.api_url, gate=gate)

    async def client_for(_workspace: str):
        return client, gate

    return SlackMessenger(client_for), gate


async def test_dm_goes_to_the_user_id_and_keeps_the_dm_channel():
    async with FakeSlack(users=USERS) as fake:
        messenger, _ = messenger_for(fake)
        sent = await messenger.send_direct(to=Recipient("slack", "U1"), message=HELLO, delivery_key="d1")
        assert sent.conversation == fake.dm_channel("U1")
        assert fake.calls("conversations.open") == []
        call = fake.calls("chat.postMessage")[0]
        assert call["channel"] == "U1"
        assert call["metadata"] == {"event_type": "pulsebot_delivery", "event_payload": {"key": "d1"}}
        assert "&lt;!channel&gt; &amp; co" in str(call["blocks"])


async def test_a_lost_answer_is_found_by_its_key_and_not_sent_again():
    async with FakeSlack(users=USERS) as fake:
        messenger, _ = messenger_for(fake)
        fake.fail_next("chat.postMessage", drop=True)
        with pytest.raises(SendError) as err:
            await messenger.send_direct(to=Recipient("slack", "U1"), message=HELLO, delivery_key="d7")
        assert err.value.transient
        assert len(fake.messages("U1")) == 1  # it was posted; only the answer was lost
        found = await messenger.find_direct(to=Recipient("slack", "U1", dm_conversation="D1"), delivery_key="d7")
        assert found is not None and found.ref == fake.messages("D1")[0]["ts"]
        assert await messenger.find_direct(to=Recipient("slack", "U1"), delivery_key="d8") is None
        assert len(fake.calls("chat.postMessage")) == 1


async def test_deleted_user_fails_for_good():
    async with FakeSlack(users=USERS) as fake:
        messenger, _ = messenger_for(fake)
        with pytest.raises(SendError) as err:
            await messenger.send_direct(to=Recipient("slack", "U3"), message=HELLO, delivery_key="d1")
        assert not err.value.transient


async def test_a_429_pauses_the_whole_workspace_for_retry_after():
    channels = [FakeChannel("C1", "a", ["UPULSEBOT"])]
    clock = SecondsClock()  # Slack's rate window and the gate's waits, moved instead of waited for
    async with FakeSlack(users=USERS, channels=channels, rate_per_workspace=1, retry_after=1,
                         monotonic=clock) as fake:
        messenger, gate = messenger_for(fake, WorkspaceGate(rate=100, burst=100, monotonic=clock, sleep=clock.sleep))
        await messenger.send_direct(to=Recipient("slack", "U1"), message=HELLO, delivery_key="d1")
        await messenger.send_direct(to=Recipient("slack", "U2"), message=HELLO, delivery_key="d2")
        assert clock() >= 1.0  # the second waited out Retry-After, then went through
        assert fake.rate_limited("chat.postMessage") == 1
        assert [c["channel"] for c in fake.calls("chat.postMessage")] == ["U1", "U2"]


async def test_gate_paces_sends_and_a_pause_holds_everyone():
    clock = SecondsClock()
    gate = WorkspaceGate(rate=2, burst=2, monotonic=clock, sleep=clock.sleep)
    for _ in range(4):
        await gate.acquire()
    assert clock() == pytest.approx(1.0)  # two from the burst, then two at 2 per second
    gate.pause(30)
    await gate.acquire()
    assert clock() >= 31.0


async def test_random_429s_are_waited_out_and_every_dm_arrives_once():
    async with FakeSlack(users=USERS, random_429_ratio=0.3, retry_after=0, seed=3) as fake:
        messenger, _ = messenger_for(fake)
        for n, user in enumerate(["U1", "U2"] * 5):
            await messenger.send_direct(to=Recipient("slack", user), message=HELLO, delivery_key=f"d{n}")
        assert fake.rate_limited("chat.postMessage") > 0
        keys = [m["metadata"]["event_payload"]["key"] for u in ("U1", "U2") for m in fake.messages(u)]
        assert sorted(keys) == sorted(f"d{n}" for n in range(10))
