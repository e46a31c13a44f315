"""Dashboard links and sessions in the core: single use, expiry, forgery, leadership checked every time."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.config import parse_config
from handlers.dashboard import (
    DIGEST_LINK_TTL,
    NotSignedIn,
    check_link,
    issue_link,
    login_url,
    readable_team,
    sign_in,
    sign_out,
    signed_in,
    team_report,
)
from handlers.errors import Closed, NotAllowed
from handlers.ports import Actor
from handlers.setup import apply_config
from storage.models import DashboardLink, DashboardSession
from tests.context import DEFAULT_CONFIG

LEAD = Actor(platform="console", user_id="lead")
BOSS = Actor(platform="console", user_id="boss")
ANA = Actor(platform="console", user_id="ana")

TWO_TEAMS = {
    **DEFAULT_CONFIG,
    "teams": [*DEFAULT_CONFIG["teams"], {"name": "ventas", "leaders": ["vlead"], "members": ["fe", "gil", "hugo"]}],
}


async def test_a_link_signs_its_leader_in_once(ctx):
    token = await issue_link(ctx, LEAD)
    session_id, reader = await sign_in(ctx, token)
    assert reader.actor.key == "console:lead"
    assert reader.teams == ("soporte",) and not reader.is_global
    assert (await signed_in(ctx, session_id)).teams == ("soporte",)
    with pytest.raises(Closed) as refused:
        await sign_in(ctx, token)
    assert refused.value.message_id == "dashboard.link_used"


async def test_looking_at_a_link_does_not_spend_it(ctx):
    token = await issue_link(ctx, LEAD)
    for _ in range(3):  # a chat app's preview, then the leader's own GET
        assert (await check_link(ctx, token)).actor.key == "console:lead"
    await sign_in(ctx, token)


async def test_a_chat_link_expires_after_15_minutes_a_digest_link_after_7_days(ctx):
    chat = await issue_link(ctx, LEAD)
    digest = await issue_link(ctx, LEAD, ttl=DIGEST_LINK_TTL)
    ctx.clock.move(minutes=15)
    with pytest.raises(Closed) as refused:
        await sign_in(ctx, chat)
    assert refused.value.message_id == "dashboard.link_expired"
    ctx.clock.move(days=6, hours=23)
    await check_link(ctx, digest)
    ctx.clock.move(minutes=45)
    with pytest.raises(Closed):
        await sign_in(ctx, digest)


@pytest.mark.parametrize("forge", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # a changed signature
    lambda t: "x" + t,  # a changed nonce
    lambda t: t.partition(".")[0],  # no signature
    lambda t: "",
    lambda t: "a" * 5000,
])
async def test_a_forged_link_signs_nobody_in(ctx, forge):
    token = await issue_link(ctx, LEAD)
    with pytest.raises(NotSignedIn) as refused:
        await sign_in(ctx, forge(token))
    assert refused.value.message_id == "dashboard.link_forged"
    await sign_in(ctx, token)  # the real one still works


async def test_a_well_signed_link_the_store_does_not_hold_is_refused(ctx):
    token = await issue_link(ctx, LEAD)
    async with ctx.store.session() as s:
        for row in (await s.exec(select(DashboardLink))).all():
            await s.delete(row)
        await s.commit()
    with pytest.raises(NotSignedIn):
        await check_link(ctx, token)


async def test_old_links_still_say_expired_or_used_until_they_are_purged_a_month_later(ctx):
    used, expired = await issue_link(ctx, LEAD), await issue_link(ctx, LEAD)
    await sign_in(ctx, used)
    ctx.clock.move(days=29)
    await sign_in(ctx, await issue_link(ctx, LEAD))  # a sign-in purges what is past keeping
    for token, why in ((used, "dashboard.link_used"), (expired, "dashboard.link_expired")):
        with pytest.raises(Closed) as refused:
            await check_link(ctx, token)
        assert refused.value.message_id == why
    ctx.clock.move(days=2)
    await sign_in(ctx, await issue_link(ctx, LEAD))
    async with ctx.store.session() as s:
        assert len((await s.exec(select(DashboardLink))).all()) == 2  # the two links of the last two sign-ins
        assert len((await s.exec(select(DashboardSession))).all()) == 1  # the first two sessions expired
    with pytest.raises(NotSignedIn):
        await check_link(ctx, used)


async def test_forget_ends_a_leaders_sessions_and_links(ctx):
    from handlers.privacy import forget

    token = await issue_link(ctx, LEAD)
    session_id, _ = await sign_in(ctx, await issue_link(ctx, LEAD))
    await forget(ctx, LEAD)
    async with ctx.store.session() as s:
        assert (await s.exec(select(DashboardLink))).all() == []
        assert (await s.exec(select(DashboardSession))).all() == []
    with pytest.raises(NotSignedIn):
        await signed_in(ctx, session_id)
    with pytest.raises(NotSignedIn):
        await check_link(ctx, token)


async def test_only_leaders_get_links(ctx):
    with pytest.raises(NotAllowed):
        await issue_link(ctx, ANA)


async def test_the_store_keeps_no_token_and_no_session_id(ctx):
    token = await issue_link(ctx, LEAD)
    session_id, _ = await sign_in(ctx, token)
    async with ctx.store.session() as s:
        links = (await s.exec(select(DashboardLink))).all()
        sessions = (await s.exec(select(DashboardSession))).all()
    stored = {v for row in [*links, *sessions] for v in vars(row).values() if isinstance(v, str)}
    assert not any(token in v or token.partition(".")[0] in v or session_id in v for v in stored)
    assert len(links) == 1 and len(sessions) == 1


async def test_signing_in_again_ends_the_session_the_browser_held(ctx):
    first, _ = await sign_in(ctx, await issue_link(ctx, LEAD))
    second, _ = await sign_in(ctx, await issue_link(ctx, LEAD), old_session=first)
    assert second != first
    with pytest.raises(NotSignedIn):
        await signed_in(ctx, first)
    await signed_in(ctx, second)


async def test_a_session_lasts_8_hours_and_ends_at_sign_out(ctx):
    session_id, _ = await sign_in(ctx, await issue_link(ctx, LEAD))
    ctx.clock.move(hours=7, minutes=59)
    await signed_in(ctx, session_id)
    ctx.clock.move(minutes=1)
    with pytest.raises(NotSignedIn):
        await signed_in(ctx, session_id)
    other, _ = await sign_in(ctx, await issue_link(ctx, LEAD))
    await sign_out(ctx, other)
    with pytest.raises(NotSignedIn):
        await signed_in(ctx, other)
    for nothing in (None, "", "made-up", "z" * 1000):
        with pytest.raises(NotSignedIn):
            await signed_in(ctx, nothing)


async def test_a_leader_removed_from_the_config_loses_access_at_the_next_request(ctx):
    token = await issue_link(ctx, LEAD)
    session_id, _ = await sign_in(ctx, await issue_link(ctx, LEAD))
    config = {**DEFAULT_CONFIG, "teams": [{**DEFAULT_CONFIG["teams"][0], "leaders": ["someone-else"]}]}
    ctx.config = parse_config(config)
    await apply_config(ctx)
    with pytest.raises(NotAllowed):
        await signed_in(ctx, session_id)
    with pytest.raises(NotAllowed):
        await sign_in(ctx, token)  # an unspent link of theirs too


async def test_a_team_leader_reads_their_team_only_a_global_leader_every_team(make_ctx):
    ctx = await make_ctx(TWO_TEAMS)
    _, lead = await sign_in(ctx, await issue_link(ctx, LEAD))
    assert readable_team(lead, "SOPORTE") == "soporte"
    for other in ("ventas", "no-such-team"):
        with pytest.raises(NotAllowed) as refused:
            await team_report(ctx, lead, other)
        assert refused.value.message_id == "reports.not_allowed"
    _, boss = await sign_in(ctx, await issue_link(ctx, BOSS))
    assert boss.is_global and boss.teams == ("soporte", "ventas")
    assert [r.team for r in (await team_report(ctx, boss, "ventas")).teams] == ["ventas"]


async def test_the_login_url_is_the_public_url_and_the_token():
    assert login_url("https://pulse.example.com/", "ab.c-d_") == "https://pulse.example.com/dashboard/login?token=ab.c-d_"


async def test_the_reader_gets_their_own_language(ctx):
    _, reader = await sign_in(ctx, await issue_link(ctx, LEAD))
    assert reader.locale == "en"  # the config's default: "lead" has no profile
