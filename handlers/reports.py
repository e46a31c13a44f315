"""The leader report: per team and period figures computed in SQL, with the anonymity rule in one place.

Phased release: answer figures come only from closed rounds, read from their frozen summaries
(`RoundSummary`, `RoundComment`); an open round shows participation only, and its mood is a
`Pending` that carries its closing time and no number. Every figure built from what people
answered passes through `guard()`: below the min group size it becomes `SUPPRESSED`, which
carries no number. Window figures (drivers, eNPS) and comments
only draw on periods that passed the rule themselves, so two windows cannot be subtracted to
isolate a small group. Participation and the empty chair are not answers (deliveries know who
answered, never what; impacts are posted openly in the channel), so they are not suppressed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, partial
from itertools import groupby
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import Integer, and_, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.closing import close_due_rounds
from handlers.context import Context
from handlers.errors import Invalid, NotFound
from handlers.periods import as_utc
from storage.models import Delivery, EmptyChair, Impact, Response, Round, RoundComment, RoundSummary, Team

logger = logging.getLogger(__name__)

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
MAX_COMMENTS = 50  # per team; a random sample of the eligible ones
ALERT_MOOD_DROP = 0.5  # against the mean of the previous periods below
ALERT_BASELINE_PERIODS = 4
ALERT_PARTICIPATION = 0.5


@dataclass(frozen=True)
class Suppressed:
    """A withheld figure: fewer than the min group size answered. It holds no number on purpose."""


SUPPRESSED = Suppressed()


@dataclass(frozen=True)
class Pending(Suppressed):
    """An open round's answer figures: withheld until it closes at `closes` (phased release)."""

    closes: datetime


def passes(respondents: int, min_group_size: int) -> bool:
    """The anonymity rule, the only place it is written: a group this large may be shown."""
    return respondents >= min_group_size


def guard[T](respondents: int, min_group_size: int, build: Callable[[], T]) -> T | Suppressed:
    """Build a figure only for a group that passes the rule; otherwise withhold it."""
    return build() if passes(respondents, min_group_size) else SUPPRESSED


@dataclass(frozen=True)
class Mood:
    """Mood of one period: mean of the 1–5 answers and how many chose each value."""

    mean: float
    distribution: tuple[int, int, int, int, int]
    respondents: int


@dataclass(frozen=True)
class Score:
    """A driver's mean (1–5, agree) over the window's periods that passed the rule."""

    mean: float
    respondents: int


@dataclass(frozen=True)
class Enps:
    """eNPS = % promoters (9–10) − % detractors (0–6), in points from −100 to 100."""

    score: float
    promoters: float
    passives: float
    detractors: float
    respondents: int


@dataclass(frozen=True)
class Period:
    """One round of a team: participation (never suppressed) and its mood (guarded)."""

    period: str
    start: datetime
    open: bool
    driver: str
    delivered: int
    answered: int
    failed: int
    respondents: int
    mood: Mood | Suppressed
    mood_delta: float | None = None  # None when this or the previous period's mood is withheld
    participation_delta: float | None = None
    # Check-ins whose answer was lost where the platform cannot look (Teams): most likely arrived,
    # so they count as delivered in participation, and apart from `failed`: never sent again.
    maybe_delivered: int = 0

    @property
    def participation(self) -> float | None:
        """Answered / delivered, None when nothing was delivered."""
        return self.answered / self.delivered if self.delivered else None


@dataclass(frozen=True)
class Chairs:
    """The empty chair in the team's meetings over the window."""

    opened: int = 0
    with_impact: int = 0
    better: int = 0
    worse: int = 0
    no_change: int = 0
    unknown: int = 0  # "we don't know": each one is an open follow-up question

    @property
    def share_with_impact(self) -> float | None:
        """Chairs with at least one impact / chairs opened."""
        return self.with_impact / self.opened if self.opened else None


@dataclass(frozen=True)
class Alert:
    """Something a leader should look at: `mood_drop` (value vs baseline) or `low_participation`."""

    kind: Literal["mood_drop", "low_participation"]
    period: str
    value: float
    baseline: float | None = None


