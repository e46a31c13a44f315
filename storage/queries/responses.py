"""Answers, found only by their respondent keys: the store holds no other way to a member's answer."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Store
from storage.models import Delivery, Member, Response, Round, Team, random_id
from storage.queries.commitments import focus_of


class OwnAnswer(NamedTuple):
    """One of a member's answers as they may see it: the team, the period and the answer."""

    team: str
    period: str
    response: Response


class Answering(NamedTuple):
    """What answering a round needs, read in one statement: the round and its team, the member
    (None when the bot has not met them), whether the round asked them, and their answer so far."""

    round: Round
    team: Team
    member: Member | None
    asked: bool
    response: Response | None
    focus: str | None  # the commitment this round follows up (`commitments.focus_of`), if any


_ENTITIES = (Round, Team, Member, Response)


def _columns(model: Any) -> list[Any]:
    return list(model.__table__.c)


def _answering(*, for_share: bool) -> Any:
    # Core columns, not ORM entities: loading four entities into the session cost more than the
    # statement (issue 14); the row is cut back into detached models (`_detached`).
    stmt = (
        sa_select(*_columns(Round), *_columns(Team), *_columns(Member), col(Delivery.id),
                  *_columns(Response), focus_of(Round))
        .join(Team, col(Team.id) == Round.team_id)
        .outerjoin(Member, and_(col(Member.platform) == bindparam("platform"),
                                col(Member.user_id) == bindparam("user_id")))
        .outerjoin(Delivery, and_(col(Delivery.round_id) == Round.id, col(Delivery.member_id) == Member.id))
        .outerjoin(Response, and_(col(Response.round_id) == Round.id,
                                  col(Response.respondent_key) == bindparam("respondent_key")))
        .where(col(Round.id) == bindparam("round_id"))
    )
    # FOR SHARE OF round (PostgreSQL): the round's row only; SQLite has no row locks.
    return stmt.with_for_update(read=True, of=Round.__table__) if for_share else stmt  # type: ignore[attr-defined]


# Built once: a check-in tap runs this on every tap, and building it cost more than running it.
_ANSWERING = {share: _answering(for_share=share) for share in (False, True)}


def _names(model: Any) -> list[str]:
    return [c.key for c in model.__table__.c]


# Each model's column names and where they sit in a row of `_ANSWERING`: worked out once, not per tap.
_NAMES: dict[Any, list[str]] = {model: _names(model) for model in _ENTITIES}
_ROUND_END = len(_NAMES[Round])
_TEAM_END = _ROUND_END + len(_NAMES[Team])
_MEMBER_END = _TEAM_END + len(_NAMES[Member])  # the delivery's id follows the member's columns
_RESPONSE_END = _MEMBER_END + 1 + len(_NAMES[Response])


_ID_AT: dict[Any, int] = {model: names.index("id") for model, names in _NAMES.items()}
# Models whose fields are exactly their columns (and nothing to run after construction): for these
# `_detached` sets what `model_construct` would, without its walk over every field's aliases and
# defaults (five models a check-in tap, about a sixth of its time in SQLite's thread; issue 14).
_EVERY_FIELD_A_COLUMN = {model for model, names in _NAMES.items()
                         if set(names) == set(model.__pydantic_fields__) and not model.__pydantic_post_init__}


def _detached[M](model: type[M], values: Any) -> M | None:
    """A model (not in any session) from its table's columns in a row; None for an outer join's miss.
    The same object `model.model_construct(**columns)` builds."""
    names = _NAMES[model]
    if values[_ID_AT[model]] is None:
        return None
    if model not in _EVERY_FIELD_A_COLUMN:
        return model.model_construct(**dict(zip(names, values, strict=True)))  # type: ignore[attr-defined]
    found = model.__new__(model)  # SQLModel's: no extra, no private attributes
    object.__setattr__(found, "__dict__", dict(zip(names, values, strict=True)))
    object.__setattr__(found, "__pydantic_fields_set__", set(names))
    return found


async def answering(
    session: AsyncSession, *, round_id: int, platform: str, user_id: str, respondent_key: str, for_share: bool = False
) -> Answering | None:
    """The round (None when there is no such round) with its team, the member of this platform
    identity, their delivery in it and the answer under `respondent_key`: one statement, where a
    check-in tap used to take five (each a trip to SQLite's thread, issue 14). The models come
    back detached: read them, do not change them through the session.

    `for_share` takes a shared lock on the round's row (PostgreSQL) that a close waits for.
    """
    params = {"round_id": round_id, "platform": platform, "user_id": user_id, "respondent_key": respondent_key}
    row = (await (await session.connection()).execute(_ANSWERING[for_share], params)).first()
    return None if row is None else _cut(row)


