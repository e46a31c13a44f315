"""Neutral messages → Block Kit (messages, modals) and Block Kit state → plain values.

Every string in a neutral message is plain text (comments, notes, topics and "who" among them),
and is made inert here, so a comment can never ping, mention or link:
- `&`, `<`, `>` are escaped before the text goes into mrkdwn, so `<!channel>`, `<@U…>` and
  `<https://…|label>` are shown, not obeyed
  (https://docs.slack.dev/messaging/formatting-message-text#escaping);
- every mrkdwn text object is `verbatim`, so Slack does not auto-link URLs and channel names or
  parse mentions on its side (https://docs.slack.dev/reference/block-kit/composition-objects/text-object);
- bare URLs are broken with an invisible WORD JOINER (U+2060) after a scheme's `:` and before a
  dot that precedes a letter (`example.com`, `www.x.com`, `bob@x.org`) or starts a dotted quad,
  because Slack's clients also link URL-shaped text on display, in plain_text objects and in the
  notification text, where `verbatim` does not reach. The words read the same; nothing links.
Block Kit limits are kept by truncating (50 blocks a message, 3,000 characters a section, 75 a
button label, 150 a header, 24 a modal title): a long message is cut, never refused by Slack.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any

from handlers.i18n import t
from handlers.messages import (
    Actions,
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

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_BUTTON = 75
MAX_HEADER = 150
MAX_CONTEXT = 2000
MAX_TITLE = 24
MAX_FALLBACK = 3000
MAX_FIELDS = 10
MAX_OPTION = 75
ACTION_SEPARATOR = "~"
FORM_CALLBACK = "pulsebot.form"
_ELLIPSIS = "…"
_NOTICE_ICON = {"info": "ℹ️", "success": "✅", "warning": "⚠️", "error": "⛔"}
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters, and unlink."""
    # Three C passes: `str.translate` with a mapping looks every character up in it (36 µs for a
    # 138-character line against 0.5 µs; a leader's report escapes a lot of text). `&` goes first.
    return unlink(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_cut(text: str, limit: int, *, reserve: int = 0) -> str:
    """Escape `text` and cut it to `limit - reserve` characters without splitting an entity."""
    room = limit - reserve
    escaped = escape(text)
    if len(escaped) <= room:
        return escaped
    out: list[str] = []
    used = 0
    for ch in unlink(text):
        piece = _ESCAPES.get(ch, ch)
        if used + len(piece) > room - 1:  # keep one character for the ellipsis
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + _ELLIPSIS


def cut(text: str, limit: int) -> str:
    """Plain text (no escaping: plain_text objects are not parsed) cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def _plain(text: str, limit: int) -> dict[str, Any]:
    # Not parsed for mentions or markup, but clients still link URL-shaped text: unlinked too.
    return {"type": "plain_text", "text": cut(unlink(text or " "), limit), "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text or " ", "verbatim": True}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(mrkdwn)}


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(mrkdwn)]}


def action_id(action: str, index: int) -> str:
    """Block Kit wants action ids unique in a block; the index suffix is stripped by `action_of`."""
    return f"{action}{ACTION_SEPARATOR}{index}"


def action_of(slack_action_id: str) -> str:
    """The neutral action of a button's `action_id` (the inverse of `action_id`)."""
    return slack_action_id.rsplit(ACTION_SEPARATOR, 1)[0]


def _button(button: Button, index: int) -> dict[str, Any]:
    label = ("✓ " if button.selected else "") + button.label
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(label, MAX_BUTTON),
        "action_id": action_id(button.action, index),
        "value": button.value[:2000],
    }
    style = "primary" if button.selected else button.style
    if style:
        element["style"] = style
    return element


def _buttons(buttons: tuple[Button, ...], offset: int) -> list[dict[str, Any]]:
    # An actions block holds at most 25 elements; the eNPS scale (11) and the mood scale (5) fit.
    return [
        {"type": "actions", "elements": [_button(b, offset + i) for i, b in enumerate(buttons[:25])]}
    ]


def _text(block: Text) -> dict[str, Any]:
    match block.emphasis:
        case "heading":
            return {"type": "header", "text": _plain(block.text, MAX_HEADER)}
        case "strong":
            return _section("*" + escape_cut(block.text, MAX_SECTION, reserve=2) + "*")
        case "muted":
            return _context(escape_cut(block.text, MAX_CONTEXT))
        case "quote":
            quoted = escape_cut(block.text, MAX_SECTION, reserve=len(block.text.splitlines()) * 2 + 2)
            return _section("\n".join("> " + line for line in (quoted.splitlines() or [""])))
        case _:
            return _section(escape_cut(block.text, MAX_SECTION))


def _facts(block: Facts) -> list[dict[str, Any]]:
    out = []
    items = list(block.items)
    for start in range(0, len(items), MAX_FIELDS):
        fields = [
            _mrkdwn("*" + escape_cut(label, 300) + "*\n" + escape_cut(value, 1600))
            for label, value in items[start:start + MAX_FIELDS]
        ]
        out.append({"type": "section", "fields": fields})
    return out


def _chart(block: Chart, locale: str) -> list[dict[str, Any]]:
    line = "*" + escape_cut(block.title, 200) + "*  `" + sparkline(block.points, block.low, block.high) + "`"
    out = [_section(line)]
    if block.png is not None:
        out.append(_context(escape_cut(t("slack.chart_in_dm", locale), MAX_CONTEXT)))
    return out


