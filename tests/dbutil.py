"""A fresh, migrated store for a test: a SQLite file as given, or PostgreSQL with an emptied schema."""

from __future__ import annotations

from sqlalchemy import DateTime, bindparam, text

from storage.db import Store
from storage.migrate import upgrade

# `:t` in raw SQL, sent as a timestamp column sends it (the sqlite3 module's own datetime adapter is deprecated).
AT = bindparam("t", type_=DateTime(timezone=True))


async def _drop_everything(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


async def empty_postgres(url: str) -> None:
    """Leave the PostgreSQL at `url` without a single table (not even migrated)."""
    store = Store(url)
    await _drop_everything(store)
    await store.dispose()


async def fresh_store(url: str, *, reset: bool = True) -> Store:
    """Open `url`; on PostgreSQL (shared by the suite) drop everything first unless `reset=False`."""
    store = Store(url)
    if reset and not store.is_sqlite:
        await _drop_everything(store)
    await upgrade(store)
    return store
