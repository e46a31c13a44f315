"""The dashboard's reply form beside each comment: posted from the page with the session, refused from
another site, signed out or for a team the leader does not lead; it queues the same relay as chat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.app import Faces, build_web_app
from handlers.ports import Actor
from storage.models import ReplyMessage
from tests.web.support import SUPPRESSED_COMMENT, TWO_TEAMS, seed_rounds
from tests.web.test_dashboard_pages import sign_in


@pytest.fixture
async def client(make_ctx) -> AsyncIterator[tuple[TestClient, object]]:
    ctx = await make_ctx(TWO_TEAMS)
    await seed_rounds(ctx)
    async with TestClient(TestServer(build_web_app(ctx, Faces(), public_url="http://127.0.0.1"),
                                     host="127.0.0.1")) as c:
        yield c, ctx


async def _queued(ctx) -> list[ReplyMessage]:
    async with ctx.store.session() as session:
        return list((await session.exec(select(ReplyMessage))).all())


async def test_a_reply_form_beside_each_shown_comment_posts_a_reply(client):
    http, ctx = client
    await sign_in(http, ctx)
    page = await (await http.get("/dashboard/team/soporte")).text()
    forms = re.findall(r'<form method="post" action="(/dashboard/reply/[0-9a-f]{32})">', page)
    assert len(forms) == 1  # the one comment shown; the suppressed round's is neither shown nor answerable
    assert SUPPRESSED_COMMENT not in page
    assert page.index("the new rota helps") < page.index(forms[0])  # beside its comment
    done = await http.post(forms[0], data={"text": "Thanks, what else would help?"},
                           headers={"Origin": str(http.make_url("")).rstrip("/")})
    assert done.status == 200 and "next batch" in await done.text()
    (queued,) = await _queued(ctx)
    assert (queued.direction, queued.text, queued.status) == ("to_author", "Thanks, what else would help?", "pending")


async def test_a_reply_from_another_site_signed_out_or_by_another_teams_leader_is_refused(client):
    http, ctx = client
    await sign_in(http, ctx)
    page = await (await http.get("/dashboard/team/soporte")).text()
    (path,) = re.findall(r'action="(/dashboard/reply/[0-9a-f]{32})"', page)
    forged = await http.post(path, data={"text": "hi"}, headers={"Origin": "https://evil.example"})
    assert forged.status == 403
    empty = await http.post(path, data={"text": "  "})
    assert empty.status == 400
    await http.post("/dashboard/logout")
    assert (await http.post(path, data={"text": "hi"})).status == 401
    await sign_in(http, ctx, Actor(platform="console", user_id="vlead"))
    other = await http.post(path, data={"text": "hi"})
    assert other.status == 403 and "leader of this comment" in await other.text()
    assert await _queued(ctx) == []
