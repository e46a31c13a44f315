"""Facts about the store itself: its key-value metadata, and a lock one transaction holds."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import StoreMeta


async def meta_value(session: AsyncSession, *, key: str) -> str | None:
    """The stored value under `key`, if any."""
    row = await session.get(StoreMeta, key)
    return row.value if row is not None else None


def add_meta(session: AsyncSession, *, key: str, value: str) -> None:
    """A new value under `key` (added, not flushed: the commit fails if another process set one)."""
    session.add(StoreMeta(key=key, value=value))


async def set_meta(session: AsyncSession, *, key: str, value: str) -> None:
    """Store `value` under `key`, replacing any value there (the caller commits)."""
    row = await session.get(StoreMeta, key)
    if row is None:
        add_meta(session, key=key, value=value)
    else:
        row.value = value


async def lock_for_transaction(session: AsyncSession, *, key: int) -> None:
    """PostgreSQL only: wait for the advisory lock `key`, held until this transaction ends."""
    await session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key))  # type: ignore[call-overload]
