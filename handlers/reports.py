"""The leader report: per team and period figures from `storage.queries.reports`, with the anonymity rule in one place.

Phased release: answer figures come only from closed rounds, read from their frozen summaries
(`RoundSummary`, `RoundComment`); an open round shows participation only, and its mood is a
`Pending` that carries its closing time and no number. Every figure built from what people
answered passes through `guard()`: below the min group size it becomes `SUPPRESSED`, which
carries no number. Each period's own driver score and eNPS (the dashboard's heatmap and eNPS
trend) are guarded on their own counts; window figures (drivers, eNPS) and comments only draw on
periods that passed the rule themselves, so a window minus the periods shown is zero, and two
windows cannot be subtracted to isolate a small group. Participation and the empty chair are not answers (deliveries know who
answered, never what; impacts are posted openly in the channel), so they are not suppressed.
The report's shapes (`Period`, `TeamReport`, …) live in `handlers.report_model`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from operator import attrgetter
from typing import Any

from handlers.closing import close_due_rounds
from handlers.context import Context
from handlers.errors import Invalid, NotFound
from handlers.followup_figures import followup_figures
from handlers.periods import as_utc
from handlers.report_model import (
    SUPPRESSED,
    Alert,
    Chairs,
    ClientPeriod,
    CommitmentPeriod,
    CompanyReport,
    Enps,
    Followups,
    Mood,
    Pending,
    Period,
    Score,
    Suppressed,
    TeamReport,
)
from storage.queries.commitments import CommitmentFigures, commitment_figures
from storage.queries.followups import Resolved
from storage.queries.reports import (
    ChairTime,
    ReportRow,
    chair_times,
    report_rows,
    sampled_comments,
    team_names,
)

__all__ = [
    "SUPPRESSED", "Alert", "Chairs", "ClientPeriod", "CommitmentPeriod", "CompanyReport", "Enps", "Mood", "Pending", "Period", "Score", "Suppressed",
    "TeamReport", "build_report", "guard", "passes",
]

logger = logging.getLogger(__name__)

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
MAX_COMMENTS = 50  # per team; a random sample of the eligible ones
ALERT_MOOD_DROP = 0.5  # against the mean of the previous periods below
ALERT_BASELINE_PERIODS = 4
ALERT_PARTICIPATION = 0.5


def passes(respondents: int, min_group_size: int) -> bool:
    """The anonymity rule, the only place it is written: a group this large may be shown."""
    return respondents >= min_group_size


def guard[T](respondents: int, min_group_size: int, build: Callable[[], T]) -> T | Suppressed:
    """Build a figure only for a group that passes the rule; otherwise withhold it."""
    return build() if passes(respondents, min_group_size) else SUPPRESSED


def _n(value: Any) -> int:
    return int(value or 0)  # SUM over no rows is NULL; PostgreSQL sums come back as Decimal


def _mood(dist: tuple[int, int, int, int, int]) -> Mood:
    n = sum(dist)
    return Mood(mean=(dist[0] + 2 * dist[1] + 3 * dist[2] + 4 * dist[3] + 5 * dist[4]) / n,
                distribution=dist, respondents=n)


def _score(total: int, n: int) -> Score:
    return Score(mean=total / n, respondents=n)


def _enps_of(n: int, pro: int, det: int) -> Enps:
    return Enps(score=100.0 * (pro - det) / n, promoters=pro / n, passives=(n - pro - det) / n,
                detractors=det / n, respondents=n)


def _periods(rows: list[ReportRow], k: int, starts: dict[datetime, datetime]) -> list[Period]:
    """Periods from a team's rows, oldest first; `starts` memoizes `as_utc` (every team shares the weeks)."""
    out: list[Period] = []
    prev_mean: float | None = None
    prev_part: float | None = None
    for row in rows:
        delivered, answered, respondents = row.delivered or 0, row.answered or 0, row.respondents
        mood: Mood | Suppressed
        score: Score | Suppressed
        enps: Enps | Suppressed | None
        if row.open:
            # Phased release: while a round is open its answers are not figures yet, at any size.
            mood = score = Pending(as_utc(row.closes_at))
            respondents, enps = answered, mood if row.enps_asked else None
        else:
            dist, dn, en = row.moods, row.driver_n or 0, row.enps_n or 0
            mood = guard(sum(dist), k, partial(_mood, dist))
            # Each figure is guarded on its own count: who answered the mood need not have scored the driver.
            score = guard(dn, k, partial(_score, _n(row.driver_sum), dn))
            enps = guard(en, k, partial(_enps_of, en, row.promoters or 0, row.detractors or 0)) \
                if row.enps_asked else None
        mean = mood.mean if isinstance(mood, Mood) else None
        part = answered / delivered if delivered else None
        start = row.period_start
        # Positional: this runs once per team and period, and keywords cost a third more here.
        out.append(Period(
            row.period, starts.get(start) or starts.setdefault(start, as_utc(start)), bool(row.open), row.driver,
            delivered, answered, row.failed or 0, respondents or 0, mood,
            mean - prev_mean if mean is not None and prev_mean is not None else None,
            part - prev_part if part is not None and prev_part is not None else None,
            row.uncertain or 0, score, enps,
        ))
        prev_mean, prev_part = mean, part
    return out


