"""Dashboard links and sessions: rows found by the keyed hash of what the browser holds, never by the value."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DashboardLink, DashboardSession


def add_link(session: AsyncSession, *, token_hash: str, leader: str, expires_at: datetime) -> None:
    """A new one-time link (added to the session; the caller commits)."""
    session.add(DashboardLink(token_hash=token_hash, leader=leader, expires_at=expires_at))


async def link_by_hash(session: AsyncSession, *, token_hash: str) -> DashboardLink | None:
    """The link with this token hash, spent or not, or None."""
    return await session.get(DashboardLink, token_hash)


async def spend_link(session: AsyncSession, *, token_hash: str, now: datetime) -> bool:
    """Mark the link spent if it is not yet; False when it already was (the UPDATE is the claim,
    so two presses at once cannot both log in)."""
    spent = await session.exec(
        update(DashboardLink)
        .where(col(DashboardLink.token_hash) == token_hash, col(DashboardLink.spent_at).is_(None))
        .values(spent_at=now)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def add_session(session: AsyncSession, *, id_hash: str, leader: str, expires_at: datetime) -> None:
    """A new dashboard session (added to the session; the caller commits)."""
    session.add(DashboardSession(id_hash=id_hash, leader=leader, expires_at=expires_at))


async def live_session(session: AsyncSession, *, id_hash: str, now: datetime) -> DashboardSession | None:
    """The session with this id hash if it has not expired, else None."""
    stmt = select(DashboardSession).where(col(DashboardSession.id_hash) == id_hash,
                                          col(DashboardSession.expires_at) > now)
    return (await session.exec(stmt)).first()


async def end_session(session: AsyncSession, *, id_hash: str) -> None:
    """Delete the session (logout, or rotation at login)."""
    await session.exec(delete(DashboardSession).where(col(DashboardSession.id_hash) == id_hash))


async def forget_leader(session: AsyncSession, *, leader: str) -> None:
    """Delete every link and session of this person ("platform:id"): `forget` leaves no row naming them."""
    await session.exec(delete(DashboardLink).where(col(DashboardLink.leader) == leader))
    await session.exec(delete(DashboardSession).where(col(DashboardSession.leader) == leader))


async def purge_expired(session: AsyncSession, *, links_before: datetime, sessions_before: datetime) -> None:
    """Delete links that expired before `links_before` and sessions that expired before `sessions_before`."""
    await session.exec(delete(DashboardLink).where(col(DashboardLink.expires_at) <= links_before))
    await session.exec(delete(DashboardSession).where(col(DashboardSession.expires_at) <= sessions_before))
