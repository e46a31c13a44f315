"""The console surface: what `carry_out` prints in the terminal."""

from __future__ import annotations

from bot.console.surface import ConsoleSurface
from handlers.messages import Form, Message, Post, Text
from handlers.ports import Where


async def no_form(form: Form) -> None:
    raise AssertionError("no form here")


def console(lines: list[str]) -> ConsoleSurface:
    return ConsoleSurface(Where("console:#general", "channel"), lines.append, lambda _m: None, no_form)


async def test_a_reply_that_repeats_the_redrawn_card_is_printed_once():
    lines: list[str] = []
    s = console(lines)
    card = Message((Text("Kept: 4"),), "Kept: 4")
    assert await s.redraw(card)
    await s.reply(Message((Text("Kept: 4"),), "Kept: 4"))
    await s.reply(Message((Text("Thanks"),), "Thanks"))
    assert len(lines) == 2 and "Kept: 4" in lines[0] and "Thanks" in lines[1]


async def test_a_chairs_card_is_posted_under_a_ref_of_its_own():
    sent = await console([]).post(Post(Message((Text("chair"),), "chair"), chair_id=7))
    assert sent.ref == "console-chair-7" and sent.conversation == "console:#general"
