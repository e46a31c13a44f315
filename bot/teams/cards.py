"""Neutral messages → Adaptive Cards 1.5, and card payloads back to (action, value, fields).

Every button is an `Action.Execute` (Universal Actions) whose `verb` is the neutral action and
whose `data` carries the neutral action and value, so Teams sends an `adaptiveCard/action`
invoke and the card can be refreshed in place. User text goes into `RichTextBlock`/`TextRun`,
which Teams never reads as markdown: a comment cannot hide a link or fake formatting, and
URL shapes are broken by an invisible word joiner (`handlers.safe_text.unlink`).
"""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

from handlers.messages import (
    Actions,
    Block,
    Button,
    Chart,
    Divider,
    Facts,
    Field,
    Form,
    Link,
    Message,
    Notice,
    Question,
    Text,
    sparkline,
)
from handlers.safe_text import unlink

logger = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
# Teams refuses messages above ~28 KB; a chart bigger than this is re-encoded with a palette.
CHART_MAX_BYTES = 16_000
# The keys of our own payload inside Action.Execute/Action.Submit data; inputs use `field.<id>`.
ACTION_KEY = "action"
VALUE_KEY = "value"
FIELD_PREFIX = "field."

_NOTICE_COLORS = {"info": "Default", "success": "Good", "warning": "Warning", "error": "Attention"}
_BUTTON_STYLES = {"primary": "positive", "danger": "destructive"}


def _run(text: str, **style: Any) -> dict[str, Any]:
    # Teams clients still turn URL-shaped text into links on display: break those shapes.
    return {"type": "TextRun", "text": unlink(text), **style}


def _rich(text: str, *, separator: bool = False, **style: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "RichTextBlock", "inlines": [_run(text, **style)]}
    if separator:
        block["separator"] = True
    return block


def _text(block: Text) -> dict[str, Any]:
    match block.emphasis:
        case "heading":
            return _rich(block.text, weight="Bolder", size="Medium")
        case "strong":
            return _rich(block.text, weight="Bolder")
        case "muted":
            return _rich(block.text, isSubtle=True, size="Small")
        case "quote":
            # A user's own words: set apart, italic, never interpreted.
            return {
                "type": "Container",
                "style": "emphasis",
                "items": [_rich(block.text, italic=True)],
            }
        case _:
            return _rich(block.text)


def _action(button: Button) -> dict[str, Any]:
    title = f"✓ {button.label}" if button.selected else button.label
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": button.action,
        "data": {ACTION_KEY: button.action, VALUE_KEY: button.value},
    }
    style = "positive" if button.selected else _BUTTON_STYLES.get(button.style or "")
    if style:
        action["style"] = style
    return action


def _question(block: Question) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [_rich(block.prompt, weight="Bolder")]
    # Buttons stay in the order given: scales go worst first, left to right.
    out.append({"type": "ActionSet", "actions": [_action(b) for b in block.buttons]})
    if block.low_label or block.high_label:
        out.append(
            {
                "type": "ColumnSet",
                "spacing": "None",
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [_rich(block.low_label, isSubtle=True, size="Small")],
                    },
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [
                            {
                                **_rich(block.high_label, isSubtle=True, size="Small"),
                                "horizontalAlignment": "Right",
                            }
                        ],
                    },
                ],
            }
        )
    return out


def _facts(block: Facts) -> dict[str, Any]:
    # Two columns of plain runs instead of a FactSet: FactSet values go through markdown.
    rows = [
        {
            "type": "ColumnSet",
            "spacing": "Small",
            "columns": [
                {"type": "Column", "width": "stretch", "items": [_rich(label, weight="Bolder")]},
                {"type": "Column", "width": "auto", "items": [_rich(value)]},
            ],
        }
        for label, value in block.items
    ]
    return {"type": "Container", "items": rows or [_rich("")]}


def shrink_png(png: bytes, limit: int = CHART_MAX_BYTES) -> bytes:
    """The chart as small as Teams needs: a palette PNG when the full-colour one is too big."""
    if len(png) <= limit:
        return png
    try:
        from PIL import Image  # Pillow comes with matplotlib

        with Image.open(io.BytesIO(png)) as img:
            small = img.convert("RGB").quantize(colors=32)
            buf = io.BytesIO()
            small.save(buf, format="PNG", optimize=True)
        smaller = buf.getvalue()
    except Exception:  # a chart that cannot be re-encoded is still shown as it is
        logger.warning("chart could not be re-encoded", exc_info=True)
        return png
    return smaller if len(smaller) < len(png) else png


