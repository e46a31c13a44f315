"""Where a face can post in a channel or chat: the platform's opaque reference, kept in the store.

A face learns how to reach a conversation from the traffic it receives (on Teams: the service
URL, the tenant and the bot account of a `ConversationReference`). Keeping only that in memory
means a restarted process cannot post to a conversation it has not heard from since (a scheduled
empty chair, an edit of a chair card), so faces remember it here and look it up after a restart.
The reference is opaque text to the core: the face that wrote it is the one that reads it.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from handlers.context import Context
from storage.queries.conversations import add_conversation_ref, conversation_ref, replace_reference

logger = logging.getLogger(__name__)

# The column widths of `ConversationRef`; PostgreSQL refuses longer values, SQLite would not.
_MAX_PLATFORM = 16
_MAX_CONVERSATION = 300


def _check(platform: str, conversation: str) -> None:
    if not platform or len(platform) > _MAX_PLATFORM:
        raise ValueError(f"platform must be 1 to {_MAX_PLATFORM} characters, got {platform!r}")
    if not conversation or len(conversation) > _MAX_CONVERSATION:
        raise ValueError(f"conversation must be 1 to {_MAX_CONVERSATION} characters, got {len(conversation)}")


async def remember(ctx: Context, *, platform: str, conversation: str, reference: str) -> None:
    """Store (or replace) how to reach `conversation` on `platform`.

    Safe when two requests remember the same conversation at once: the one that loses the race
    on the unique key updates the row the other inserted. Writes nothing when the stored
    reference is already this one.
    """
    _check(platform, conversation)
    if not reference:
        raise ValueError("reference must not be empty")
    for attempt in (1, 2):
        try:
            async with ctx.store.session() as session:
                row = await conversation_ref(session, platform=platform, conversation=conversation)
                if row is None:
                    add_conversation_ref(session, platform=platform, conversation=conversation,
                                         reference=reference, at=ctx.clock.now())
                elif row.reference == reference:
                    return
                else:
                    replace_reference(session, row=row, reference=reference, at=ctx.clock.now())
                await session.commit()
                return
        except IntegrityError:
            # Another request inserted the same conversation between our read and our insert;
            # the second attempt finds its row and updates it.
            if attempt == 2:
                raise
            logger.debug("conversation reference inserted concurrently", extra={"platform": platform})


async def lookup(ctx: Context, *, platform: str, conversation: str) -> str | None:
    """The stored reference of `conversation` on `platform`, or None when none was remembered."""
    _check(platform, conversation)
    async with ctx.store.session() as session:
        row = await conversation_ref(session, platform=platform, conversation=conversation)
        return row.reference if row is not None else None