@dataclass(frozen=True)
class TeamReport:
    """One team's report: periods oldest first."""

    team: str
    weeks: int
    min_group_size: int
    periods: tuple[Period, ...] = ()
    drivers: tuple[tuple[str, Score | Suppressed], ...] = ()
    enps: Enps | Suppressed | None = None  # None: not asked in the window
    comments: tuple[str, ...] = ()
    chairs: Chairs = field(default_factory=Chairs)
    alerts: tuple[Alert, ...] = ()

    @property
    def latest(self) -> Period | None:
        """The most recent period, if any."""
        return self.periods[-1] if self.periods else None

    @property
    def trend(self) -> tuple[float | None, ...]:
        """One mood point per period; None where withheld."""
        return tuple(p.mood.mean if isinstance(p.mood, Mood) else None for p in self.periods)

    @property
    def failed_deliveries(self) -> int:
        """Check-ins that could not be delivered in the window (operators should look)."""
        return sum(p.failed for p in self.periods)

    @property
    def maybe_delivered(self) -> int:
        """Check-ins that maybe arrived (their answer was lost and Teams cannot look); not re-sent."""
        return sum(p.maybe_delivered for p in self.periods)


@dataclass(frozen=True)
class CompanyReport:
    """The reports of several teams (every team for a global leader or the operator)."""

    generated_at: datetime
    weeks: int
    min_group_size: int
    teams: tuple[TeamReport, ...]

    def team(self, name: str) -> TeamReport | None:
        """The report of the team called `name`."""
        return next((r for r in self.teams if r.team == name), None)


def _n(value: Any) -> int:
    return int(value or 0)  # SUM over no rows is NULL; PostgreSQL sums come back as Decimal


# Core tables: the report is aggregate SQL, not ORM objects.
RND, DLV, RSP = Round.__table__, Delivery.__table__, Response.__table__  # type: ignore[attr-defined]
SUM, COM = RoundSummary.__table__, RoundComment.__table__  # type: ignore[attr-defined]
CHAIR, IMPACT, TEAM = EmptyChair.__table__, Impact.__table__, Team.__table__  # type: ignore[attr-defined]


def _count_if(cond: Any) -> Any:
    # COUNT(*) FILTER (WHERE …): SQLite ≥ 3.30 and PostgreSQL; cheaper than SUM(CASE …) in SQLite.
    return func.count().filter(cond)


# Statements are built once per shape and take bound values, so SQLAlchemy's compiled cache
# serves every report: building a select costs more than running it for one team.
_NOW = bindparam("now", type_=RND.c.opened_at.type)
_FALLBACK = bindparam("fallback", type_=CHAIR.c.opened_at.type)
_NAMES: Any = bindparam("names", expanding=True)


def _last_rounds(column: Any, limit: str) -> Any:
    """`column` of the team's last `:limit` rounds opened by `:now`, correlated to the enclosing `team` row.

    A LIMIT per team walks the (team_id, period_start) index backwards from the newest round:
    it never reads a round outside the window, unlike ranking every round with ROW_NUMBER.
    """
    return (select(column).where(column.table.c.team_id == TEAM.c.id, column.table.c.opened_at <= _NOW)
            .order_by(column.table.c.period_start.desc()).limit(bindparam(limit, type_=Integer)).correlate(TEAM))


