"""Helpers of the console tests: a scripted prompt, a chat run through it, a delivered round."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel import select

from bot.console.repl import ConsoleChat
from handlers.checkins import open_round
from handlers.context import Context
from handlers.ports import Actor
from storage.models import Delivery

Step = str | Callable[[], Awaitable[None]]


class Script:
    """Lines typed at the prompt (or things done to the store between two lines), and the output."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.out: list[str] = []

    async def read(self, prompt: str) -> str | None:
        self.out.append(prompt)
        while self.steps and not isinstance(self.steps[0], str):
            await self.steps.pop(0)()  # type: ignore[operator]
        return self.steps.pop(0) if self.steps else None  # type: ignore[return-value]

    def write(self, line: str) -> None:
        self.out.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.out)


async def chat(ctx: Context, user: str, *steps: Step) -> Script:
    """A console session of `user` on `ctx` that types `steps` and then quits; what it printed."""
    script = Script(*steps)
    await ConsoleChat(ctx, Actor(platform="console", user_id=user), write=script.write, read=script.read).run()
    return script


async def deliver_round(ctx: Context) -> int:
    """Open soporte's round and mark every delivery sent (the console reads its inbox from them)."""
    opened = await open_round(ctx, team_name="soporte")
    async with ctx.store.session() as session:
        for d in (await session.exec(select(Delivery))).all():
            d.status = "sent"
        await session.commit()
    return opened.round_id
