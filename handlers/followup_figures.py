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
from storage.queries.followups import Resolved, resolved_since, team_counts

DAY = 86400.0


@dataclass
class FollowupFigures:
    """Per team id: the report's `Followups`, and the resolved ones by time (the client view buckets them)."""

    figures: dict[int, Followups] = field(default_factory=dict)
    resolved: dict[int, list[Resolved]] = field(default_factory=dict)


async def followup_figures(conn: AsyncConnection, *, team_ids: list[int], since: datetime,
                           now: datetime) -> FollowupFigures:
    """Open and overdue follow-ups of each team now; those resolved from `since` to `now`, and the median."""
    counts = {c.team_id: c for c in await team_counts(conn, team_ids=team_ids, now=now)}
    resolved: dict[int, list[Resolved]] = defaultdict(list)
    for row in await resolved_since(conn, team_ids=team_ids, since=since, until=now):
        resolved[row.team_id].append(row)
    out = FollowupFigures(resolved=dict(resolved))
    for tid in team_ids:
        c, done = counts.get(tid), resolved.get(tid, [])
        spans = [(as_utc(r.resolved_at) - as_utc(r.created_at)).total_seconds() / DAY for r in done]
        out.figures[tid] = Followups(open=c.open if c else 0, overdue=c.overdue if c else 0,
                                     resolved=len(done), median_days=median(spans) if spans else None)
    return out
