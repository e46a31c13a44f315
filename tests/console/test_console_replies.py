"""Anonymous replies in the console: the leader presses Reply under a comment, the author reads it
in their inbox and answers anonymously, the leader reads "a member of soporte"; nobody else sees it."""

from __future__ import annotations

import re

from bot.console.repl import ConsoleChat
from handlers.closing import close_team_round
from handlers.inputs import Tap, handle
from handlers.ports import Actor, Where
from handlers.replies import batch_end
from tests.console.support import Script, chat, deliver_round

MEMBERS = ["ana", "bea", "carlos", "dani", "eva"]  # the default test team; min group size 3


async def _closed_round(ctx) -> None:
    rid = await deliver_round(ctx)
    for n, user in enumerate(MEMBERS):
        actor, dm = Actor(platform="console", user_id=user), Where(kind="dm")
        await handle(ctx, actor, dm, Tap.parse("checkin.mood", f"{rid}:{1 + n % 5}"))
        await handle(ctx, actor, dm, Tap.parse("checkin.comment.submit", str(rid), {"comment": f"palabras de {user}"}))
    await close_team_round(ctx, team_name="soporte")


def press_beside(script: Script, comment: str, *then: str):
    """A step that reads the report printed so far and types the letter of the Reply under `comment`."""

    async def step() -> None:
        match = re.search(rf"│ {comment}\n\s+\[([a-z])\]", script.text)
        assert match, script.text
        script.steps[0:0] = [match.group(1), *then]

    return step


async def test_a_console_leader_and_author_talk_without_the_leader_learning_who(ctx):
    await _closed_round(ctx)
    script = Script("/team-pulse soporte")
    script.steps.append(press_beside(script, "palabras de dani", "¿Qué podemos cambiar?"))
    await ConsoleChat(ctx, Actor(platform="console", user_id="lead"), write=script.write, read=script.read).run()
    assert "next batch" in script.text  # the leader reads English (the default), the team Spanish

    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    for other in ("ana", "bea", "carlos", "eva"):
        assert "¿Qué podemos cambiar?" not in (await chat(ctx, other, "/inbox")).text
    author = await chat(ctx, "dani", "/inbox", "a", "Menos reuniones, por favor")
    assert "¿Qué podemos cambiar?" in author.text and "palabras de dani" in author.text
    assert "Responder de forma anónima" in author.text and "Terminar esta conversación" in author.text
    assert "¿Qué podemos cambiar?" not in (await chat(ctx, "dani", "/inbox")).text  # shown once

    ctx.clock.at = batch_end(ctx.clock.now(), 15)
    leader = await chat(ctx, "lead", "/inbox")
    assert "A member of soporte" in leader.text and "Menos reuniones, por favor" in leader.text
    assert "dani" not in leader.text.replace("palabras de dani", "")