def _block(block: Any, offset: int, locale: str) -> list[dict[str, Any]]:
    """The Block Kit blocks of one neutral block; its buttons' action ids count on from `offset`."""
    match block:
        case Text():
            return [_text(block)]
        case Question(prompt=prompt, buttons=buttons, low_label=low, high_label=high):
            out = [_section("*" + escape_cut(prompt, MAX_SECTION, reserve=2) + "*"), *_buttons(buttons, offset)]
            if low and high and len(buttons) > 5:
                # Five labelled buttons explain themselves; a bare 0–10 scale needs its anchors.
                out.append(_context(escape_cut(f"{low} ← → {high}", MAX_CONTEXT)))
            return out
        case Actions(buttons=buttons):
            return _buttons(buttons, offset)
        case Facts():
            return _facts(block)
        case Chart():
            return _chart(block, locale)
        case Notice(text=text, level=level):
            return [_section(_NOTICE_ICON.get(level, "") + " " + escape_cut(text, MAX_SECTION, reserve=3))]
        case Divider():
            return [{"type": "divider"}]
        case Link(label=label, url=url):
            # The URL is pulsebot's own; `|`, `<` and `>` would end Slack's link syntax early.
            safe = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
            return [_section(f"<{safe}|{escape_cut(label, 200)}>")]
    return []


# Blocks in pulsebot's own words that many messages share are rendered once and kept: every tap
# redraws its card, and the card's scales, buttons, notice and privacy line (`muted`) repeat for a
# round, language and choice (their escaping and unlinking were most of a redraw, issue 14). Other
# texts are not kept: a user's words (`quote`), a heading that greets a member by name, report
# lines, facts and charts. What is kept is shared: never change a rendered block.
BLOCKS_KEPT = 1024


@lru_cache(maxsize=BLOCKS_KEPT)
def _kept(block: Text | Question | Actions | Notice | Divider, offset: int) -> tuple[dict[str, Any], ...]:
    return tuple(_block(block, offset, ""))


def render_blocks(message: Message) -> list[dict[str, Any]]:
    """The Block Kit blocks of a neutral message, within Slack's limits."""
    out: list[dict[str, Any]] = []
    buttons_seen = 0
    for block in message.blocks:
        if isinstance(block, Question | Actions):
            out.extend(_kept(block, buttons_seen))
            buttons_seen += len(block.buttons)
        elif isinstance(block, Notice | Divider) or (isinstance(block, Text) and block.emphasis == "muted"):
            out.extend(_kept(block, 0))
        else:
            out.extend(_block(block, buttons_seen, message.locale))
    if len(out) > MAX_BLOCKS:
        logger.warning("message cut to the block limit", extra={"blocks": len(out)})
        out = out[: MAX_BLOCKS - 1] + [_context(_ELLIPSIS)]
    return out


def fallback_text(message: Message) -> str:
    """The notification text (also mrkdwn in Slack, so escaped)."""
    return escape_cut(message.fallback, MAX_FALLBACK)


def render_message(message: Message) -> dict[str, Any]:
    """`text` + `blocks`: the keyword arguments of chat.postMessage / chat.update / respond."""
    return {"text": fallback_text(message), "blocks": render_blocks(message)}


def _input(field: Field) -> dict[str, Any]:
    element: dict[str, Any]
    if field.kind == "select":
        options = [{"text": _plain(o.label, MAX_OPTION), "value": o.value[:150]} for o in field.options[:100]]
        element = {"type": "static_select", "action_id": field.id, "options": options}
        initial = next((o for o in options if o["value"] == field.initial), None)
        if initial is not None:
            element["initial_option"] = initial
    else:
        element = {"type": "plain_text_input", "action_id": field.id, "multiline": field.kind == "multiline"}
        if field.max_length:
            element["max_length"] = min(field.max_length, 3000)
        if field.initial:
            element["initial_value"] = field.initial[:3000]
    if field.placeholder:
        element["placeholder"] = _plain(field.placeholder, 150)
    return {
        "type": "input",
        "block_id": field.id,
        "label": _plain(field.label, 2000),
        "optional": not field.required,
        "element": element,
    }


def render_modal(form: Form, *, locale: str, origin: dict[str, str] | None = None) -> dict[str, Any]:
    """A modal view; `private_metadata` carries the form's action and value, and where it came from."""
    metadata = {"a": form.action, "v": form.value, **(origin or {})}
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks.append(_section(escape_cut(form.intro, MAX_SECTION)))
    blocks.extend(_input(f) for f in form.fields)
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": _plain(form.title, MAX_TITLE),
        "submit": _plain(form.submit_label, MAX_TITLE),
        "close": _plain(t("slack.cancel", locale), MAX_TITLE),
        "private_metadata": json.dumps(metadata, separators=(",", ":"))[:3000],
        "blocks": blocks[:100],
    }


def form_metadata(view: dict[str, Any]) -> dict[str, str]:
    """The action, value and origin a modal was opened with; ValueError when it is not ours."""
    data = json.loads(view.get("private_metadata") or "{}")
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) or not isinstance(data.get("v"), str):
        raise ValueError("not a pulsebot form")
    return {k: str(v) for k, v in data.items()}


def form_fields(view: dict[str, Any]) -> dict[str, str]:
    """The submitted values of a modal: {field id: text} ('' for an empty optional field)."""
    values = (view.get("state") or {}).get("values") or {}
    out: dict[str, str] = {}
    for block_id, actions in values.items():
        for _, state in actions.items():
            if state.get("type") == "static_select":
                out[block_id] = ((state.get("selected_option") or {}).get("value")) or ""
            else:
                out[block_id] = state.get("value") or ""
    return out
