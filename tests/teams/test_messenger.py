"""TeamsMessenger against the fake connector: proactive 1:1s, posts, updates, and failures."""

from __future__ import annotations

import socket

import pytest

from bot.teams.messenger import dump_reference, load_reference
from handlers.messages import Message, Notice, Text
from handlers.ports import Recipient, SendError
from tests.teams.conftest import BOT_ID, MEMBERS, TENANT, TeamsRig, assert_valid_card


def hello(locale: str = "en") -> Message:
    return Message((Text("Hello", "heading"), Notice("Saved", "success")), "Hello", locale)


def reference_json(rig: TeamsRig, user_id: str = "29:fran") -> str:
    from microsoft_agents.activity import ChannelAccount, ConversationAccount, ConversationReference

    return dump_reference(ConversationReference(
        channel_id="msteams", service_url=rig.connector.url, bot=ChannelAccount(id=BOT_ID, name="pulsebot"),
        user=ChannelAccount(id=user_id), conversation=ConversationAccount(id="19:soporte@thread.tacv2",
                                                                        tenant_id=TENANT),
    ))


async def test_send_direct_creates_the_personal_chat_once_and_remembers_it(rig: TeamsRig):
    to = Recipient(platform="teams", user_id="29:fran", conversation_ref=reference_json(rig))
    first = await rig.face.messenger.send_direct(to=to, message=hello(), delivery_key="d1")
    second = await rig.face.messenger.send_direct(to=to, message=hello(), delivery_key="d2")
    created = rig.connector.calls("create")
    assert len(created) == 1
    assert created[0].body["members"] == [{"id": "29:fran"}]
    assert created[0].body["tenantId"] == TENANT and created[0].body["bot"]["id"] == BOT_ID
    assert first.conversation == second.conversation == rig.connector.dm_conversation("29:fran")
    sends = rig.connector.calls("send")
    assert [s.body["channelData"]["pulsebot"]["delivery"] for s in sends] == ["d1", "d2"]
    assert all("replyToId" not in s.body for s in sends)  # a new message, not a reply to anything
    for card in rig.connector.cards(first.conversation):
        assert_valid_card(card)


async def test_send_direct_uses_the_stored_personal_chat(rig: TeamsRig):
    await rig.client.install_personal(MEMBERS[0])
    to = Recipient(platform="teams", user_id="29:ana", dm_conversation="a:personal-29:ana",
                   conversation_ref=reference_json(rig, "29:ana"))
    sent = await rig.face.messenger.send_direct(to=to, message=hello("es"), delivery_key="d9")
    assert sent.conversation == "a:personal-29:ana" and sent.ref
    assert rig.connector.calls("create") == []


async def test_rate_limit_is_a_transient_error_with_retry_after(rig: TeamsRig):
    to = Recipient(platform="teams", user_id="29:ana", dm_conversation="a:personal-29:ana",
                   conversation_ref=reference_json(rig, "29:ana"))
    rig.connector.fail_next("send", status=429, retry_after=3)
    with pytest.raises(SendError) as err:
        await rig.face.messenger.send_direct(to=to, message=hello(), delivery_key="d1")
    assert err.value.transient and err.value.retry_after == 3.0
    rig.connector.fail_next("send", status=502)
    with pytest.raises(SendError) as err:
        await rig.face.messenger.send_direct(to=to, message=hello(), delivery_key="d1")
    assert err.value.transient
    rig.connector.fail_next("send", status=403)  # the user blocked the bot
    with pytest.raises(SendError) as err:
        await rig.face.messenger.send_direct(to=to, message=hello(), delivery_key="d1")
    assert not err.value.transient
    assert rig.connector.calls("send") == []


async def test_a_member_without_a_reference_cannot_be_reached(rig: TeamsRig):
    with pytest.raises(SendError) as err:
        await rig.face.messenger.send_direct(to=Recipient(platform="teams", user_id="29:x"), message=hello(),
                                             delivery_key="d1")
    assert not err.value.transient


async def test_teams_cannot_look_and_says_so_instead_of_answering_not_there(rig: TeamsRig):
    assert rig.face.messenger.can_look is False
    with pytest.raises(SendError) as err:  # "cannot tell", never a None that reads as "absent"
        await rig.face.messenger.find_direct(to=Recipient(platform="teams", user_id="29:x"), delivery_key="d1")
    assert not err.value.transient and rig.connector.calls() == []


async def test_post_and_update_in_a_known_channel(rig: TeamsRig):
    await rig.client.install_team(MEMBERS[0])  # the bot learns the channel's service URL
    sent = await rig.face.messenger.post(conversation="19:soporte@thread.tacv2", message=hello())
    await rig.face.messenger.update(conversation=sent.conversation, ref=sent.ref, message=hello("es"))
    update = rig.connector.calls("update")[-1]
    assert update.activity_id == sent.ref
    assert update.body["attachments"][0]["content"]["lang"] == "es"
    thread = await rig.face.messenger.post(conversation=sent.conversation, message=hello(), thread_ref=sent.ref)
    assert rig.connector.calls("reply")[-1].activity_id == sent.ref and thread.ref


def test_stored_reference_round_trips_without_an_activity_id(rig: TeamsRig):
    reference = load_reference(reference_json(rig))
    assert reference.activity_id is None and reference.conversation.tenant_id == TENANT


async def test_a_failed_chat_creation_is_transient_and_sends_nothing(rig: TeamsRig):
    to = Recipient(platform="teams", user_id="29:fran", conversation_ref=reference_json(rig))
    rig.connector.fail_next("create", status=503)
    with pytest.raises(SendError) as err:
        await rig.face.messenger.send_direct(to=to, message=hello(), delivery_key="d1")
    assert err.value.transient and err.value.posted_nothing  # no card had been sent: safe to retry
    assert rig.connector.calls("send") == []


async def test_only_refusals_and_an_unreachable_connector_are_known_to_have_posted_nothing(rig: TeamsRig):
    to = Recipient(platform="teams", user_id="29:ana", dm_conversation="a:personal-29:ana",
                   conversation_ref=reference_json(rig, "29:ana"))
    for status, refused in ((429, True), (412, True), (500, False), (502, False), (504, False)):
        rig.connector.fail_next("send", status=status)
        with pytest.raises(SendError) as err:
            await rig.face.messenger.send_direct(to=to, message=hello(), delivery_key="d1")
        assert err.value.transient and err.value.posted_nothing is refused, status
    assert rig.connector.calls("send") == []

    with socket.socket() as s:  # a port nobody listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    nowhere = reference_json(rig, "29:ana").replace(rig.connector.url, f"http://127.0.0.1:{closed}/")
    with pytest.raises(SendError) as err:
        await rig.face.messenger.send_direct(to=Recipient(platform="teams", user_id="29:ana",
                                                          dm_conversation="a:personal-29:ana",
                                                          conversation_ref=nowhere),
                                             message=hello(), delivery_key="d1")
    assert err.value.transient and err.value.posted_nothing and err.value.reason == "teams.unreachable"


async def test_a_dropped_connection_after_the_card_was_stored_may_have_posted(rig: TeamsRig):
    to = Recipient(platform="teams", user_id="29:ana", dm_conversation="a:personal-29:ana",
                   conversation_ref=reference_json(rig, "29:ana"))
    rig.connector.lose_answer("send")
    with pytest.raises(SendError) as err:
        await rig.face.messenger.send_direct(to=to, message=hello(), delivery_key="d1")
    assert err.value.transient and not err.value.posted_nothing
    assert len(rig.connector.cards("a:personal-29:ana")) == 1  # the member has it all the same
