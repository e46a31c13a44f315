"""Block Kit rendering: escaping of user words, Slack's limits, modals that carry their action."""

from __future__ import annotations

from bot.slack.blocks import (
    MAX_BLOCKS,
    action_of,
    escape_cut,
    form_fields,
    form_metadata,
    render_message,
    render_modal,
)
from handlers.messages import (
    Actions,
    Button,
    Chart,
    Facts,
    Field,
    Form,
    Message,
    Notice,
    Option,
    Question,
    Text,
)


def test_user_words_cannot_ping_mention_or_hide_a_link():
    rendered = render_message(Message((Text("<!channel> <@U1> <https://x.test|ok> a&b", "quote"),), "x"))
    text = rendered["blocks"][0]["text"]["text"]
    assert text == "> &lt;!channel&gt; &lt;@U1&gt; &lt;https:\u2060//x\u2060.test|ok&gt; a&amp;b"
    assert rendered["blocks"][0]["text"]["verbatim"] is True


def test_long_texts_are_cut_within_the_section_limit_without_breaking_an_entity():
    text = "&" * 1000 + "x" * 5000
    out = escape_cut(text, 3000)
    assert len(out) <= 3000 and out.endswith("…")
    assert not out[:-1].endswith(("&", "&a", "&am", "&amp"[:3]))
    assert out.count("&amp;") == 599
    section = render_message(Message((Text("y" * 10_000),), "f"))["blocks"][0]
    assert len(section["text"]["text"]) <= 3000


def test_button_labels_are_cut_to_75_characters_and_action_ids_are_unique():
    buttons = tuple(Button("label " * 30, "checkin.mood", f"9:{n}") for n in range(1, 6))
    blocks = render_message(Message((Question("How?", buttons),), "f"))["blocks"]
    elements = blocks[1]["elements"]
    assert all(len(e["text"]["text"]) <= 75 for e in elements)
    assert len({e["action_id"] for e in elements}) == 5
    assert {action_of(e["action_id"]) for e in elements} == {"checkin.mood"}
    assert [e["value"] for e in elements] == [f"9:{n}" for n in range(1, 6)]


def test_a_scale_drawn_again_shows_the_new_choice_and_keeps_action_ids_unique_in_the_message():
    def scale(chosen: int) -> Question:
        return Question("How?", tuple(Button(str(n), "checkin.mood", f"9:{n}", selected=n == chosen)
                                      for n in range(1, 6)))

    first = render_message(Message((scale(3),), "f"))["blocks"]
    comment = Actions((Button("Comment", "checkin.comment", "9"),))
    again = render_message(Message((scale(4), comment, scale(4)), "f"))["blocks"]
    assert [e.get("style") for e in first[1]["elements"]] == [None, None, "primary", None, None]
    assert [e["text"]["text"] for e in again[1]["elements"] if e.get("style") == "primary"] == ["✓ 4"]
    ids = [e["action_id"] for b in again if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids)) == 11


def test_a_message_never_has_more_than_50_blocks():
    message = Message(tuple(Text(f"line {n}") for n in range(80)), "f")
    assert len(render_message(message)["blocks"]) == MAX_BLOCKS


def test_facts_notices_and_charts_render_as_sections():
    png_chart = Chart("Mood", ("W1", "W2"), (3.0, None), png=b"png")
    blocks = render_message(Message((Facts((("Mood", "3.5"),)), Notice("Saved", "success"), png_chart,
                                     Actions((Button("Close", "chair.close", "1", style="danger"),))), "f"))["blocks"]
    assert blocks[0]["fields"][0]["text"] == "*Mood*\n3.5"
    assert blocks[1]["text"]["text"].startswith("✅")
    assert "`" in blocks[2]["text"]["text"] and blocks[3]["type"] == "context"
    assert blocks[4]["elements"][0]["style"] == "danger"


def test_a_form_becomes_a_modal_that_carries_its_action_and_reads_back():
    form = Form("Add a client impact to the decision", "chair.impact.submit", "7",
                (Field("effect", "Effect", kind="select", required=True,
                       options=(Option("Better", "better"), Option("Worse", "worse"))),
                 Field("note", "Note", kind="multiline", max_length=1000)), "Save")
    view = render_modal(form, locale="es", origin={"c": "C1", "m": "1.2", "k": "channel"})
    assert len(view["title"]["text"]) <= 24 and view["close"]["text"] == "Cancelar"
    assert form_metadata(view) == {"a": "chair.impact.submit", "v": "7", "c": "C1", "m": "1.2", "k": "channel"}
    view["state"] = {"values": {
        "effect": {"effect": {"type": "static_select", "selected_option": {"value": "worse"}}},
        "note": {"note": {"type": "plain_text_input", "value": None}},
    }}
    assert form_fields(view) == {"effect": "worse", "note": ""}
