"""Conversation references in the store: remembered, replaced, looked up, safe under races."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlmodel import select

from handlers.context import Context
from handlers.conversations import lookup, remember
from storage.models import ConversationRef

CHANNEL = "19:soporte@thread.tacv2"


def naive(at: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their (UTC) zone; compare wall times."""
    return at.replace(tzinfo=None) if at else at


async def rows(ctx: Context) -> list[ConversationRef]:
    async with ctx.store.session() as session:
        return list((await session.exec(select(ConversationRef))).all())


async def test_a_remembered_reference_is_found_again(ctx: Context):
    await remember(ctx, platform="teams", conversation=CHANNEL, reference='{"serviceUrl": "https://a/"}')
    assert await lookup(ctx, platform="teams", conversation=CHANNEL) == '{"serviceUrl": "https://a/"}'


async def test_an_unknown_conversation_has_no_reference(ctx: Context):
    assert await lookup(ctx, platform="teams", conversation=CHANNEL) is None


async def test_remembering_again_replaces_the_reference_in_the_same_row(ctx: Context):
    await remember(ctx, platform="teams", conversation=CHANNEL, reference="old")
    ctx.clock.move(hours=2)
    await remember(ctx, platform="teams", conversation=CHANNEL, reference="new")
    [row] = await rows(ctx)
    assert row.reference == "new" and naive(row.updated_at) == naive(ctx.clock.now())
    assert await lookup(ctx, platform="teams", conversation=CHANNEL) == "new"


async def test_the_same_reference_again_writes_nothing(ctx: Context):
    await remember(ctx, platform="teams", conversation=CHANNEL, reference="same")
    first = ctx.clock.now()
    ctx.clock.move(hours=2)
    await remember(ctx, platform="teams", conversation=CHANNEL, reference="same")
    [row] = await rows(ctx)
    assert naive(row.updated_at) == naive(first)


async def test_platforms_do_not_share_a_conversation_id(ctx: Context):
    await remember(ctx, platform="teams", conversation="C1", reference="teams-ref")
    await remember(ctx, platform="slack", conversation="C1", reference="slack-ref")
    assert await lookup(ctx, platform="teams", conversation="C1") == "teams-ref"
    assert await lookup(ctx, platform="slack", conversation="C1") == "slack-ref"


async def test_concurrent_remembers_of_a_new_conversation_keep_one_row(ctx: Context):
    # Open the pool's connections first, so the requests below really read before any inserts.
    await asyncio.gather(*(lookup(ctx, platform="teams", conversation=f"warm-{i}") for i in range(5)))
    refs = [f"ref-{i}" for i in range(8)]
    await asyncio.gather(*(remember(ctx, platform="teams", conversation=CHANNEL, reference=r) for r in refs))
    [row] = await rows(ctx)
    assert row.reference in refs
    assert await lookup(ctx, platform="teams", conversation=CHANNEL) == row.reference


@pytest.mark.parametrize(
    ("platform", "conversation", "reference"),
    [("", CHANNEL, "r"), ("teams", "", "r"), ("teams", "x" * 301, "r"), ("p" * 17, CHANNEL, "r"),
     ("teams", CHANNEL, "")],
)
async def test_bad_input_is_refused_and_nothing_is_stored(ctx: Context, platform: str, conversation: str,
                                                          reference: str):
    with pytest.raises(ValueError):
        await remember(ctx, platform=platform, conversation=conversation, reference=reference)
    assert await rows(ctx) == []
