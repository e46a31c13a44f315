"""`/team-pulse [team] [weeks]`: the leader report, privately, to the team's leaders and global leaders only."""

from __future__ import annotations

import asyncio
import logging

from handlers.charts import chart_png
from handlers.commitments import COMMIT_WORDS, reopen
from handlers.context import Context
from handlers.dashboard import with_dashboard_link
from handlers.errors import Invalid, NotAllowed, NotFound
from handlers.members import actor_locale
from handlers.messages import Outcome
from handlers.ports import Actor, Where
from handlers.readers import named_team, readable_teams
from handlers.report_render import report_message
from handlers.reports import DEFAULT_WEEKS, MAX_WEEKS, build_report

logger = logging.getLogger(__name__)


def parse_request(text: str) -> tuple[str | None, int]:
    """`[team] [weeks]` → (team or None, weeks); team names may contain spaces.

    The last word is the weeks when it is a whole number with at most one sign. `isdecimal`,
    not `isdigit`: "²" and "①" are digits that `int()` refuses, so they stay part of the name.
    """
    words = text.split()
    weeks = DEFAULT_WEEKS
    last = words[-1] if words else ""
    unsigned = last[1:] if last[:1] in ("+", "-") else last
    if unsigned.isdecimal():
        words.pop()
        # Compared as text first: int() of thousands of digits is slow, then refused.
        weeks = int(last) if len(unsigned) <= 4 else MAX_WEEKS + 1
        if not 1 <= weeks <= MAX_WEEKS:
            raise Invalid("reports.weeks_invalid", max=MAX_WEEKS)
    return (" ".join(words) or None), weeks


async def team_pulse(ctx: Context, actor: Actor, where: Where, text: str) -> Outcome:
    """`/team-pulse [team] [weeks]`: the report, privately, to the team's leaders and global leaders only."""
    first, _, rest = text.strip().partition(" ")
    if first.lower() in COMMIT_WORDS:
        return await reopen(ctx, actor, rest)
    locale = await actor_locale(ctx, actor)
    name, weeks = parse_request(text)
    is_global, allowed = await readable_teams(ctx, actor)
    if not allowed and not is_global:
        raise NotAllowed("reports.not_a_leader")
    teams: list[str] | None = None if is_global else allowed
    if name is not None:
        match = named_team(allowed, name)
        if match is None and is_global:
            raise NotFound("reports.unknown_team", team=name, teams=", ".join(allowed))
        if match is None:
            # The same answer whether the team exists or not: a refusal tells nothing.
            raise NotAllowed("reports.not_allowed", team=name)
        teams = [match]
    report = await build_report(ctx, teams=teams, weeks=weeks)
    png = None
    if len(report.teams) == 1 and report.teams[0].periods:
        png = await asyncio.to_thread(chart_png, report.teams[0], locale)
    logger.info("team pulse read", extra={"teams": len(report.teams), "weeks": weeks, "where": where.kind})
    return Outcome(reply=await with_dashboard_link(ctx, actor, report_message(report, locale, png=png, replies=True)))
