"""A workspace's rate-limit pause, kept in the store so that every process and a restart honour it.

Slack's limits are the workspace's, not a process's: after a 429 whoever sends next for that
workspace, in this process or another, waits out its `Retry-After`
(https://docs.slack.dev/apis/web-api/rate-limits).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from handlers.context import Context
from handlers.periods import as_utc
from storage.db import retry_on_conflict
from storage.queries.pauses import extend_pause, paused_until

logger = logging.getLogger(__name__)


async def pause_workspace(ctx: Context, *, platform: str, workspace: str, seconds: float) -> None:
    """Record that the workspace may send again only `seconds` from now (a later pause wins)."""
    until = ctx.clock.now() + timedelta(seconds=seconds)

    async def record() -> None:
        async with ctx.store.session() as session:
            await extend_pause(session, platform=platform, workspace=workspace, until=until)
            await session.commit()

    try:
        # Another process recorded a pause a moment ago: the retry extends it instead.
        await retry_on_conflict(record)
    except IntegrityError:
        logger.warning("workspace pause not recorded", extra={"platform": platform, "workspace": workspace})


async def pause_left(ctx: Context, *, platform: str, workspace: str) -> float:
    """Seconds the workspace must still wait (0 when it may send)."""
    async with ctx.store.session() as session:
        until = await paused_until(session, platform=platform, workspace=workspace)
    if until is None:
        return 0.0
    return max(0.0, (as_utc(until) - as_utc(ctx.clock.now())).total_seconds())