def _alerts(periods: list[Period]) -> tuple[Alert, ...]:
    """Alerts on the latest closed round (an open one is still collecting answers)."""
    closed = [i for i, p in enumerate(periods) if not p.open]
    if not closed:
        return ()
    i = closed[-1]
    cur = periods[i]
    alerts: list[Alert] = []
    earlier = [p.mood.mean for p in periods[max(0, i - ALERT_BASELINE_PERIODS):i] if isinstance(p.mood, Mood)]
    if isinstance(cur.mood, Mood) and earlier:
        baseline = sum(earlier) / len(earlier)
        if baseline - cur.mood.mean >= ALERT_MOOD_DROP - 1e-9:
            alerts.append(Alert("mood_drop", cur.period, cur.mood.mean, baseline))
    if cur.participation is not None and cur.participation < ALERT_PARTICIPATION:
        alerts.append(Alert("low_participation", cur.period, cur.participation))
    return tuple(alerts)


CUSTOMER_DRIVER = "customer"  # the driver bank's "I feel connected to our clients" (handlers.drivers)


def _client(periods: tuple[Period, ...], chairs: list[ChairTime],
            resolved: list[Resolved] | None = None) -> tuple[ClientPeriod, ...]:
    """Per period: its customer-driver score (already guarded) beside the chairs opened from its
    start to the next period's (the last one's until now), how many got a client impact, and the
    follow-ups resolved in the same span."""
    out: list[ClientPeriod] = []
    starts = [p.start for p in periods]
    i = 0
    done = resolved or []
    j = 0
    for n, p in enumerate(periods):
        end = starts[n + 1] if n + 1 < len(starts) else None
        while i < len(chairs) and as_utc(chairs[i].opened_at) < p.start:
            i += 1  # before the window's first period
        opened = with_impact = 0
        while i < len(chairs) and (end is None or as_utc(chairs[i].opened_at) < end):
            opened += 1
            with_impact += chairs[i].with_impact
            i += 1
        while j < len(done) and as_utc(done[j].resolved_at) < p.start:
            j += 1
        answered = 0
        while j < len(done) and (end is None or as_utc(done[j].resolved_at) < end):
            answered += 1
            j += 1
        out.append(ClientPeriod(p.period, p.driver_score if p.driver == CUSTOMER_DRIVER else None,
                                opened, with_impact, answered))
    return tuple(out)


def _commitments(rows: list[ReportRow], periods: tuple[Period, ...], figures: dict[int, CommitmentFigures],
                 k: int) -> tuple[CommitmentPeriod, ...]:
    """Per closed period: its commitment, beside the next round's follow-up answers (guarded)."""
    by_period = {row.period: row.round_id for row in rows if row.round_id is not None}
    out: list[CommitmentPeriod] = []
    for n, p in enumerate(periods):
        f = figures.get(by_period.get(p.period, -1))
        if p.open or f is None:
            continue
        if f.status != "set":
            out.append(CommitmentPeriod(p.period, "skipped" if f.status == "skipped" else "none"))
            continue
        nxt = periods[n + 1] if n + 1 < len(periods) else None
        followup: Score | Suppressed | None = None
        if nxt is not None and isinstance(nxt.mood, Pending):
            followup = nxt.mood  # phased release: the next round is still open
        elif nxt is not None:
            g = figures.get(by_period.get(nxt.period, -1))
            fn = _n(g.focus_n) if g is not None else 0
            followup = guard(fn, k, partial(_score, _n(g.focus_sum) if g is not None else 0, fn))
        out.append(CommitmentPeriod(p.period, "set", f.driver, f.sentence,
                                    nxt.period if nxt is not None else None, followup))
    return tuple(out)


def _drivers(rows: list[ReportRow], k: int) -> tuple[tuple[str, Score | Suppressed], ...]:
    """Mean per driver over the window, from the periods whose driver answers passed the rule."""
    sums: dict[str, list[int]] = {}
    for row in rows:
        if row.open:
            continue  # an open round's answers are not released yet
        entry = sums.setdefault(row.driver, [0, 0])
        n = row.driver_n or 0
        if passes(n, k):
            entry[0] += _n(row.driver_sum)
            entry[1] += n
    return tuple(
        (name, guard(n, k, partial(_score, s, n)))
        for name, (s, n) in sorted(sums.items())
    )


