"""People are matched by platform and id together, everywhere a leader is looked up.

Ids in `pulsebot.toml` are read as "platform:id" (`handlers.identity.qualify`); the store keeps
leaders in that form, and rosters, reports and the weekly digest compare it with the platform of
the person in front of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from handlers.checkins import roster
from handlers.config import load_config, parse_config
from handlers.errors import ConfigError
from handlers.identity import qualify
from handlers.members import sync_roster, upsert_member
from handlers.ports import Actor
from handlers.readers import readable_teams
from handlers.setup import apply_config
from schedules.digest import send_digests
from storage.models import Leader, Team
from tests.schedules.support import MONDAY_0800_UTC, Inbox

GUID = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"
CONFIG = {
    "pulse": {"min_group_size": 3, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["U0LEAD"]},
    "teams": [{"name": "soporte", "leaders": ["slack:U0BOSS", f"teams:{GUID}"]}],
}


@pytest.mark.parametrize(("written", "read"), [
    ("U0LEAD", "slack:U0LEAD"),
    ("W0GRID", "slack:W0GRID"),
    ("slack:U0LEAD", "slack:U0LEAD"),
    ("29:1abc-XYZ", "teams:29:1abc-XYZ"),
    ("teams:29:1abc", "teams:29:1abc"),
    (GUID, f"teams:{GUID.lower()}"),
    (f"teams:{GUID}", f"teams:{GUID.lower()}"),
    ("teams:8:orgid:abc", "teams:8:orgid:abc"),
    ("valeria", "console:valeria"),
    ("Ulises", "console:Ulises"),
    ("console:U0LEAD", "console:U0LEAD"),
    (" U0LEAD ", "slack:U0LEAD"),
])
def test_a_config_id_is_read_by_its_prefix_or_its_shape(written, read):
    assert qualify(written) == read


@pytest.mark.parametrize("written", ["", "slak:U0LEAD", "msteams:29:abc", "slack:", "8:orgid:abc"])
def test_an_id_that_names_no_platform_is_refused(written):
    with pytest.raises(ValueError):
        qualify(written)


@pytest.mark.parametrize(("table", "key"), [("[pulse]\nleaders", "pulse.leaders"),
                                            ('[[teams]]\nname = "soporte"\nleaders', "teams[0].leaders"),
                                            ('[[teams]]\nname = "soporte"\nmembers', "teams[0].members")])
def test_an_unknown_platform_prefix_in_the_config_names_the_file_and_key(tmp_path: Path, table, key):
    path = tmp_path / "pulsebot.toml"
    path.write_text(f'{table} = ["slack:U0OK", "slak:U0LEAD"]\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {key} = ") and "'slak' is not a platform" in message
    assert "slack:U" in message  # and says how to write it


async def test_leaders_are_stored_by_platform_and_bare_rows_of_an_older_version_are_replaced(make_ctx):
    ctx = await make_ctx(CONFIG)
    async with ctx.store.session() as session:
        team = (await session.exec(select(Team).where(Team.name == "soporte"))).one()
        session.add(Leader(team_id=team.id, user_ref="U0BOSS"))  # as an older version wrote it
        session.add(Leader(team_id=None, user_ref="U0LEAD"))
        await session.commit()
    await apply_config(ctx)  # every start
    async with ctx.store.session() as session:
        rows = (await session.exec(select(Leader.team_id, Leader.user_ref).order_by(col(Leader.user_ref)))).all()
    assert sorted(ref for _, ref in rows) == ["slack:U0BOSS", "slack:U0LEAD", f"teams:{GUID.lower()}"]


async def test_report_access_needs_the_leaders_platform_as_well_as_the_id(make_ctx):
    ctx = await make_ctx(CONFIG)
    assert await readable_teams(ctx, Actor(platform="slack", user_id="U0LEAD")) == (True, ["soporte"])
    assert await readable_teams(ctx, Actor(platform="slack", user_id="U0BOSS")) == (False, ["soporte"])
    for namesake in (Actor(platform="teams", user_id="U0LEAD"), Actor(platform="console", user_id="U0BOSS"),
                     Actor(platform="teams", user_id="29:x", aad_id="U0BOSS")):
        assert await readable_teams(ctx, namesake) == (False, []), namesake
    # A Teams leader named by Entra object id, in any case.
    assert await readable_teams(ctx, Actor(platform="teams", user_id="29:boss", aad_id=GUID.lower())) \
        == (False, ["soporte"])
    assert await readable_teams(ctx, Actor(platform="slack", user_id="U9", aad_id=GUID)) == (False, [])


async def test_a_roster_leaves_out_its_leaders_and_only_them(make_ctx):
    people = [
        Actor(platform="slack", user_id="U0BOSS"),  # the leader: never on the roster
        Actor(platform="teams", user_id="U0BOSS"),  # a namesake on Teams: a member like any other
        Actor(platform="teams", user_id="29:boss", aad_id=GUID.lower()),  # the Teams leader, by Entra id
        Actor(platform="teams", user_id="29:ana"),  # no Entra id: still on the roster
        Actor(platform="slack", user_id="U1"),
    ]
    expected = {"teams:U0BOSS", "teams:29:ana", "slack:U1"}
    # Read before the leaders were named: everyone is on the team's member rows...
    ctx = await make_ctx({**CONFIG, "teams": [{"name": "soporte"}]})
    assert await sync_roster(ctx, team_name="soporte", members=people) == 5
    ctx.config = parse_config(CONFIG)
    await apply_config(ctx)
    async with ctx.store.session() as session:
        team = (await session.exec(select(Team).where(Team.name == "soporte"))).one()
        # ...and the round's roster leaves the leaders out, and only them.
        assert {f"{m.platform}:{m.user_id}" for m in await roster(session, team)} == expected
    # A fresh read leaves them out as well.
    assert await sync_roster(ctx, team_name="soporte", members=people) == 3
    async with ctx.store.session() as session:
        assert {f"{m.platform}:{m.user_id}" for m in await roster(session, team)} == expected


async def test_the_weekly_digest_goes_to_the_leader_not_to_a_namesake_on_another_platform(make_ctx):
    ctx = await make_ctx(CONFIG, now=MONDAY_0800_UTC)  # 09:00 in Madrid, Monday
    slack, teams = Inbox(ctx.clock, platform="slack"), Inbox(ctx.clock, platform="teams")
    ctx.messengers.update(slack=slack, teams=teams)
    for platform in ("slack", "teams"):
        await upsert_member(ctx, Actor(platform=platform, user_id="U0LEAD", timezone="Europe/Madrid"))
    assert await send_digests(ctx) == 1
    assert [r.user_id for r in slack.received] == ["U0LEAD"] and teams.received == []