@cache
def _report_query(all_teams: bool) -> Any:
    """Every asked team with its chair figures, and one row per round of its last `:depth` rounds.

    One statement for everything but the comments. A closed round's figures come from its frozen
    summary; an open round (no summary yet) gets only its participation, counted live per round
    (deliveries and answers aggregated on their own, then joined). A team without rounds still
    gets one row (NULL round), so this is also the query that says which team names exist.
    """
    named = (lambda stmt: stmt) if all_teams else (lambda stmt: stmt.where(TEAM.c.name.in_(_NAMES)))
    last = RND.alias("last")
    win = named(select(RND.c.id, RND.c.team_id).select_from(
        TEAM.join(RND, RND.c.id.in_(_last_rounds(last.c.id, "depth").scalar_subquery())))).cte("win")
    still_open = select(win.c.id).where(win.c.id.not_in(select(SUM.c.round_id)))
    deliveries = (
        select(
            DLV.c.round_id.label("rid"),
            func.count().label("delivered"),
            _count_if(DLV.c.status == "failed").label("failed"),
            _count_if(DLV.c.status == "uncertain").label("uncertain"),
        ).where(DLV.c.round_id.in_(still_open)).group_by(DLV.c.round_id).subquery("d")
    )
    # Who answered an open round is a count of its answers: (round_id, respondent_key) is unique.
    answers = (
        select(RSP.c.round_id.label("rid"), func.count().label("answered"))
        .where(RSP.c.round_id.in_(still_open)).group_by(RSP.c.round_id).subquery("s")
    )
    # Chairs since the first of the team's last `:weeks` rounds (else `:fallback`): computed once per
    # team, the bound lets the (team_id, opened_at) index seek to the window's chairs directly.
    recent = _last_rounds(last.c.period_start, "weeks").subquery("recent")
    since = func.coalesce(select(func.min(recent.c.period_start)).scalar_subquery(), _FALLBACK)
    chairs = named(
        select(
            TEAM.c.id.label("team_id"),
            func.count(func.distinct(CHAIR.c.id)).label("opened"),
            func.count(func.distinct(IMPACT.c.chair_id)),
            *(_count_if(IMPACT.c.effect == e) for e in ("better", "worse", "no_change", "unknown")),
        ).select_from(
            TEAM.join(CHAIR, and_(CHAIR.c.team_id == TEAM.c.id, CHAIR.c.opened_at >= since))
            .outerjoin(IMPACT, IMPACT.c.chair_id == CHAIR.c.id)
        ).group_by(TEAM.c.id)
    ).subquery("c")
    # Column order is what `_periods` and `build_report` read by position (cheaper than names).
    return named(
        select(
            TEAM.c.id, TEAM.c.name, *(c for c in chairs.c if c.name != "team_id"),
            RND.c.id, RND.c.period, RND.c.period_start, case((SUM.c.round_id.is_(None), 1), else_=0), RND.c.driver,
            func.coalesce(SUM.c.delivered, deliveries.c.delivered),
            func.coalesce(SUM.c.answered, answers.c.answered),
            func.coalesce(SUM.c.failed, deliveries.c.failed),
            SUM.c.respondents, SUM.c.mood_1, SUM.c.mood_2, SUM.c.mood_3, SUM.c.mood_4, SUM.c.mood_5,
            SUM.c.driver_n, SUM.c.driver_sum, SUM.c.enps_n, SUM.c.promoters, SUM.c.detractors,
            RND.c.closes_at,
            func.coalesce(SUM.c.uncertain, deliveries.c.uncertain),
        )
        .select_from(
            TEAM.outerjoin(chairs, chairs.c.team_id == TEAM.c.id)
            .outerjoin(win, win.c.team_id == TEAM.c.id)
            .outerjoin(RND, RND.c.id == win.c.id)
            .outerjoin(SUM, SUM.c.round_id == win.c.id)
            .outerjoin(deliveries, deliveries.c.rid == win.c.id)
            .outerjoin(answers, answers.c.rid == win.c.id)
        )
        .order_by(TEAM.c.id, RND.c.period_start)
    )


@cache
def _comments_query() -> Any:
    """A random sample of frozen comments per team from the closed rounds given (those that passed the rule).

    Ordered by the random rank, so no order hints at who wrote what or when.
    """
    ranked = (
        select(RND.c.team_id, COM.c.comment,
               func.row_number().over(partition_by=RND.c.team_id, order_by=func.random()).label("rn"))
        .select_from(COM.join(RND, RND.c.id == COM.c.round_id))
        .where(COM.c.round_id.in_(bindparam("round_ids", expanding=True)))
        .subquery("ranked")
    )
    return select(ranked.c.team_id, ranked.c.comment).where(ranked.c.rn <= MAX_COMMENTS).order_by(ranked.c.rn)


# Positions in a `_report_query` row.
_TEAM, _NAME, _CHAIRS = 0, 1, slice(2, 8)
_ID, _PERIOD, _START, _OPEN, _DRIVER, _DELIVERED, _ANSWERED, _FAILED, _RESPONDENTS = range(8, 17)
_MOOD = slice(17, 22)
_DRIVER_N, _DRIVER_SUM, _ENPS_N, _PROMOTERS, _DETRACTORS, _CLOSES, _UNCERTAIN = range(22, 29)


def _mood(dist: tuple[int, ...]) -> Mood:
    n = sum(dist)
    return Mood(mean=(dist[0] + 2 * dist[1] + 3 * dist[2] + 4 * dist[3] + 5 * dist[4]) / n,
                distribution=dist, respondents=n)  # type: ignore[arg-type]


