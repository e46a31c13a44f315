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
    async with store.engine.begin() as conn:
        if not store.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), revision))


async def autogenerate(store: Store, message: str) -> None:
    """Write a new migration from the difference between the models and the database (developers)."""
    async with store.engine.begin() as conn:
        await conn.run_sync(
            lambda sync_conn: command.revision(_config(sync_conn), message=message, autogenerate=True)
        )