def _enps(rows: list[ReportRow], k: int) -> Enps | Suppressed | None:
    asked = [r for r in rows if not r.open and r.enps_n]
    if not asked:
        return None
    use = [r for r in asked if passes(r.enps_n or 0, k)]
    n = sum(r.enps_n or 0 for r in use)
    pro = sum(r.promoters or 0 for r in use)
    det = sum(r.detractors or 0 for r in use)
    return guard(n, k, partial(_enps_of, n, pro, det))


async def build_report(ctx: Context, *, teams: list[str] | None, weeks: int = DEFAULT_WEEKS) -> CompanyReport:
    """The report of `teams` (None: every team) over the last `weeks` periods, in two queries.

    Raises `Invalid` for weeks outside 1–104 and `NotFound` for a team name that does not exist.
    No permission check here: `team_pulse` does it for people; the operator's CLI reads everything.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise Invalid("reports.weeks_invalid", max=MAX_WEEKS)
    k, now = ctx.min_group_size, as_utc(ctx.clock.now())
    # Rounds past their window are closed (and frozen) before reading, whether or not the clock
    # has run since: a report never shows a round as open after its closing time.
    await close_due_rounds(ctx, now)
    async with ctx.store.engine.connect() as conn:
        # One period more than shown (the first delta looks back), and enough for the alert baseline.
        rows = await report_rows(conn, names=None if teams is None else list(teams), now=now, weeks=weeks,
                                 depth=max(weeks + 1, ALERT_BASELINE_PERIODS + 2),
                                 fallback=now - timedelta(weeks=weeks))
        # Rows come grouped by team, rounds oldest first; a team without rounds has one NULL round.
        names: dict[int, str] = {}
        chairs: dict[int, Chairs] = {}
        by_team: dict[int, list[ReportRow]] = {}
        for tid, group in groupby(rows, attrgetter("team_id")):
            first, *rest = group
            names[tid] = first.team
            chairs[tid] = Chairs(*(_n(v) for v in first.chairs))
            by_team[tid] = [first, *rest] if first.round_id is not None else []
        if teams is not None and (missing := sorted(set(teams) - set(names.values()))):
            known = await team_names(conn)
            raise NotFound("reports.unknown_team", team=", ".join(missing), teams=", ".join(known))
        shown = {tid: r[-weeks:] for tid, r in by_team.items()}
        eligible = [r.round_id for rs in shown.values() for r in rs
                    if r.round_id is not None and not r.open and passes(r.respondents or 0, k)]
        comments: dict[int, list[str]] = defaultdict(list)
        comment_ids: dict[int, list[str]] = defaultdict(list)
        for c in await sampled_comments(conn, round_ids=eligible, per_team=MAX_COMMENTS):
            comments[c.team_id].append(c.comment)
            comment_ids[c.team_id].append(c.id)
        figures = {f.round_id: f for f in await commitment_figures(
            conn, round_ids=[r.round_id for rs in shown.values() for r in rs if r.round_id is not None])}
        firsts = [rs[0].period_start for rs in shown.values() if rs]
        chair_rows: dict[int, list[ChairTime]] = defaultdict(list)
        if firsts:
            for chair in await chair_times(conn, team_ids=[tid for tid, rs in shown.items() if rs],
                                           since=min(firsts), until=now):
                chair_rows[chair.team_id].append(chair)
        since = min(firsts) if firsts else now - timedelta(weeks=weeks)
        followups = await followup_figures(conn, team_ids=list(names), since=since, now=now)
    reports = []
    starts: dict[datetime, datetime] = {}
    for tid, name in sorted(names.items(), key=lambda kv: kv[1]):
        periods = _periods(by_team[tid], k, starts)
        window = tuple(periods[-weeks:])
        reports.append(TeamReport(
            team=name, weeks=weeks, min_group_size=k,
            periods=window, drivers=_drivers(shown[tid], k),
            enps=_enps(shown[tid], k), comments=tuple(comments.get(tid, ())),
            comment_ids=tuple(comment_ids.get(tid, ())),
            chairs=chairs[tid], alerts=_alerts(periods),
            client=_client(window, chair_rows.get(tid, []), followups.resolved.get(tid)),
            followups=followups.figures.get(tid, Followups()),
            commitments=_commitments(shown[tid], window, figures, k),
        ))
    logger.info("report built", extra={"teams": len(reports), "weeks": weeks, "rounds": len(rows)})
    return CompanyReport(now, weeks, k, tuple(reports))
