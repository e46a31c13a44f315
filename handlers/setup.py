"""Bring the store in line with `pulsebot.toml`: teams, leaders and fixed rosters."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from handlers.context import Context
from handlers.identity import qualify, split_ref
from handlers.members import upsert_in
from handlers.ports import Actor
from storage.db import retry_on_conflict
from storage.queries.members import set_roster
from storage.queries.meta import lock_for_transaction
from storage.queries.teams import save_team, set_leaders

logger = logging.getLogger(__name__)


def actor_from_ref(ref: str) -> Actor:
    """A config roster entry: "slack:U123", "teams:29:…", "console:ana", or a bare id read by its
    shape (`handlers.identity.qualify`), the same way leaders are read."""
    platform, user = split_ref(ref)
    return Actor(platform=platform, user_id=user)


# "pulsebot:config" as a PostgreSQL advisory lock key (apart from the clock's).
CONFIG_LOCK_KEY = int.from_bytes(b"pbconfig", "big") & 0x7FFF_FFFF_FFFF_FFFF


async def apply_config(ctx: Context) -> None:
    """Create or update every configured team and its leaders; idempotent, run on every start.

    Any number of replicas may run it at the same moment (a rolling deploy, `--scale 2`): on
    PostgreSQL they take turns under a transaction-scoped advisory lock; on SQLite, where a
    writer that read a stale snapshot can lose the race, the loser simply applies it again.
    """
    await retry_on_conflict(lambda: _apply(ctx), attempts=5, also=(OperationalError,), backoff=0.05)
    logger.info("config applied", extra={"teams": len(ctx.config.teams)})


async def _apply(ctx: Context) -> None:
    cfg = ctx.config
    async with ctx.store.session() as session:
        if not ctx.store.is_sqlite:
            await lock_for_transaction(session, key=CONFIG_LOCK_KEY)
        for tc in cfg.teams:
            team = await save_team(session, name=tc.name, slack_channel=tc.slack_channel,
                                   teams_conversation=tc.teams_conversation, locale=tc.locale, timezone=tc.timezone)
            await _set_leaders(session, team.id, tc.leaders)
            if tc.members:
                leaders = {qualify(ref) for ref in [*tc.leaders, *cfg.pulse.leaders]}
                ids: set[int] = set()
                for ref in tc.members:
                    actor = actor_from_ref(ref)
                    if actor.ids() & leaders:
                        continue
                    member = await upsert_in(session, actor, now=ctx.clock.now())
                    assert member.id is not None  # flushed by upsert_in
                    ids.add(member.id)
                assert team.id is not None
                # Added, never removed: a fixed roster only grows (a face's roster sync may narrow it).
                await set_roster(session, team_id=team.id, member_ids=ids, only_add=True)
        await _set_leaders(session, None, cfg.pulse.leaders)
        await session.commit()


async def _set_leaders(session, team_id: int | None, refs: list[str]) -> None:  # noqa: ANN001
    # Stored as "platform:id" (a bare id read by its shape); rows written bare by an older
    # version are not wanted, so they are replaced here on the next start: no migration needed.
    await set_leaders(session, team_id=team_id, refs={qualify(ref) for ref in refs})
