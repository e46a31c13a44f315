"""`/team-pulse [team] [weeks]`: the leader report, privately, to the team's leaders and global leaders only."""

from __future__ import annotations

import asyncio
import logging

from handlers.charts import chart_png
from handlers.context import Context
from handlers.errors import Invalid, NotAllowed, NotFound
from handlers.members import actor_locale
from handlers.messages import Outcome
from handlers.ports import Actor, Where
from handlers.report_render import report_message
from handlers.reports import DEFAULT_WEEKS, MAX_WEEKS, build_report
from storage.queries.teams import led_team_ids, team_names

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


async def readable_teams(ctx: Context, actor: Actor) -> tuple[bool, list[str]]:
    """(is a global leader, names of the teams this actor may read), from the Leader rows."""
    async with ctx.store.session() as session:
        # Both sides are "platform:id" (`Actor.ids()`, `setup._set_leaders`): a Teams sender whose
        # id equals a Slack leader's id is not that leader.
        refs = await led_team_ids(session, refs=actor.ids())
        is_global = any(ref is None for ref in refs)
        ids = None if is_global else [ref for ref in refs if ref is not None]
        return is_global, await team_names(session, ids=ids)


async def team_pulse(ctx: Context, actor: Actor, where: Where, text: str) -> Outcome:
    """`/team-pulse [team] [weeks]`: the report, privately, to the team's leaders and global leaders only."""
    locale = await actor_locale(ctx, actor)
    name, weeks = parse_request(text)
    is_global, allowed = await readable_teams(ctx, actor)
    if not allowed and not is_global:
        raise NotAllowed("reports.not_a_leader")
    teams: list[str] | None = None if is_global else allowed
    if name is not None:
        match = next((n for n in allowed if n.casefold() == name.casefold()), None)
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
    # Imported here: `handlers.dashboard` reads `readable_teams` from this module.
    from handlers.dashboard import with_dashboard_link

    return Outcome(reply=await with_dashboard_link(ctx, actor, report_message(report, locale, png=png)))
