"""Migration a13f01100001: every "we don't know" impact already stored becomes an open follow-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import select

from storage.db import Store
from storage.migrate import upgrade
from storage.models import Followup
from tests.dbutil import AT

OPENED = datetime(2026, 10, 5, 9, tzinfo=UTC)


async def test_existing_we_dont_know_impacts_become_follow_ups_owned_by_their_author(db_url):
    store = Store(db_url)
    if not store.is_sqlite:
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(store, "a13e01120003")
    async with store.engine.begin() as conn:
        await conn.execute(text("INSERT INTO team (id, name) VALUES (1, 'soporte')"))
        await conn.execute(text(
            "INSERT INTO empty_chair (id, platform, conversation, team_id, topic, opened_by, locale, opened_at) "
            "VALUES (1, 'slack', 'C0ROOM', 1, 'Pricing', 'U2', 'es', :t)").bindparams(AT), {"t": OPENED})
        for iid, author, effect in ((1, "U1", "unknown"), (2, "", "unknown"), (3, "U3", "better")):
            await conn.execute(text(
                "INSERT INTO impact (id, chair_id, author, effect, who, note, created_at) "
                "VALUES (:i, 1, :a, :e, '', '', :t)").bindparams(AT), {"i": iid, "a": author, "e": effect, "t": OPENED})
    before = datetime.now(UTC)
    await upgrade(store)
    async with store.session() as session:
        rows = (await session.exec(select(Followup).order_by(Followup.impact_id))).all()
    assert [(f.impact_id, f.chair_id, f.owner) for f in rows] == [(1, 1, "slack:U1"), (2, 1, None)]
    for f in rows:
        assert f.resolved_at is None and f.reminders == 0
        assert f.owned_at.replace(tzinfo=UTC) == OPENED
        # Due a week after the migration, not at once: old questions do not remind everyone on deploy.
        assert f.due_at.replace(tzinfo=UTC) >= before + timedelta(days=7) - timedelta(seconds=1)
    await store.dispose()
