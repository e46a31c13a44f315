"""Who runs the clock when several replicas share one PostgreSQL: the holder of an advisory lock.

`pg_try_advisory_lock` is taken on a dedicated connection kept open for as long as the process
leads; PostgreSQL releases it the moment that session ends (the process died, the connection
broke), and a standby's next try takes it.
https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS

With SQLite the lock is an OS file lock (`flock`) on `<database>.clock-lock` beside the database
file: `pulsebot serve` and a `pulsebot checkins send` on the same file never drain the outbox at
once, and the kernel releases the lock the moment its process dies, like PostgreSQL does.
"""

from __future__ import annotations

import fcntl
import logging
import os

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Store

logger = logging.getLogger(__name__)

# "pulsebot" read as a big-endian integer, folded into PostgreSQL's signed bigint.
CLOCK_LOCK_KEY = int.from_bytes(b"pulsebot", "big") & 0x7FFF_FFFF_FFFF_FFFF


class ClockLock:
    """The clock's lock on one store."""

    def __init__(self, store: Store, key: int = CLOCK_LOCK_KEY) -> None:
        self.store = store
        self.key = key
        self._conn: AsyncConnection | None = None
        self._held = False
        self._fd: int | None = None
        database = make_url(store.url).database if store.is_sqlite else None
        # An in-memory database lives in one process: nobody else can drain it.
        self._lock_path = f"{database}.clock-lock" if database and database != ":memory:" else None

    async def acquire(self) -> bool:
        """Try once, without waiting; True when this process holds the lock now."""
        if self.store.is_sqlite:
            return self._acquire_file()
        if self._held:
            return await self.still_held()
        try:
            if self._conn is None:
                conn = await self.store.engine.connect()
                # Autocommit: the session-level lock must not leave the connection idle in a transaction.
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await self._conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        except Exception as exc:  # a broken connection: start from a new one next time
            logger.warning("clock lock try failed", extra={"reason": str(exc)[:200]})
            await self._drop()
            return False
        self._held = bool(got)
        if self._held:
            logger.info("clock lock taken", extra={"key": self.key})
        return self._held

    async def still_held(self) -> bool:
        """Check the lock's session is alive; a dead one has already released the lock server-side."""
        if self.store.is_sqlite:
            return self._held
        if not self._held or self._conn is None:
            return False
        try:
            count = await self._conn.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                     "AND granted AND ((classid::bigint << 32) | objid::bigint) = :key"),
                {"key": self.key},
            )
        except Exception as exc:
            logger.error("clock lock lost with its connection", extra={"reason": str(exc)[:200]})
            await self._drop()
            return False
        if not count:
            logger.error("clock lock no longer held")
            self._held = False
        return self._held

    async def release(self) -> None:
        """Give the lock up (a clean stop) and close its connection."""
        if self.store.is_sqlite:
            self._release_file()
            return
        if self._conn is not None and self._held:
            try:
                await self._conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except Exception:  # closing the connection releases it anyway
                logger.warning("clock lock unlock failed; closing its connection releases it")
        await self._drop()

    def _acquire_file(self) -> bool:
        if self._lock_path is None or self._held:
            self._held = True
            return True
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd, self._held = fd, True
        logger.info("clock lock taken", extra={"file": self._lock_path})
        return True

    def _release_file(self) -> None:
        self._held = False
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock

    async def _drop(self) -> None:
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # already broken: make the pool forget it rather than reuse it
                logger.debug("clock lock connection close failed", exc_info=True)
                try:
                    await conn.invalidate()
                except Exception:
                    logger.debug("clock lock connection invalidate failed", exc_info=True)