def _cut(row: Sequence[Any]) -> Answering:
    rnd = _detached(Round, row[:_ROUND_END])
    team = _detached(Team, row[_ROUND_END:_TEAM_END])
    member = _detached(Member, row[_TEAM_END:_MEMBER_END])
    response = _detached(Response, row[_MEMBER_END + 1:_RESPONSE_END])
    assert rnd is not None and team is not None  # the round was found, and its team is a join
    return Answering(rnd, team, member, row[_MEMBER_END] is not None, response, row[-1])


# The fields an answer may set; `save_answer` writes only those given.
ANSWER_FIELDS = ("mood", "driver", "driver_score", "enps", "comment", "focus_score")


def _save_answer(dialect: str, fields: tuple[str, ...]) -> Any:
    table = Response.__table__  # type: ignore[attr-defined]
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    stmt = insert.values({"id": bindparam("id"), "round_id": bindparam("round_id"),
                          "respondent_key": bindparam("respondent_key"),
                          **{f: bindparam(f) for f in fields}})
    # Nothing given (never from a tap): a no-op update, so the row still comes back.
    changed = {f: stmt.excluded[f] for f in fields} or {"round_id": stmt.excluded.round_id}
    return stmt.on_conflict_do_update(index_elements=["round_id", "respondent_key"], set_=changed).returning(
        *table.c)


# Built once per dialect and set of fields: a tap writes through one of a handful of these.
_SAVE_ANSWER: dict[tuple[str, tuple[str, ...]], Any] = {}


async def save_answer(session: AsyncSession, *, round_id: int, respondent_key: str, values: dict[str, Any]) -> Response:
    """Insert the answer under `respondent_key`, or change only the `values` given of the one there:
    one statement (an upsert, so two taps at once cannot collide), which returns the answer as it
    now stands (a detached row, for the reply). The caller commits.

    Core, not the ORM's unit of work: on a check-in tap the flush cost more than SQLite (issue 14).
    """
    fields = _fields(values)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    stmt = _SAVE_ANSWER.get((dialect, fields))
    if stmt is None:
        stmt = _SAVE_ANSWER[(dialect, fields)] = _save_answer(dialect, fields)
    params = {"id": random_id(), "round_id": round_id, "respondent_key": respondent_key, **values}
    # On the session's connection: through the ORM's execute a Core insert costs twice as much.
    row = (await (await session.connection()).execute(stmt, params)).one()
    return Response.model_construct(**row._mapping)


