"""Conversation references: how a face reaches a channel or chat, as opaque text per platform."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ConversationRef


async def conversation_ref(session: AsyncSession, *, platform: str, conversation: str) -> ConversationRef | None:
    """The stored reference row of the conversation, if one was remembered."""
    stmt = select(ConversationRef).where(
        ConversationRef.platform == platform, ConversationRef.conversation == conversation
    )
    return (await session.exec(stmt)).first()


def add_conversation_ref(
    session: AsyncSession, *, platform: str, conversation: str, reference: str, at: datetime
) -> None:
    """A new reference row (added, not flushed: unique per platform and conversation)."""
    session.add(ConversationRef(platform=platform, conversation=conversation, reference=reference, updated_at=at))


def replace_reference(session: AsyncSession, *, row: ConversationRef, reference: str, at: datetime) -> None:
    """Give a stored row its new reference (the caller commits)."""
    row.reference = reference
    row.updated_at = at
    session.add(row)
