"""After a restart the bot still posts where it was heard before: references live in the store."""

from __future__ import annotations

from sqlmodel import select

from bot.teams.app import TeamsFace
from handlers.config import Settings
from handlers.messages import Message, Text
from storage.models import ConversationRef, EmptyChair
from tests.teams.conftest import BOT_ID, LEAD, MEETING_CHAT, MEMBERS, TEAM_ID, TEAMS_CONFIG, TENANT, TeamsRig

LOCAL = Settings(microsoft_app_id="", microsoft_app_password="", pulsebot_teams_emulator=True)


def note(text: str, locale: str = "en") -> Message:
    return Message((Text(text, "heading"),), text, locale)


async def restarted(rig: TeamsRig, make_ctx) -> TeamsFace:  # noqa: ANN001 - the suite's fixture
    """A new process on the same database: new store, new context, new face, empty memory."""
    ctx = await make_ctx(TEAMS_CONFIG)
    assert ctx.store is not rig.ctx.store
    face = TeamsFace(ctx, LOCAL)
    await face.start()
    return face


async def test_after_a_restart_a_post_reaches_a_channel_heard_before(rig: TeamsRig, make_ctx):
    status, _ = await rig.client.say(MEMBERS[0], "hello", conversation=rig.client.channel())
    assert status == 202
    before = len(rig.connector.calls("send"))

    face = await restarted(rig, make_ctx)
    sent = await face.messenger.post(conversation=TEAM_ID, message=note("Empty chair: Q3 pricing"))

    sends = rig.connector.calls("send")
    assert len(sends) == before + 1  # it reached the fake connector, the serviceUrl learnt before
    call = sends[-1]
    assert call.conversation == TEAM_ID and sent.conversation == TEAM_ID and sent.ref
    assert call.body["conversation"]["id"] == TEAM_ID
    assert call.body["conversation"].get("tenantId") == TENANT
    assert call.body["from"]["id"] == BOT_ID
    assert "Empty chair: Q3 pricing" in str(call.body["attachments"][0]["content"])


async def test_after_a_restart_a_reply_in_a_channel_thread_lands_in_that_thread(rig: TeamsRig, make_ctx):
    thread = f"{TEAM_ID};messageid=1700000000000"
    await rig.client.say(MEMBERS[1], "hello", conversation={**rig.client.channel(), "id": thread})

    face = await restarted(rig, make_ctx)
    sent = await face.messenger.post(conversation=TEAM_ID, message=note("Root"))
    await face.messenger.post(conversation=TEAM_ID, message=note("In the thread"), thread_ref=sent.ref)

    reply = rig.connector.calls("reply")[-1]
    assert reply.conversation == TEAM_ID and reply.activity_id == sent.ref


async def test_after_a_restart_the_meeting_chair_card_is_still_edited_in_place(rig: TeamsRig, make_ctx):
    await rig.client.meeting_start(LEAD)  # opens a chair and posts its card in the meeting chat
    async with rig.ctx.store.session() as session:
        chair = (await session.exec(select(EmptyChair))).one()

    face = await restarted(rig, make_ctx)
    await face.messenger.update(conversation=MEETING_CHAT, ref=chair.message_ref, message=note("Tally: 1", "es"))

    update = rig.connector.calls("update")[-1]
    assert update.conversation == MEETING_CHAT and update.activity_id == chair.message_ref
    assert update.body["conversation"].get("tenantId") == TENANT
    assert rig.connector.cards(MEETING_CHAT)[-1]["lang"] == "es"


async def test_a_personal_chat_is_not_stored_as_a_conversation_reference(rig: TeamsRig):
    await rig.client.say(MEMBERS[0], "hola")  # a 1:1: the member row keeps that reference
    await rig.client.say(MEMBERS[0], "hello", conversation=rig.client.channel())
    async with rig.ctx.store.session() as session:
        rows = (await session.exec(select(ConversationRef))).all()
    assert [(r.platform, r.conversation) for r in rows] == [("teams", TEAM_ID)]
    # The stored channel reference names no person: it must not outlive a `/pulse forget`.
    assert "29:ana" not in rows[0].reference and "Ana" not in rows[0].reference


async def test_the_same_channel_heard_again_is_written_once(rig: TeamsRig):
    channel = rig.client.channel()
    await rig.client.say(MEMBERS[0], "hello", conversation=channel)
    async with rig.ctx.store.session() as session:
        first = (await session.exec(select(ConversationRef))).one()
    rig.ctx.clock.move(hours=1)
    await rig.client.say(MEMBERS[1], "hello again", conversation=channel)
    async with rig.ctx.store.session() as session:
        again = (await session.exec(select(ConversationRef))).one()
    assert again.id == first.id and again.updated_at == first.updated_at  # not rewritten
