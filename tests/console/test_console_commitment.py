"""A leader's commitment in the console: the invitation waits in the leader's inbox, the form is
asked field by field, and each member reads the commitment once, in the team's language."""

from __future__ import annotations

from handlers.closing import close_team_round
from handlers.inputs import Tap, handle
from handlers.ports import Actor, Where
from tests.console.support import chat, deliver_round

MEMBERS = ["ana", "bea", "carlos", "dani", "eva"]  # the default test team (Spanish); min group size 3


async def test_a_console_leader_commits_and_each_member_reads_it_once(ctx):
    rid = await deliver_round(ctx)
    for n, user in enumerate(MEMBERS):
        await handle(ctx, Actor(platform="console", user_id=user), Where(kind="dm"),
                     Tap.parse("checkin.mood", f"{rid}:{1 + n % 5}"))
    await close_team_round(ctx, team_name="soporte")

    assert "Elegir un foco" not in (await chat(ctx, "ana", "/inbox")).text  # members are not invited
    # The leader reads their own language (the default, English); the team reads Spanish.
    leader = await chat(ctx, "lead", "/inbox", "a", "5", "Objetivos por escrito cada lunes")
    assert "The pulse of soporte for 2026-W48 is closed" in leader.text
    assert "Pick one focus and tell the team what you will do." in leader.text
    assert "[5] Clarity" in leader.text
    assert "Done: soporte's focus is Clarity" in leader.text
    assert "The pulse of soporte" not in (await chat(ctx, "lead", "/inbox")).text  # shown once

    for user in MEMBERS:
        seen = await chat(ctx, user, "/inbox")
        assert "el foco de tu líder tras el último pulso (2026-W48): Claridad" in seen.text
        assert "Objetivos por escrito cada lunes" in seen.text
        assert "Objetivos por escrito" not in (await chat(ctx, user, "/inbox")).text  # once
