"""Workspace pauses: until when a workspace may not be sent to (a platform's rate limit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import WorkspacePause


async def extend_pause(session: AsyncSession, *, platform: str, workspace: str, until: datetime) -> None:
    """Pause the workspace until `until`, unless it is paused for longer already.

    A new row is added, not flushed: when another process adds it first, the commit raises an
    IntegrityError and the caller's retry extends that row instead.
    """
    row = await session.get(WorkspacePause, (platform, workspace))
    if row is None:
        session.add(WorkspacePause(platform=platform, workspace=workspace, paused_until=until))
    else:
        await session.exec(
            update(WorkspacePause)
            .where(col(WorkspacePause.platform) == platform, col(WorkspacePause.workspace) == workspace,
                   col(WorkspacePause.paused_until) < until)
            .values(paused_until=until)
        )


# Built once: every gated Web API call may read it (a few times a second while reports are asked),
# and building the statement cost more than running it (issue 14).
_PAUSED_UNTIL = sa_select(col(WorkspacePause.paused_until)).where(
    col(WorkspacePause.platform) == bindparam("platform"), col(WorkspacePause.workspace) == bindparam("workspace"))


async def paused_until(session: AsyncSession, *, platform: str, workspace: str) -> datetime | None:
    """When the workspace's pause ends, if it was ever paused."""
    # On the session's connection, as Core: through the ORM's execute it costs twice as much.
    result = await (await session.connection()).execute(_PAUSED_UNTIL, {"platform": platform, "workspace": workspace})
    return result.scalar()
