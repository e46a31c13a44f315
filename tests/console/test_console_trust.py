"""The console face, tried with odd numbers, a store that breaks underneath, and `/pulse privacy`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from handlers.i18n import t
from tests.console.support import chat, deliver_round


def drop(ctx, table: str) -> Callable[[], Awaitable[None]]:
    """Break the store under the bot: a table disappears (a bad migration, a restore gone wrong)."""
    async def run() -> None:
        cascade = "" if ctx.store.is_sqlite else " CASCADE"
        async with ctx.store.engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE {table}{cascade}"))
    return run


APOLOGY_ES = "Lo siento, algo ha fallado por mi parte y no se ha completado. Vuelve a intentarlo en un momento."
APOLOGY_EN = "Sorry, something went wrong on my side and that was not completed. Please try again in a moment."


async def test_a_superscript_two_is_not_a_number_of_weeks_and_gets_an_answer(ctx):
    script = await chat(ctx, "lead", "/team-pulse soporte ²", "/team-pulse soporte --5", "/team-pulse soporte 99999")
    after = script.text.split("/quit.")[-1]
    assert after.count("soporte ²") == 1 and "soporte --5" in after  # read as (unknown) team names
    assert "Traceback" not in after and APOLOGY_EN not in after
    assert "between 1 and 104" in after  # 99999 weeks: said to be out of range, not an error


async def test_an_unexpected_failure_of_a_command_is_answered_and_logged_with_its_traceback(ctx, caplog):
    caplog.set_level(logging.ERROR)
    # (`/pulse me` reads the member's follow-ups beside the chairs, so the next command is another.)
    script = await chat(ctx, "ana", drop(ctx, "empty_chair"), "/empty-chair Precios", "/pulse privacy")
    assert APOLOGY_ES in script.text
    assert t("privacy.title", "es") in script.text  # the conversation goes on
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert failures and "empty_chair" in str(failures[0].exc_info[1])


async def test_an_unexpected_failure_of_a_tap_is_answered_in_the_members_language(ctx):
    await chat(ctx, "bea", "/pulse lang en")
    # The chair's card shows its buttons: (a) add an impact, (b) close.
    script = await chat(ctx, "bea", "/empty-chair Precios", drop(ctx, "empty_chair"), "b")
    assert APOLOGY_EN in script.text


async def test_an_unexpected_failure_of_a_typed_reply_is_answered(ctx):
    await deliver_round(ctx)
    # Enter skips each question of the open check-in; then the store breaks; then a comment is typed.
    script = await chat(ctx, "ana", "", "", drop(ctx, "response"), "Todo bien")
    assert APOLOGY_ES in script.text


async def test_a_typed_comment_that_is_refused_gets_its_reason_not_a_crash(ctx):
    from handlers.checkins import COMMENT_LIMIT

    await deliver_round(ctx)
    script = await chat(ctx, "ana", "", "", "x" * (COMMENT_LIMIT + 1))
    assert f"el límite es {COMMENT_LIMIT}" in script.text and APOLOGY_ES not in script.text


async def test_pulse_privacy_tells_a_member_what_leaders_and_the_workspace_can_see_in_spanish(make_ctx):
    ctx = await make_ctx({"pulse": {"min_group_size": 7, "default_locale": "es"},
                          "teams": [{"name": "soporte", "leaders": ["lead"], "members": ["ana"]}]})
    notice = (await chat(ctx, "ana", "/pulse privacy")).text.split("/quit.")[-1]
    assert "Qué ven quienes lideran" in notice and "al menos 7 personas" in notice
    assert "rondas ya cerradas" in notice and "cuántas personas han respondido" in notice
    assert "sin nombres" in notice and "Quién respondió qué" in notice
    assert "eDiscovery de Microsoft Teams" in notice and "Discovery de Slack Enterprise Grid" in notice
    assert "los botones que pulsas y los comentarios que escribes aquí" in notice
    assert "a quien lidera nunca se le dice quién lo escribió" in notice.lower()
    assert "/pulse forget" in notice and "/pulse pause" in notice


async def test_pulse_privacy_in_english_and_listed_in_the_help(make_ctx):
    ctx = await make_ctx({"pulse": {"min_group_size": 6, "default_locale": "en"},
                          "teams": [{"name": "support", "leaders": ["lead"], "members": ["bob"]}]})
    script = await chat(ctx, "bob", "/pulse privacy", "/pulse help")
    notice = script.text.split("/quit.")[-1]
    assert "WHAT LEADERS SEE" in notice and "at least 6 people" in notice
    assert "only from rounds that have closed" in notice.lower()
    assert "Microsoft Teams eDiscovery" in notice and "the buttons you tap and the comments you type here" in notice
    assert "The leader is never told who wrote it" in notice
    assert "/pulse forget" in notice and "/pulse pause" in notice
    assert "privacy: what leaders and your workspace can see" in notice  # /pulse help
