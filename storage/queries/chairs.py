"""Empty chairs and their impacts: open, remember the card, add an impact, close once, tally."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import IMPACT_EFFECTS, EmptyChair, Impact


async def add_chair(
    session: AsyncSession,
    *,
    platform: str,
    conversation: str,
    team_id: int | None,
    topic: str,
    opened_by: str,
    locale: str,
    opened_at: datetime,
) -> EmptyChair:
    """A new open chair (flushed, so it has its id; the caller commits)."""
    chair = EmptyChair(platform=platform, conversation=conversation, team_id=team_id, topic=topic,
                       opened_by=opened_by, locale=locale, opened_at=opened_at)
    session.add(chair)
    await session.flush()
    return chair


async def chair_by_id(session: AsyncSession, *, chair_id: int) -> EmptyChair | None:
    """The chair, or None."""
    return await session.get(EmptyChair, chair_id)


async def set_card(session: AsyncSession, *, chair_id: int, conversation: str, message_ref: str) -> None:
    """Where the chair's card was posted, so it can be edited in place."""
    await session.exec(
        update(EmptyChair).where(col(EmptyChair.id) == chair_id)
        .values(conversation=conversation, message_ref=message_ref)
    )


async def add_impact(
    session: AsyncSession, *, chair_id: int, author: str, effect: str, who: str, note: str, created_at: datetime
) -> Impact:
    """One client impact on a chair."""
    impact = Impact(chair_id=chair_id, author=author, effect=effect, who=who, note=note, created_at=created_at)
    session.add(impact)
    return impact


async def claim_close(session: AsyncSession, *, chair_id: int, now: datetime) -> bool:
    """Close the chair if it is still open; False when someone closed it first (the UPDATE is the claim)."""
    result = await session.exec(
        update(EmptyChair)
        .where(col(EmptyChair.id) == chair_id, col(EmptyChair.closed_at).is_(None))
        .values(closed_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def tally(session: AsyncSession, *, chair_id: int) -> dict[str, int]:
    """How many impacts of each effect, every effect present (0 when none)."""
    stmt = select(Impact.effect, func.count()).where(Impact.chair_id == chair_id).group_by(Impact.effect)
    counts = dict.fromkeys(IMPACT_EFFECTS, 0)
    for effect, n in (await session.exec(stmt)).all():
        counts[effect] = n
    return counts


async def impacts(session: AsyncSession, *, chair_id: int, newest: int | None = None) -> list[Impact]:
    """The chair's impacts oldest first; only the `newest` n when given."""
    if newest is None:
        stmt = select(Impact).where(Impact.chair_id == chair_id).order_by(col(Impact.id))
        return list((await session.exec(stmt)).all())
    stmt = select(Impact).where(Impact.chair_id == chair_id).order_by(col(Impact.id).desc()).limit(newest)
    return list(reversed((await session.exec(stmt)).all()))


async def opened_since(session: AsyncSession, *, conversation: str, opened_by: str, since: datetime) -> bool:
    """Whether `opened_by` opened a chair in the conversation at or after `since`."""
    stmt = select(EmptyChair.id).where(
        EmptyChair.conversation == conversation,
        EmptyChair.opened_by == opened_by,
        col(EmptyChair.opened_at) >= since,
    )
    return (await session.exec(stmt.limit(1))).first() is not None


async def unsign_impacts(session: AsyncSession, *, author: str) -> None:
    """Impacts stay as a decision record but no longer say who wrote them (`forget`)."""
    await session.exec(update(Impact).where(col(Impact.author) == author).values(author=""))
