"""Follow-ups in the console: a "we don't know" typed at the prompt gets its owner, the clock's
reminders show once each in /inbox (two, never a third), "I'll find out" and Resolve by letter from
`/empty-chair seguimientos`, the resolution reprints the chair's card and "Now we know", `/pulse me`
lists one's own, the report counts it and `forget` hands it back."""

from __future__ import annotations

from sqlmodel import select

from bot.console.messenger import ConsoleMessenger
from handlers.ports import Actor
from handlers.privacy import forget
from handlers.reports import build_report
from schedules.followups import send_followup_reminders
from storage.models import EmptyChair, Followup, Team
from tests.console.support import chat


async def _chair_of_soporte(ctx) -> None:
    """Ana's chair with her "we don't know", counted as soporte's (as the demo's console chairs are)."""
    await chat(ctx, "ana", "/empty-chair Precios 2027", "a", "4", "clientes pyme", "hay que preguntar", "b")
    async with ctx.store.session() as session:
        team = (await session.exec(select(Team))).one()
        chair = (await session.exec(select(EmptyChair))).one()
        chair.team_id = team.id
        await session.commit()


async def _owner(ctx) -> str | None:
    async with ctx.store.session() as session:
        return (await session.exec(select(Followup))).one().owner


async def test_a_console_follow_up_is_reminded_in_the_inbox_taken_over_and_resolved(ctx):
    ctx.messengers["console"] = ConsoleMessenger()
    await _chair_of_soporte(ctx)
    assert await _owner(ctx) == "console:ana"

    ctx.clock.move(days=7)
    assert await send_followup_reminders(ctx) == 1
    first = await chat(ctx, "ana", "/inbox")
    assert "Vence un seguimiento" in first.text and "clientes pyme" in first.text
    assert "Vence un seguimiento" not in (await chat(ctx, "ana", "/inbox")).text  # shown once
    ctx.clock.move(days=7)
    assert await send_followup_reminders(ctx) == 1
    assert "último recordatorio" in (await chat(ctx, "ana", "/inbox")).text
    ctx.clock.move(days=7)
    assert await send_followup_reminders(ctx) == 0  # no third
    assert "Vence un seguimiento" not in (await chat(ctx, "ana", "/inbox")).text

    mine = await chat(ctx, "ana", "/pulse me")
    assert "TUS SEGUIMIENTOS ABIERTOS" in mine.text and "clientes pyme" in mine.text

    taken = await chat(ctx, "bea", "/empty-chair seguimientos", "a")
    listed = taken.text.lower().split("seguimientos abiertos", 1)[1]
    assert "otra persona" in listed and "ana" not in listed  # the owner is never named
    assert "Ahora es tuyo" in taken.text
    assert await _owner(ctx) == "console:bea"

    resolved = await chat(ctx, "bea", "/empty-chair seguimientos", "a", "1", "A las pymes les gusta")
    assert "¿Qué averiguaste?" in resolved.text
    assert "Ahora lo sabemos: clientes pyme · hay que preguntar" in resolved.text
    assert "ahora lo sabemos: A las pymes les gusta" in resolved.text  # the chair's card, reprinted
    assert "clientes pyme" not in (await chat(ctx, "bea", "/pulse me")).text

    report = (await build_report(ctx, teams=["soporte"], weeks=4)).teams[0]
    assert (report.followups.open, report.followups.resolved) == (0, 1)
    assert report.followups.median_days == 21


async def test_forget_in_the_console_hands_the_follow_up_back_and_anyone_can_take_it(ctx):
    ctx.messengers["console"] = ConsoleMessenger()
    await _chair_of_soporte(ctx)
    await forget(ctx, Actor(platform="console", user_id="ana"))
    assert await _owner(ctx) is None
    listed = await chat(ctx, "carlos", "/empty-chair seguimientos", "a")
    assert "nadie todavía" in listed.text and "Ahora es tuyo" in listed.text
    assert await _owner(ctx) == "console:carlos"