class _Compiled:
    """A statement compiled once for sqlite3 itself, with the dialect's conversions of its
    parameters and of the columns it returns (dates are text in SQLite), for `in_one_trip`."""

    def __init__(self, stmt: Any, columns: Sequence[Any], dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.defaults: dict[str, Any] = dict(compiled.params)
        self.binds = [compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in self.names]
        self.results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]

    def run(self, conn: sqlite3.Connection, given: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of the statement with `given` parameters, converted; None when there is none."""
        params = []
        for name, bind in zip(self.names, self.binds, strict=True):
            value = given[name] if name in given else self.defaults[name]
            params.append(bind(value) if bind is not None and value is not None else value)
        row = conn.execute(self.sql, params).fetchone()
        if row is None:
            return None
        return tuple(v if f is None or v is None else f(v) for f, v in zip(self.results, row, strict=True))


# Compiled on first use, per SQL dialect (the store's own) and set of fields.
_ONE_TRIP: dict[Any, _Compiled] = {}


def _compiled(dialect: Dialect, fields: tuple[str, ...] | None) -> _Compiled:
    key = (dialect.name, fields)
    found = _ONE_TRIP.get(key)
    if found is None:
        if fields is None:
            stmt = _ANSWERING[False]  # BEGIN IMMEDIATE holds the round, as FOR SHARE does on PostgreSQL
            found = _Compiled(stmt, list(stmt.selected_columns), dialect)
        else:
            found = _Compiled(_save_answer("sqlite", fields), list(Response.__table__.c),  # type: ignore[attr-defined]
                              dialect)
        _ONE_TRIP[key] = found
    return found


def _fields(values: dict[str, Any]) -> tuple[str, ...]:
    unknown = set(values) - set(ANSWER_FIELDS)
    if unknown:
        raise ValueError(f"not an answer field: {sorted(unknown)}")
    return tuple(f for f in ANSWER_FIELDS if f in values)


# What `answer` asks of its caller: given what the tap found (None: no such round), refuse it by
# raising, or name the fields to write. It runs inside the transaction (in SQLite's thread, for a
# file), so it must only look at what it is given.
Decide = Callable[[Answering | None], dict[str, Any]]


async def answer(
    store: Store, *, round_id: int, platform: str, user_id: str, respondent_key: str, decide: Decide
) -> tuple[Answering, Response]:
    """Answer a round in one transaction: read what answering needs (`answering`), let `decide`
    refuse or name the values, write them (`save_answer`) and commit. What was found and the
    answer as it now stands come back (detached).

    On a SQLite file the whole of it is one trip to SQLite's thread (`Store.in_one_trip`): a
    check-in tap spent more in SQLAlchemy's async layers than in SQLite (issue 14). On PostgreSQL
    it is a session, the round's row held FOR SHARE until the commit.
    """
    params: dict[str, Any] = {"round_id": round_id, "platform": platform, "user_id": user_id,
                              "respondent_key": respondent_key}
    if store.one_trip:
        dialect = store.engine.dialect
        read = _compiled(dialect, None)

        def in_thread(conn: sqlite3.Connection) -> tuple[Answering, Response]:
            row = read.run(conn, params)
            found = None if row is None else _cut(row)
            values = decide(found)
            assert found is not None  # `decide` refuses a round that is not there
            write = _compiled(dialect, _fields(values))
            saved = write.run(conn, {"id": random_id(), **params, **values})
            response = None if saved is None else _detached(Response, saved)
            assert response is not None  # RETURNING: an upsert always returns its row
            return found, response

        return await store.in_one_trip(in_thread)
    async with store.session() as session:
        found = await answering(session, round_id=round_id, platform=platform, user_id=user_id,
                                respondent_key=respondent_key, for_share=True)
        values = decide(found)
        assert found is not None  # `decide` refuses a round that is not there
        saved_answer = await save_answer(session, round_id=round_id, respondent_key=respondent_key, values=values)
        await session.commit()
    return found, saved_answer


async def keys_that_answered(session: AsyncSession, *, round_id: int, keys: list[str]) -> set[str]:
    """Which of these respondent keys have an answer in the round."""
    stmt = select(Response.respondent_key).where(
        Response.round_id == round_id, col(Response.respondent_key).in_(keys)
    )
    return set((await session.exec(stmt)).all())


async def rounds_answered(session: AsyncSession, *, keys: list[str]) -> set[int]:
    """The rounds that hold an answer under one of these keys."""
    return set((await session.exec(select(Response.round_id).where(col(Response.respondent_key).in_(keys)))).all())


async def own_answers(session: AsyncSession, *, keys: list[str], limit: int) -> list[OwnAnswer]:
    """The answers under these keys, newest period first."""
    stmt = (
        select(Team.name, Round.period, Response)
        .join(Round, col(Round.id) == Response.round_id)
        .join(Team, col(Team.id) == Round.team_id)
        .where(col(Response.respondent_key).in_(keys))
        .order_by(col(Round.period_start).desc())
        .limit(limit)
    )
    return [OwnAnswer(team, period, response) for team, period, response in (await session.exec(stmt)).all()]


async def delete_answers(session: AsyncSession, *, keys: list[str]) -> int:
    """Delete every answer under these keys; how many went."""
    result = await session.exec(delete(Response).where(col(Response.respondent_key).in_(keys)))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def rekey_answers(session: AsyncSession, *, pairs: list[dict[str, str]]) -> int:
    """Replace each `old` key by its `new` one (executemany); how many answers now carry a new key."""
    if not pairs:
        return 0
    table = Response.__table__  # type: ignore[attr-defined]
    stmt = sa_update(table).where(table.c.respondent_key == bindparam("old")).values(respondent_key=bindparam("new"))
    await session.exec(stmt, params=pairs)  # type: ignore[call-overload]
    # Drivers do not all report an executemany's row count: count the answers that moved instead.
    new = {p["new"] for p in pairs}
    return sum(1 for key in (await session.exec(select(Response.respondent_key))).all() if key in new)


async def count_answers(session: AsyncSession) -> int:
    """How many answers the store holds."""
    return len((await session.exec(select(Response.id))).all())
