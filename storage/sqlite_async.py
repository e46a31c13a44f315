"""aiosqlite with one thread hand-off per statement: what the SQLite store's engine connects with.

aiosqlite runs each call on its connection's own thread; SQLAlchemy's adapter makes four calls
for every statement (open a cursor, execute, fetch the rows, close), one for every commit, and a
rollback whenever a connection goes back to the pool. Each call is a trip to that thread and
back; on a busy machine every trip waits for the scheduler, so a check-in tap (a few statements)
spent most of its time travelling, not in SQLite (issue 14). Here a statement is one trip
(execute, fetch every row and close, in the thread), and a rollback or commit with no
transaction open is no trip at all: SQLite's own flag, read in the thread after every call,
says whether one is open. SQLAlchemy's adapter already fetched every row at once, so results
are read as before.

Built on aiosqlite's queue of calls (`Connection._execute`, unchanged since 0.17; the version is
pinned in requirements.lock, and the whole test suite runs on it).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite

_Outcome = tuple[Any, int, int | None, list[Any]]


def _statement(conn: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """The cursor SQLAlchemy's adapter drives: each execute is one trip and brings every row back."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        """Run one statement and keep its rows."""
        return self._keep(await self._connection.run(_statement, sql, parameters, False))

    async def executemany(self, sql: str, parameters: Any) -> OneTripCursor:
        """Run one statement for each set of parameters, in one trip."""
        return self._keep(await self._connection.run(_statement, sql, parameters, True))

    def _keep(self, outcome: _Outcome) -> OneTripCursor:
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = deque(rows)
        return self

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` rows."""
        return [self._rows.popleft() for _ in range(min(size or self.arraysize, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        """Every row left."""
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        """Nothing to do in the thread: the SQLite cursor was closed with its statement."""
        self._rows.clear()


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose statements, commits and rollbacks are one trip at most."""

    # Until a call has told, assume a transaction may be open (so a rollback is never skipped wrongly).
    _in_transaction = True

    async def run[T](self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(sqlite3_connection, *args)` on the connection's thread; notes whether a transaction is open."""

        def call() -> T:
            conn = self._conn
            try:
                return fn(conn, *args)
            finally:
                self._in_transaction = conn.in_transaction

        return await self._execute(call)

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        """A cursor that makes no trip of its own."""
        return OneTripCursor(self)

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:  # type: ignore[override]
        """One statement on a new cursor."""
        return await OneTripCursor(self).execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneTripCursor:  # type: ignore[override]
        """One statement, many parameter sets, on a new cursor."""
        return await OneTripCursor(self).executemany(sql, parameters)

    async def commit(self) -> None:
        """Commit; no trip when no transaction is open (a read, or a commit just done)."""
        if self._in_transaction:
            await self.run(lambda conn: conn.commit())

    async def rollback(self) -> None:
        """Roll back; no trip when no transaction is open (what the pool does to every returned connection)."""
        if self._in_transaction:
            await self.run(lambda conn: conn.rollback())


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """`aiosqlite.connect`, with a `OneTripConnection` (await it, as aiosqlite's)."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = OneTripConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's: never hold the process open
    return connection
