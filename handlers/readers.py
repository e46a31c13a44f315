"""Who may read which team's report: the one rule `/team-pulse`, the dashboard and the digest share."""

from __future__ import annotations

from collections.abc import Iterable

from handlers.context import Context
from handlers.ports import Actor
from storage.queries.teams import led_team_ids, team_names


async def readable_teams(ctx: Context, actor: Actor) -> tuple[bool, list[str]]:
    """(is a global leader, names of the teams this actor may read), from the Leader rows."""
    async with ctx.store.session() as session:
        # Both sides are "platform:id" (`Actor.ids()`, `setup._set_leaders`): a Teams sender whose
        # id equals a Slack leader's id is not that leader.
        refs = await led_team_ids(session, refs=actor.ids())
        is_global = any(ref is None for ref in refs)
        ids = None if is_global else [ref for ref in refs if ref is not None]
        return is_global, await team_names(session, ids=ids)


def named_team(allowed: Iterable[str], name: str) -> str | None:
    """The team called `name` (any case) among `allowed`, as stored; None when it is not there."""
    return next((n for n in allowed if n.casefold() == name.casefold()), None)
