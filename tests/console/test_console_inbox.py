"""`/inbox` with nothing open says so, and when the member's next check-in comes, in their language."""

from __future__ import annotations

import copy

from tests.console.support import chat, deliver_round
from tests.context import DEFAULT_CONFIG


async def test_empty_inbox_in_spanish_names_the_next_checkin(ctx):
    # START is Monday 10:00 in Madrid, this week's opening: the next one is a week later.
    script = await chat(ctx, "ana", "/inbox")
    assert ("Ahora mismo no tienes nada abierto. Tu próximo check-in llega el 30 nov 2026 a las 10:00 "
            "(Europe/Madrid).") in script.text


async def test_empty_inbox_in_english_names_the_next_checkin(make_ctx):
    config = copy.deepcopy(DEFAULT_CONFIG)
    config["teams"][0]["locale"] = "en"
    ctx = await make_ctx(config)
    script = await chat(ctx, "ana", "/inbox")
    assert "Nothing is open for you right now. Your next check-in comes on Nov 30, 2026 at 10:00 (Europe/Madrid)." \
        in script.text


async def test_someone_on_no_team_hears_only_that_nothing_is_open(ctx):
    script = await chat(ctx, "stranger", "/inbox")
    assert "Nothing is open for you right now." in script.text
    assert "next check-in" not in script.text


async def test_an_open_checkin_is_shown_not_the_empty_note(ctx):
    await deliver_round(ctx)
    script = await chat(ctx, "ana", "", "/inbox")
    assert "no tienes nada abierto" not in script.text
    assert script.text.count("¿Cómo te sientes en el trabajo esta semana?") >= 1
