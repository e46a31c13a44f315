"""Report queries: per team, the rounds of a window with their frozen (or live) figures, chairs and comments.

Aggregate SQL on the core tables, not ORM objects. Statements are built once per shape and take
bound values, so SQLAlchemy's compiled cache serves every report: building a select costs more
than running it for one team. The figure rules (suppression, phased release, alerts) live in
`handlers.reports`; these functions only read.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Integer, and_, bindparam, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import (
    IMPACT_EFFECTS,
    Delivery,
    EmptyChair,
    Impact,
    Response,
    Round,
    RoundComment,
    RoundSummary,
    Team,
)

RND, DLV, RSP = Round.__table__, Delivery.__table__, Response.__table__  # type: ignore[attr-defined]
SUM, COM = RoundSummary.__table__, RoundComment.__table__  # type: ignore[attr-defined]
CHAIR, IMPACT, TEAM = EmptyChair.__table__, Impact.__table__, Team.__table__  # type: ignore[attr-defined]


class ReportRow(NamedTuple):
    """One round of a team's window, with the team's chair figures; a team without rounds has `round_id` None.

    A closed round's figures come from its frozen summary (`open` 0); an open round (`open` 1) has
    only its participation, counted live, and NULL answer figures. Sums may be NULL or Decimal.
    """

    team_id: int
    team: str
    chairs_opened: Any
    chairs_with_impact: Any
    chairs_better: Any
    chairs_worse: Any
    chairs_no_change: Any
    chairs_unknown: Any
    round_id: int | None
    period: str
    period_start: datetime
    open: int
    driver: str
    delivered: int | None
    answered: int | None
    failed: int | None
    respondents: int | None
    mood_1: int | None
    mood_2: int | None
    mood_3: int | None
    mood_4: int | None
    mood_5: int | None
    driver_n: int | None
    driver_sum: Any
    enps_n: int | None
    promoters: int | None
    detractors: int | None
    closes_at: datetime
    uncertain: int | None
    enps_asked: bool | int | None  # the round asked for eNPS (open or closed)

    @property
    def chairs(self) -> tuple[Any, ...]:
        """Opened, with impact, better, worse, no change, unknown (the `Chairs` fields in order)."""
        return self[2:8]

    @property
    def moods(self) -> tuple[int, int, int, int, int]:
        """How many answered 1…5 (NULL read as 0)."""
        return (self.mood_1 or 0, self.mood_2 or 0, self.mood_3 or 0, self.mood_4 or 0, self.mood_5 or 0)


class CommentRow(NamedTuple):
    """A frozen comment and its team."""

    team_id: int
    comment: str
    id: str = ""  # the frozen comment's random id: what a leader's reply button carries


class ChairTime(NamedTuple):
    """A chair of a team, when it was opened and whether anyone recorded a client impact on it."""

    team_id: int
    opened_at: datetime
    with_impact: bool


def _count_if(cond: Any) -> Any:
    # COUNT(*) FILTER (WHERE …): SQLite ≥ 3.30 and PostgreSQL; cheaper than SUM(CASE …) in SQLite.
    return func.count().filter(cond)


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
    """Every asked team with its chair figures, and one row per round of its last `:depth` rounds (`ReportRow`).

    One statement for everything but the comments. Open rounds' deliveries and answers are
    aggregated on their own, then joined. A team without rounds still gets one row (NULL round),
    so this is also the query that says which team names exist.
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
            *(_count_if(IMPACT.c.effect == e) for e in IMPACT_EFFECTS),
        ).select_from(
            TEAM.join(CHAIR, and_(CHAIR.c.team_id == TEAM.c.id, CHAIR.c.opened_at >= since))
            .outerjoin(IMPACT, IMPACT.c.chair_id == CHAIR.c.id)
        ).group_by(TEAM.c.id)
    ).subquery("c")
    # Column order is `ReportRow`'s field order.
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
            RND.c.enps,
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
    ranked = (
        select(RND.c.team_id, COM.c.comment, COM.c.id,
               func.row_number().over(partition_by=RND.c.team_id, order_by=func.random()).label("rn"))
        .select_from(COM.join(RND, RND.c.id == COM.c.round_id))
        .where(COM.c.round_id.in_(bindparam("round_ids", expanding=True)))
        .subquery("ranked")
    )
    return (select(ranked.c.team_id, ranked.c.comment, ranked.c.id)
            .where(ranked.c.rn <= bindparam("per_team", type_=Integer)).order_by(ranked.c.rn))


async def report_rows(conn: AsyncConnection, *, names: list[str] | None, now: datetime, weeks: int,
                      depth: int, fallback: datetime) -> list[ReportRow]:
    """The teams called `names` (None: every team), grouped by team id, each team's last `depth` rounds oldest first.

    Rounds opened after `now` are not read; chairs count from the first of the last `weeks`
    rounds, or from `fallback` for a team without rounds.
    """
    params: dict[str, Any] = {"now": now, "weeks": weeks, "depth": depth, "fallback": fallback}
    if names is not None:
        params["names"] = names
    result = await conn.execute(_report_query(names is None), params)
    return [ReportRow._make(row) for row in result.all()]


async def sampled_comments(conn: AsyncConnection, *, round_ids: list[int], per_team: int) -> list[CommentRow]:
    """A random sample of at most `per_team` frozen comments per team from `round_ids`.

    Ordered by the random rank, so no order hints at who wrote what or when.
    """
    if not round_ids:
        return []
    result = await conn.execute(_comments_query(), {"round_ids": round_ids, "per_team": per_team})
    return [CommentRow._make(row) for row in result.all()]


@cache
def _chair_times_query() -> Any:
    return (
        select(CHAIR.c.team_id, CHAIR.c.opened_at, exists().where(IMPACT.c.chair_id == CHAIR.c.id))
        .where(CHAIR.c.team_id.in_(bindparam("team_ids", expanding=True)),
               CHAIR.c.opened_at >= bindparam("since", type_=CHAIR.c.opened_at.type),
               CHAIR.c.opened_at <= bindparam("until", type_=CHAIR.c.opened_at.type))
        .order_by(CHAIR.c.team_id, CHAIR.c.opened_at)
    )


async def chair_times(conn: AsyncConnection, *, team_ids: list[int], since: datetime,
                      until: datetime) -> list[ChairTime]:
    """The chairs of `team_ids` opened from `since` to `until`, by team then time (the client-connection view).

    Seeks the (team_id, opened_at) index per team.
    """
    if not team_ids:
        return []
    result = await conn.execute(_chair_times_query(), {"team_ids": team_ids, "since": since, "until": until})
    return [ChairTime(tid, opened, bool(has)) for tid, opened, has in result.all()]


async def team_names(conn: AsyncConnection) -> list[str]:
    """Every team's name, in order."""
    return list((await conn.execute(select(TEAM.c.name).order_by(TEAM.c.name))).scalars().all())
