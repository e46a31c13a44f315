"""The store: migrations from empty, SQLite pragmas, unique keys that make delivery exactly-once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Store, normalize_url
from storage.migrate import upgrade
from storage.models import Delivery, Member, Response, Round, Team
from tests.dbutil import AT, fresh_store

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


@pytest.fixture
async def store(db_url):
    store = await fresh_store(db_url)
    await upgrade(store)  # a second run changes nothing
    yield store
    await store.dispose()


async def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path):
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    await upgrade(store)
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await store.dispose()


def test_database_urls_are_given_their_async_driver():
    assert normalize_url("postgres://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


async def _round(session) -> tuple[Round, Member]:
    team = Team(name="t")
    member = Member(platform="console", user_id="ana")
    session.add_all([team, member])
    await session.flush()
    rnd = Round(team_id=team.id, period="2026-W48", period_start=NOW, opened_at=NOW, closes_at=NOW, driver="growth")
    session.add(rnd)
    await session.flush()
    return rnd, member


async def test_a_member_gets_at_most_one_delivery_per_round(store):
    async with store.session() as session:
        rnd, member = await _round(session)
        session.add(Delivery(round_id=rnd.id, member_id=member.id, due_at=NOW))
        await session.commit()
        session.add(Delivery(round_id=rnd.id, member_id=member.id, due_at=NOW))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_one_response_per_round_and_respondent_key(store):
    async with store.session() as session:
        rnd, _ = await _round(session)
        session.add(Response(round_id=rnd.id, respondent_key="k" * 64, mood=3, answered_at=NOW))
        await session.commit()
        session.add(Response(round_id=rnd.id, respondent_key="k" * 64, mood=4, answered_at=NOW))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_a_round_is_unique_per_team_and_period(store):
    async with store.session() as session:
        rnd, _ = await _round(session)
        await session.commit()
        session.add(Round(team_id=rnd.team_id, period="2026-W48", period_start=NOW, opened_at=NOW,
                          closes_at=NOW, driver="growth"))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_migrations_create_exactly_what_the_models_describe(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    def diff(sync_conn):
        return compare_metadata(MigrationContext.configure(sync_conn), SQLModel.metadata)

    async with store.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_dropping_a_team_column_keeps_every_row_that_points_at_the_team(db_url):
    """SQLite rebuilds the team table to drop a column; its rounds must not go with the old one."""
    store = Store(db_url)
    if not store.is_sqlite:
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(store, "5e1f0c2a7b90")
    async with store.engine.begin() as conn:
        await conn.execute(text("INSERT INTO team (id, name) VALUES (1, 'soporte')"))
        await conn.execute(
            text("INSERT INTO round (team_id, period, period_start, opened_at, closes_at, driver, enps) "
                 "VALUES (1, '2026-W48', :t, :t, :t, 'growth', false)").bindparams(AT), {"t": NOW}
        )
    await upgrade(store)
    async with store.session() as session:
        rounds = (await session.exec(select(Round))).all()
        assert [(r.team_id, r.period) for r in rounds] == [(1, "2026-W48")]
    async with store.engine.connect() as conn:
        if store.is_sqlite:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await store.dispose()


async def test_the_commitments_migration_keeps_closed_rounds_and_answers(db_url):
    """a13c01110002 adds the follow-up answer and its frozen figures to stores with history: old
    summaries read as "nobody answered the follow-up" (0), old answers as "not asked" (NULL)."""
    store = Store(db_url)
    if not store.is_sqlite:
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(store, "a13e01120003")
    async with store.engine.begin() as conn:
        await conn.execute(text("INSERT INTO team (id, name) VALUES (1, 'soporte')"))
        await conn.execute(
            text("INSERT INTO round (id, team_id, period, period_start, opened_at, closes_at, closed_at, driver, enps) "
                 "VALUES (1, 1, '2026-W48', :t, :t, :t, :t, 'growth', false)").bindparams(AT), {"t": NOW})
        await conn.execute(text("INSERT INTO round_summary (round_id, delivered, answered, failed, uncertain, "
                                "respondents, mood_1, mood_2, mood_3, mood_4, mood_5, driver_n, driver_sum, enps_n, "
                                "promoters, detractors) VALUES (1, 6, 6, 0, 0, 6, 0, 1, 2, 2, 1, 6, 20, 0, 0, 0)"))
        await conn.execute(text("INSERT INTO response (id, round_id, respondent_key, mood) VALUES ('r1', 1, 'k1', 4)"))
    await upgrade(store)
    async with store.engine.connect() as conn:
        summary = (await conn.execute(text("SELECT respondents, focus_n, focus_sum FROM round_summary"))).one()
        answer = (await conn.execute(text("SELECT mood, focus_score FROM response"))).one()
        empty = (await conn.execute(text("SELECT count(*) FROM round_commitment"))).scalar()
    assert tuple(summary) == (6, 0, 0) and tuple(answer) == (4, None) and empty == 0
    await store.dispose()


async def test_one_trip_is_one_transaction_and_a_refusal_in_it_writes_nothing(tmp_path):
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    await upgrade(store)

    def add_then_refuse(conn):
        conn.execute("INSERT INTO team (name) VALUES ('refused')")
        raise LookupError("no such round")

    with pytest.raises(LookupError):
        await store.in_one_trip(add_then_refuse)
    await store.in_one_trip(lambda conn: conn.execute("INSERT INTO team (name) VALUES ('kept')"))
    async with store.session() as session:  # another connection sees exactly what was committed
        assert (await session.exec(select(Team.name))).all() == ["kept"]
    await store.dispose()


def test_only_a_sqlite_file_has_a_one_trip_connection():
    assert Store("sqlite+aiosqlite:///pulsebot.db").one_trip
    assert not Store("sqlite+aiosqlite:///:memory:").one_trip  # a second connection would see another database
    assert not Store("postgresql+asyncpg://u:p@127.0.0.1/db").one_trip


async def test_an_answer_read_back_holds_the_same_models_the_orm_would_build(make_ctx):
    # `answers.answering` builds its detached models without pydantic's `model_construct` (issue 14):
    # they must be the same objects, field for field, fields set and all, as it would build.
    from handlers.checkins import open_round, record_answer
    from handlers.members import respondent_key
    from handlers.ports import Actor
    from storage.queries import responses as answers
    from storage.queries.responses import _NAMES, _detached

    ctx = await make_ctx()
    opened = await open_round(ctx, team_name="soporte")
    actor = Actor(platform="console", user_id="ana")
    await record_answer(ctx, actor, round_id=opened.round_id, mood=4, comment="bien")
    key = respondent_key(ctx.secret, actor.key, round_id=opened.round_id)
    async with ctx.store.session() as session:
        found = await answers.answering(session, round_id=opened.round_id, platform="console", user_id="ana",
                                        respondent_key=key)
    assert found is not None and found.member is not None and found.response is not None and found.asked
    assert found.response.mood == 4 and found.response.comment == "bien" and found.response.respondent_key == key
    for model, built in ((Round, found.round), (Team, found.team), (Member, found.member), (Response, found.response)):
        columns = [getattr(built, name) for name in _NAMES[model]]
        expected = model.model_construct(**dict(zip(_NAMES[model], columns, strict=True)))
        assert built == expected and built.model_fields_set == expected.model_fields_set
        assert built.model_dump() == expected.model_dump()
        assert _detached(model, [None if name == "id" else v for name, v in zip(_NAMES[model], columns, strict=True)]) is None
