"""Every card the Teams face renders validates against the official Adaptive Card 1.5 schema."""

import base64
import io
import json

import pytest

from bot.teams.cards import CHART_MAX_BYTES, read_payload, render_form, render_message, shrink_png
from handlers.messages import (
    Actions,
    Button,
    Chart,
    Divider,
    Facts,
    Field,
    Form,
    Message,
    Notice,
    Option,
    Question,
    Text,
)
from tests.teams.conftest import assert_valid_card


def checkin() -> Message:
    mood = tuple(Button(str(n), "checkin.mood", f"7:{n}", selected=(n == 4)) for n in range(1, 6))
    driver = tuple(Button(str(n), "checkin.driver", f"7:{n}") for n in range(1, 6))
    return Message(
        blocks=(
            Text("Weekly check-in", "heading"),
            Question("How do you feel about work this week?", mood, "Very bad", "Very good"),
            Question("This week I knew how my work affected our clients.", driver, "Disagree", "Agree"),
            Actions((Button("Add a comment", "checkin.comment", "7"),)),
            Text("[click](https://evil.example) <!channel> **bold**", "quote"),
            Notice("Saved", "success"),
            Divider(),
            Text("Answers are anonymous.", "muted"),
        ),
        fallback="Weekly check-in",
        locale="es",
    )


def test_checkin_card_is_valid_and_mood_buttons_ascend():
    card = render_message(checkin())
    assert_valid_card(card)
    assert card["version"] == "1.5"
    action_sets = [b for b in card["body"] if b["type"] == "ActionSet"]
    mood = action_sets[0]["actions"]
    assert [a["type"] for a in mood] == ["Action.Execute"] * 5
    assert [a["data"]["value"] for a in mood] == [f"7:{n}" for n in range(1, 6)]
    assert mood[3]["title"].startswith("✓") and mood[3]["style"] == "positive"


def test_user_words_are_never_markdown():
    card = render_message(checkin())
    dumped = json.dumps(card)
    assert '"type": "TextBlock"' not in dumped  # only RichTextBlock/TextRun, shown as typed
    shown = json.dumps(card, ensure_ascii=False)
    assert "[click](https://evil.example)" in shown.replace("\u2060", "")  # the words, as typed
    assert "https://evil.example" not in shown  # a word joiner breaks the URL shape: Teams links nothing


def test_comment_form_has_a_2000_character_text_input():
    form = Form(
        title="Your comment",
        action="checkin.comment.submit",
        value="7",
        fields=(Field("comment", "Comment", kind="multiline", max_length=2000, placeholder="Anonymous"),),
        submit_label="Send",
        intro="Only the team sees it, without your name.",
    )
    card = render_form(form, locale="es")
    assert_valid_card(card)
    text = next(b for b in card["body"] if b["type"] == "Input.Text")
    assert text["maxLength"] == 2000 and text["isMultiline"] is True


def test_impact_form_with_a_select_is_valid():
    form = Form(
        title="Client impact",
        action="chair.impact.submit",
        value="3",
        fields=(
            Field("effect", "For the client", kind="select", required=True, options=(
                Option("Better", "better"), Option("Worse", "worse"), Option("We don't know", "unknown"))),
            Field("who", "Who is affected", max_length=200),
            Field("note", "Note", kind="multiline", max_length=1000),
        ),
        submit_label="Add",
    )
    assert_valid_card(render_form(form))


def chart_png() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3), dpi=110)
    ax.plot(range(12), [3, 3.2, 3.5, 3.1, 4, 4.2, 3.9, 3.7, 3.8, 4.1, 4.4, 4.0])
    ax.fill_between(range(12), 1, [3, 3.2, 3.5, 3.1, 4, 4.2, 3.9, 3.7, 3.8, 4.1, 4.4, 4.0], alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def test_report_card_with_chart_image_is_valid_and_small():
    png = chart_png()
    message = Message(
        blocks=(
            Text("soporte", "heading"),
            Facts((("Participation", "83 %"), ("Mood", "3,9"))),
            Chart("Mood", ("W1", "W2"), (3.0, None), png=png, alt_text="Mood trend"),
        ),
        fallback="report",
    )
    card = render_message(message)
    assert_valid_card(card)
    image = next(b for b in card["body"] if b["type"] == "Image")
    assert image["url"].startswith("data:image/png;base64,")
    shown = base64.b64decode(image["url"].split(",", 1)[1])
    assert len(shown) <= max(CHART_MAX_BYTES, len(shrink_png(png)))
    assert len(shown) <= len(png)


def test_chart_without_image_is_a_sparkline():
    card = render_message(Message((Chart("Mood", ("a", "b", "c"), (1.0, None, 5.0)),), "x"))
    assert_valid_card(card)
    assert "▁·█" in json.dumps(card, ensure_ascii=False)


def test_reply_is_shown_above_the_refreshed_card():
    reply = Message((Notice("Thanks, saved"),), "Thanks, saved")
    card = render_message(checkin(), before=reply)
    assert_valid_card(card)
    assert card["body"][0]["inlines"][0]["text"] == "Thanks, saved"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"action": "checkin.mood", "value": "7:3"}, ("checkin.mood", "7:3", {})),
        (
            {"action": "chair.impact.submit", "value": "3", "field.effect": "worse", "field.who": "retail"},
            ("chair.impact.submit", "3", {"effect": "worse", "who": "retail"}),
        ),
        ({"value": "1"}, None),
        ("checkin.mood", None),
        ({"action": ["x"], "value": "1"}, None),
    ],
)
def test_payloads_of_our_cards_are_read_back(data, expected):
    assert read_payload(data) == expected
