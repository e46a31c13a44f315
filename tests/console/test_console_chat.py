"""The console face end to end in-process: a member answers by number, a leader reads the trend."""

from __future__ import annotations

from sqlmodel import select

from bot.console.repl import ConsoleChat
from handlers.checkins import open_round
from handlers.ports import Actor
from storage.models import Delivery, Response


class Script:
    """Lines typed at the prompt, and everything the console printed."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.out: list[str] = []

    async def read(self, prompt: str) -> str | None:
        self.out.append(prompt)
        return self.lines.pop(0) if self.lines else None

    def write(self, text: str) -> None:
        self.out.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.out)


async def _deliver(ctx) -> int:
    opened = await open_round(ctx, team_name="soporte")
    async with ctx.store.session() as session:
        for d in (await session.exec(select(Delivery))).all():
            d.status = "sent"
        await session.commit()
    return opened.round_id


async def chat(ctx, user: str, *lines: str) -> Script:
    script = Script(*lines)
    await ConsoleChat(ctx, Actor(platform="console", user_id=user), write=script.write, read=script.read).run()
    return script


async def test_member_sees_delivered_checkin_and_answers_by_number(ctx):
    await _deliver(ctx)
    script = await chat(ctx, "ana", "4", "5", "", "Todo bien por aquí")
    assert "¿Cómo te sientes en el trabajo esta semana?" in script.text
    assert "[1] 😞 Muy mal" in script.text and "[5] 😄 Muy bien" in script.text
    # Each answer is carried out like any tap, but the card is not printed again between questions.
    assert script.text.count("[5] 😄 Muy bien") == 1
    async with ctx.store.session() as session:
        response = (await session.exec(select(Response))).one()
    assert (response.mood, response.driver_score, response.comment) == (4, 5, "Todo bien por aquí")


async def test_answered_checkin_is_not_shown_again(ctx):
    await _deliver(ctx)
    await chat(ctx, "ana", "3", "")
    script = await chat(ctx, "ana", "/inbox")
    assert "¿Cómo te sientes" not in script.text


async def test_empty_chair_in_the_console_takes_an_impact_and_closes(ctx):
    script = await chat(ctx, "bea", "/empty-chair Precios 2027", "a", "4", "clientes pyme", "hay que preguntar", "b")
    assert "¿Cómo afecta esta decisión a nuestros clientes?" in script.text
    assert "No lo sabemos" in script.text
    assert "☐ Averiguar: clientes pyme · hay que preguntar" in script.text


async def test_non_leader_asking_for_the_report_sees_no_figure(ctx):
    await _deliver(ctx)
    script = await chat(ctx, "ana", "", "", "/team-pulse soporte")
    after = script.text.split("/pulse me|pause")[-1]
    assert "quienes lideran" in after
    assert "%" not in after and "Participación" not in after
