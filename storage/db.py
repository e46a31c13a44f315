"""The async engine and sessions: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_async

DEFAULT_URL = "sqlite+aiosqlite:///pulsebot.db"  # the one default: an embedded file beside the process


def normalize_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and give the async driver's one."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the report read while the sender writes; busy_timeout waits for a lock instead of
    # failing at once; SQLite leaves foreign keys off unless asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted and overwritten answers are zeroed in the file, not left in free pages for a copy
    # of it to read (forget, a changed answer, retention).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _transaction[T](conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    # IMMEDIATE: the write lock is taken before the first read, so what `fn` read still holds
    # when it writes (a round closed by another process meanwhile waits, or was seen closed).
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return result


async def retry_on_conflict[T](
    operation: Callable[[], Awaitable[T]],
    *,
    attempts: int = 2,
    also: tuple[type[Exception], ...] = (),
    backoff: float = 0.0,
) -> T:
    """Run `operation` (one whole transaction) again when another process won a race to insert the
    same row (a unique violation, or `also`): the next attempt reads the winner's row. The last
    attempt's error is raised."""
    conflicts: tuple[type[Exception], ...] = (IntegrityError, *also)
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except conflicts:
            if attempt == attempts:
                raise
            if backoff:
                await asyncio.sleep(backoff * attempt)
    raise AssertionError("unreachable")


class Store:
    """One database: an engine and a session factory. Built by the composition root, never at import."""

    def __init__(self, url: str = DEFAULT_URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        else:
            # Statements in one trip to aiosqlite's thread each (storage/sqlite_async.py).
            kwargs["async_creator"] = self._connect_sqlite
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # A file's own connection for `in_one_trip` (an in-memory database exists only in the pool's).
        self.one_trip = self.is_sqlite and ":memory:" not in self.url and "mode=memory" not in self.url
        self._writer: sqlite_async.OneTripConnection | None = None
        self._opening: asyncio.Lock | None = None

    async def _connect_sqlite(self) -> Any:
        # What the aiosqlite dialect would pass to sqlite3.connect for this url (file name, uri, ...).
        args, options = self.engine.dialect.create_connect_args(self.engine.url)
        return await sqlite_async.connect(*args, **options)

    async def in_one_trip[T](self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` as one transaction (BEGIN IMMEDIATE, `fn`, COMMIT; ROLLBACK and re-raise
        when it raises) in one trip to the thread of a SQLite connection kept for it: no session,
        no pool, no hand-off per statement. For the one write people wait on (a check-in tap,
        issue 14). SQLite files only (`one_trip`); `fn` runs in that thread, so it must not touch
        the event loop."""
        if not self.one_trip:
            raise RuntimeError("in_one_trip needs a SQLite file")
        writer = self._writer or await self._open_writer()
        return await writer.run(_transaction, fn)

    async def _open_writer(self) -> sqlite_async.OneTripConnection:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._writer is None:
                writer = await self._connect_sqlite()
                await writer.run(_sqlite_pragmas, None)
                self._writer = writer
        return self._writer

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; the caller commits. Rolled back on error."""
        async with self._sessions() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    async def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database and empty it, so rows just deleted
        are gone from both files. Nothing to do on PostgreSQL."""
        if not self.is_sqlite:
            return
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def dispose(self) -> None:
        """Close every pooled connection (and `in_one_trip`'s)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()
        await self.engine.dispose()
