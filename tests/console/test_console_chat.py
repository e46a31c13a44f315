"""The console face end to end in-process: a member answers by number, a leader reads the trend."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Response
from tests.console.support import chat, deliver_round


async def test_member_sees_delivered_checkin_and_answers_by_number(ctx):
    await deliver_round(ctx)
    script = await chat(ctx, "ana", "4", "5", "", "Todo bien por aquí")
    assert "¿Cómo te sientes en el trabajo esta semana?" in script.text
    assert "[1] 😞 Muy mal" in script.text and "[5] 😄 Muy bien" in script.text
    # Each answer is carried out like any tap, but the card is not printed again between questions.
    assert script.text.count("[5] 😄 Muy bien") == 1
    async with ctx.store.session() as session:
        response = (await session.exec(select(Response))).one()
    assert (response.mood, response.driver_score, response.comment) == (4, 5, "Todo bien por aquí")


async def test_answered_checkin_is_not_shown_again(ctx):
    await deliver_round(ctx)
    await chat(ctx, "ana", "3", "")
    script = await chat(ctx, "ana", "/inbox")
    assert "¿Cómo te sientes" not in script.text


async def test_empty_chair_in_the_console_takes_an_impact_and_closes(ctx):
    script = await chat(ctx, "bea", "/empty-chair Precios 2027", "a", "4", "clientes pyme", "hay que preguntar", "b")
    assert "¿Cómo afecta esta decisión a nuestros clientes?" in script.text
    assert "No lo sabemos" in script.text
    assert "☐ Averiguar: clientes pyme · hay que preguntar" in script.text


async def test_non_leader_asking_for_the_report_sees_no_figure(ctx):
    await deliver_round(ctx)
    script = await chat(ctx, "ana", "", "", "/team-pulse soporte")
    after = script.text.split("/pulse me|pause")[-1]
    assert "quienes lideran" in after
    assert "%" not in after and "Participación" not in after
