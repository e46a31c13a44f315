"""The entry points faces used before `handlers.inputs`: kept only while the faces move over."""

from __future__ import annotations

from handlers.context import Context
from handlers.inputs import Tap, Typed, handle
from handlers.messages import Outcome
from handlers.ports import Actor, Where


async def dispatch(
    ctx: Context, actor: Actor, where: Where, *, action: str, value: str, fields: dict[str, str] | None = None
) -> Outcome:
    """`handle(Tap.parse(action, value, fields))`."""
    outcome = await handle(ctx, actor, where, Tap.parse(action, value, fields))
    assert outcome is not None
    return outcome


async def typed_reply(ctx: Context, actor: Actor, text: str) -> Outcome | None:
    """`handle(Typed(text))`."""
    return await handle(ctx, actor, Where(conversation="", kind="dm"), Typed(text))
