"""What `/inbox` says when nothing is open: that it is empty, and when the member's next check-in comes.

When a team's next round opens is the clock's knowledge (`schedules.timing`), which the handlers
never import; the face passes it in as `next_opening`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.config import TeamConfig
from handlers.context import Context
from handlers.i18n import fmt_date, t
from handlers.members import actor_locale, find_member
from handlers.ports import Actor
from storage.queries.members import active_team_names

# (team, after, the member's zones) -> the UTC instant the team's next round opens for them.
NextOpening = Callable[[TeamConfig, datetime, Iterable[str]], datetime]


async def nothing_open(ctx: Context, actor: Actor, *, next_opening: NextOpening) -> str:
    """"Nothing open", and the soonest next check-in of the member's teams in their own time zone."""
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        names: set[str] = set()
        if member is not None:
            names = await active_team_names(session, member_id=member.id)  # type: ignore[arg-type]
    zone = (member.timezone if member is not None else None) or ctx.config.pulse.timezone
    now = ctx.clock.now()
    upcoming = [next_opening(team, now, [zone]) for team in ctx.config.teams if team.name in names]
    if not upcoming:
        return t("inbox.empty", locale)
    local = min(upcoming).astimezone(ZoneInfo(zone))
    return t("inbox.empty_next", locale, date=fmt_date(local, locale), time=local.strftime("%H:%M"), tz=zone)
