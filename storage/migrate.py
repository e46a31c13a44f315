"""Schema migrations (Alembic), run on the store's own async engine.

Alembic is imported only when migrations run: `pulsebot serve` runs them in a forked child
(`upgrade_apart`), so the long-lived server never holds Alembic's ~10 MB.
"""

from __future__ import annotations

import asyncio
import os
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from storage.db import Store

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Any) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


# A PostgreSQL advisory lock key for migrations: replicas started together take turns.
MIGRATION_LOCK_KEY = int.from_bytes(b"pbmigrat", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _upgrade(sync_conn: Any, revision: str) -> None:
    from alembic import command

    command.upgrade(_config(sync_conn), revision)


def upgrade_apart(url: str) -> Callable[[], Awaitable[None]]:
    """Start `upgrade` to head in a forked child with its own engine and event loop; await the
    returned function for it to end (it raises if the child failed, which prints why). Call it
    before the process starts a thread; the parent goes on with its imports meanwhile."""
    pid = os.fork()
    if pid == 0:  # the child: asyncio knows the parent's running loop is not its own
        status = 1
        try:
            asyncio.run(_upgrade_url(url))
            status = 0
        except BaseException:  # noqa: BLE001 - reported on stderr, and as the exit status
            traceback.print_exc()
        finally:
            os._exit(status)

    async def done() -> None:
        _, status = await asyncio.to_thread(os.waitpid, pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("the store's migrations failed (the error is printed above)")

    return done


async def _upgrade_url(url: str) -> None:
    store = Store(url)
    try:
        await upgrade(store)
    finally:
        await store.dispose()


async def upgrade(store: Store, revision: str = "head") -> None:
    """Apply every migration up to `revision`. Safe to run on every start, by any number of replicas
    at once: on PostgreSQL they queue on a transaction-scoped advisory lock (SQLite serialises
    writers itself), so the second finds the schema already done."""
    async with store.engine.connect() as conn:
        if store.is_sqlite:
            # SQLite changes a column by rebuilding its table (batch mode), which drops the old one;
            # with foreign keys on, that DROP would cascade into every row referencing it. The pragma
            # only takes effect outside a transaction (https://www.sqlite.org/lang_altertable.html).
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
        try:
            async with conn.begin():
                if not store.is_sqlite:
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                await conn.run_sync(lambda sync_conn: _upgrade(sync_conn, revision))
                if store.is_sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"a migration left rows pointing nowhere: {broken[:5]}")
        finally:
            if store.is_sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()