def _chart(block: Chart) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [_rich(block.title, weight="Bolder")]
    if block.png:
        data = base64.b64encode(shrink_png(block.png)).decode("ascii")
        out.append(
            {
                "type": "Image",
                "url": f"data:image/png;base64,{data}",
                "altText": block.alt_text or block.title,
                "size": "Stretch",
            }
        )
    else:
        out.append(_rich(sparkline(block.points, block.low, block.high), fontType="Monospace"))
    return out


def _block(block: Block) -> list[dict[str, Any]]:
    match block:
        case Text():
            return [_text(block)]
        case Question():
            return _question(block)
        case Actions(buttons=buttons):
            return [{"type": "ActionSet", "actions": [_action(b) for b in buttons]}]
        case Facts():
            return [_facts(block)]
        case Chart():
            return _chart(block)
        case Notice(text=text, level=level):
            return [_rich(text, color=_NOTICE_COLORS[level], weight="Bolder")]
        case Divider():
            return [{"type": "Container", "separator": True, "spacing": "Medium", "items": []}]
        case Link(label=label, url=url):
            return [{"type": "ActionSet", "actions": [{"type": "Action.OpenUrl", "title": label, "url": url}]}]
    raise TypeError(f"not a neutral block: {block!r}")


def _card(body: list[dict[str, Any]], fallback: str, locale: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": VERSION,
        "lang": locale,
        "fallbackText": fallback,
        "body": body,
    }


def render_message(message: Message, *, before: Message | None = None) -> dict[str, Any]:
    """A neutral message as an Adaptive Card; `before` (a short reply) is shown on top of it."""
    body: list[dict[str, Any]] = []
    fallback = message.fallback
    if before is not None:
        for block in before.blocks:
            body.extend(_block(block))
        fallback = f"{before.fallback}\n{fallback}" if before.fallback else fallback
    for block in message.blocks:
        body.extend(_block(block))
    return _card(body, fallback, message.locale)


def _input(field: Field) -> dict[str, Any]:
    element: dict[str, Any] = {"id": FIELD_PREFIX + field.id, "label": field.label}
    if field.kind == "select":
        element.update(
            type="Input.ChoiceSet",
            style="compact",
            choices=[{"title": o.label, "value": o.value} for o in field.options],
        )
        if field.initial:
            element["value"] = field.initial
    else:
        element["type"] = "Input.Text"
        if field.kind == "multiline":
            element["isMultiline"] = True
        if field.max_length:  # the core's limit (`checkins.COMMENT_LIMIT`, `chairs.NOTE_LIMIT`), a hint here
            element["maxLength"] = field.max_length
        if field.placeholder:
            element["placeholder"] = field.placeholder
        if field.initial:
            element["value"] = field.initial
    if field.required:
        element["isRequired"] = True
    return element


def render_form(form: Form, *, locale: str = "en") -> dict[str, Any]:
    """A form as a card with inputs and one `Action.Execute` submit (shown to the one who tapped)."""
    body: list[dict[str, Any]] = [_rich(form.title, weight="Bolder", size="Medium")]
    if form.intro:
        body.append(_rich(form.intro))
    body.extend(_input(f) for f in form.fields)
    submit = {
        "type": "Action.Execute",
        "title": form.submit_label,
        "verb": form.action,
        "style": "positive",
        "data": {ACTION_KEY: form.action, VALUE_KEY: form.value},
    }
    body.append({"type": "ActionSet", "actions": [submit]})
    return _card(body, form.title, locale)


def read_payload(data: Any) -> tuple[str, str, dict[str, str]] | None:
    """(action, value, fields) from the data of our own card action, or None when it is not ours.

    Action.Execute sends it as `value.action.data`, Action.Submit as the message's `value`; both
    merge the card's inputs (`field.<id>`) into it.
    """
    if not isinstance(data, dict):
        return None
    action, value = data.get(ACTION_KEY), data.get(VALUE_KEY)
    if not isinstance(action, str) or not action or not isinstance(value, str | int):
        return None
    fields = {
        key.removeprefix(FIELD_PREFIX): str(val)
        for key, val in data.items()
        if isinstance(key, str) and key.startswith(FIELD_PREFIX) and isinstance(val, str | int | float)
    }
    return action, str(value), fields