def _periods(rows: list[Any], k: int, starts: dict[datetime, datetime]) -> list[Period]:
    """Periods from a team's rows, oldest first; `starts` memoizes `as_utc` (every team shares the weeks)."""
    out: list[Period] = []
    prev_mean: float | None = None
    prev_part: float | None = None
    for row in rows:
        period, start, is_open, driver, delivered, answered, failed, respondents = row[_PERIOD:_MOOD.start]
        delivered, answered = delivered or 0, answered or 0
        mood: Mood | Suppressed
        if is_open:
            # Phased release: while a round is open its answers are not figures yet, at any size.
            mood, respondents = Pending(as_utc(row[_CLOSES])), answered
        else:
            dist = tuple(row[_MOOD])
            mood = guard(sum(dist), k, partial(_mood, dist))
        mean = mood.mean if isinstance(mood, Mood) else None
        part = answered / delivered if delivered else None
        # Positional: this runs once per team and period, and keywords cost a third more here.
        out.append(Period(
            period, starts.get(start) or starts.setdefault(start, as_utc(start)), bool(is_open), driver,
            delivered, answered, failed or 0, respondents or 0, mood,
            mean - prev_mean if mean is not None and prev_mean is not None else None,
            part - prev_part if part is not None and prev_part is not None else None,
            row[_UNCERTAIN] or 0,
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


def _drivers(rows: list[Any], k: int) -> tuple[tuple[str, Score | Suppressed], ...]:
    """Mean per driver over the window, from the periods whose driver answers passed the rule."""
    sums: dict[str, list[int]] = {}
    for row in rows:
        if row[_OPEN]:
            continue  # an open round's answers are not released yet
        entry = sums.setdefault(row[_DRIVER], [0, 0])
        n = row[_DRIVER_N] or 0
        if passes(n, k):
            entry[0] += _n(row[_DRIVER_SUM])
            entry[1] += n
    return tuple(
        (name, guard(n, k, partial(Score, mean=s / n if n else 0.0, respondents=n)))
        for name, (s, n) in sorted(sums.items())
    )


def _enps(rows: list[Any], k: int) -> Enps | Suppressed | None:
    asked = [r for r in rows if not r[_OPEN] and r[_ENPS_N]]
    if not asked:
        return None
    use = [r for r in asked if passes(r[_ENPS_N], k)]
    n = sum(r[_ENPS_N] for r in use)
    pro = sum(r[_PROMOTERS] for r in use)
    det = sum(r[_DETRACTORS] for r in use)
    return guard(n, k, lambda: Enps(score=100.0 * (pro - det) / n, promoters=pro / n,
                                    passives=(n - pro - det) / n, detractors=det / n, respondents=n))


async def _comments(conn: AsyncConnection, round_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    if round_ids:
        for team_id, comment in (await conn.execute(_comments_query(), {"round_ids": round_ids})).all():
            out[team_id].append(comment)
    return out


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
    # One period more than shown (the first delta looks back), and enough for the alert baseline.
    params: dict[str, Any] = {"now": now, "weeks": weeks, "fallback": now - timedelta(weeks=weeks),
                              "depth": max(weeks + 1, ALERT_BASELINE_PERIODS + 2)}
    if teams is not None:
        params["names"] = list(teams)
    async with ctx.store.engine.connect() as conn:
        rows = (await conn.execute(_report_query(teams is None), params)).all()
        # Rows come grouped by team, rounds oldest first; a team without rounds has one NULL round.
        names: dict[int, str] = {}
        chairs: dict[int, Chairs] = {}
        by_team: dict[int, list[Any]] = {}
        for tid, group in groupby(rows, itemgetter(_TEAM)):
            first, *rest = group
            names[tid] = first[_NAME]
            chairs[tid] = Chairs(*(_n(v) for v in first[_CHAIRS]))
            by_team[tid] = [first, *rest] if first[_ID] is not None else []
        if teams is not None and (missing := sorted(set(teams) - set(names.values()))):
            known = (await conn.execute(select(TEAM.c.name).order_by(TEAM.c.name))).scalars().all()
            raise NotFound("reports.unknown_team", team=", ".join(missing), teams=", ".join(known))
        shown = {tid: r[-weeks:] for tid, r in by_team.items()}
        eligible = [r[_ID] for rs in shown.values() for r in rs if not r[_OPEN] and passes(r[_RESPONDENTS] or 0, k)]
        comments = await _comments(conn, eligible)
    reports = []
    starts: dict[datetime, datetime] = {}
    for tid, name in sorted(names.items(), key=lambda kv: kv[1]):
        periods = _periods(by_team[tid], k, starts)
        reports.append(TeamReport(
            team=name, weeks=weeks, min_group_size=k,
            periods=tuple(periods[-weeks:]), drivers=_drivers(shown[tid], k),
            enps=_enps(shown[tid], k), comments=tuple(comments.get(tid, ())),
            chairs=chairs[tid], alerts=_alerts(periods),
        ))
    logger.info("report built", extra={"teams": len(reports), "weeks": weeks, "rounds": len(rows)})
    return CompanyReport(now, weeks, k, tuple(reports))
