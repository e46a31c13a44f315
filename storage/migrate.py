"""Schema migrations (Alembic), run on the store's own async engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from storage.db import Store

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


# A PostgreSQL advisory lock key for migrations: replicas started together take turns.
MIGRATION_LOCK_KEY = int.from_bytes(b"pbmigrat", "big") & 0x7FFF_FFFF_FFFF_FFFF


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
                await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), revision))
                if store.is_sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"a migration left rows pointing nowhere: {broken[:5]}")
        finally:
            if store.is_sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()
