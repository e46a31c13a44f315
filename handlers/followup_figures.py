"""The report's follow-up figures per team: open and overdue now, resolved in the window, median days.

Follow-ups are not answers (the questions were asked openly in a channel), so nothing here is
suppressed. SQL counts the open ones; the median needs each resolved one's span, read for the
window only (a handful per team).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.periods import as_utc
from handlers.report_model import Followups
from storage.queries.followups import Resolved, report_figures

DAY = 86400.0


@dataclass
class FollowupFigures:
    """Per team id: the report's `Followups`, and the resolved ones by time (the client view buckets them)."""

    figures: dict[int, Followups] = field(default_factory=dict)
    resolved: dict[int, list[Resolved]] = field(default_factory=dict)


async def followup_figures(conn: AsyncConnection, *, team_ids: list[int], since: datetime,
                           now: datetime) -> FollowupFigures:
    """Open and overdue follow-ups of each team now; those resolved from `since` to `now`, and the median."""
    counts: dict[int, tuple[int, int]] = {}
    resolved: dict[int, list[Resolved]] = defaultdict(list)
    for row in await report_figures(conn, team_ids=team_ids, since=since, now=now):
        if row.open is not None:
            counts[row.team_id] = (int(row.open), int(row.overdue or 0))
        elif row.created_at is not None and row.resolved_at is not None:
            resolved[row.team_id].append(Resolved(row.team_id, row.created_at, row.resolved_at))
    out = FollowupFigures(resolved=dict(resolved))
    for tid in team_ids:
        (n, overdue), done = counts.get(tid, (0, 0)), resolved.get(tid, [])
        spans = [(as_utc(r.resolved_at) - as_utc(r.created_at)).total_seconds() / DAY for r in done]
        out.figures[tid] = Followups(open=n, overdue=overdue, resolved=len(done),
                                     median_days=median(spans) if spans else None)
    return out
