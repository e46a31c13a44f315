"""Rosters from Teams: team installs, group chats (paged), members leaving, the language a member picks."""

from __future__ import annotations

from sqlmodel import select

from handlers.checkins import roster
from handlers.config import Settings
from handlers.i18n import t
from storage.models import Team
from tests.fakes.teams_connector import member
from tests.teams.conftest import LEAD, MEMBERS, TEAM_ID, TEAMS_CONFIG, TeamsRig, _rig

GROUP_CHAT = "19:abc123@thread.v2"


async def _roster_ids(rig: TeamsRig, team: str = "soporte") -> set[str]:
    async with rig.ctx.store.session() as session:
        row = (await session.exec(select(Team).where(Team.name == team))).one()
        return {m.user_id for m in await roster(session, row)}


async def test_team_install_puts_everyone_but_the_leader_on_the_roster(rig: TeamsRig):
    await rig.client.install_team(LEAD)
    assert await _roster_ids(rig) == {u.id for u in MEMBERS}
    # The connector was paged (the fake answers two members per page).
    assert len(rig.connector.calls("pagedmembers")) >= 4


async def test_a_member_who_leaves_the_team_leaves_the_roster(rig: TeamsRig):
    await rig.client.install_team(LEAD)
    rig.connector._members[TEAM_ID] = [a for a in rig.connector._members[TEAM_ID] if a["id"] != "29:fran"]
    activity = rig.client._base(
        LEAD, rig.client.channel(), type="conversationUpdate", membersRemoved=[{"id": "29:fran"}],
        channelData={"tenant": {"id": "t"}, "team": {"id": TEAM_ID}, "eventType": "teamMemberRemoved"},
    )
    status, _ = await rig.client.send(activity)
    assert status == 202
    assert "29:fran" not in await _roster_ids(rig)


async def test_group_chat_roster_is_read_page_by_page(make_ctx, connector):
    config = {**TEAMS_CONFIG, "teams": [{"name": "chat", "teams_conversation": GROUP_CHAT}], "meetings": []}
    ctx = await make_ctx(config)
    for user in MEMBERS[:5]:
        connector.add_member(GROUP_CHAT, member(user.id, user.name, aad=user.aad))
    async for rig in _rig(ctx, connector, Settings(microsoft_app_id="", pulsebot_teams_emulator=True)):
        activity = rig.client._base(
            MEMBERS[0], {"id": GROUP_CHAT, "conversationType": "groupChat", "isGroup": True},
            type="installationUpdate", action="add",
        )
        status, _ = await rig.client.send(activity)
        assert status == 202
        assert await _roster_ids(rig, "chat") == {u.id for u in MEMBERS[:5]}
        tokens = [c.query.get("continuationToken") for c in connector.calls("pagedmembers")]
        assert tokens == [None, "2", "4"]  # the first page is asked without a token


async def test_a_chosen_language_wins_over_teams_locale(rig: TeamsRig):
    await rig.client.install_personal(MEMBERS[0])  # es-ES
    status, _ = await rig.client.say(MEMBERS[0], "pulse lang en")
    assert status == 202
    status, _ = await rig.client.say(MEMBERS[0], "what?")
    assert rig.connector.activities("a:personal-29:ana")[-1]["text"] == t("teams.help", "en")
