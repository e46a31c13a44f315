"""Neutral messages: what handlers say, before a face renders it.

Handlers return these dataclasses; `bot/slack/blocks.py`, `bot/teams/cards.py` and the console
render them. Every string in them is plain text (no markup): faces escape it for their format,
so a user's words can never ping a channel or hide a link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Emphasis = Literal["normal", "strong", "heading", "muted", "quote"]
Level = Literal["info", "success", "warning", "error"]
Style = Literal["primary", "danger"] | None


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text; `quote` marks words a user wrote (comments, notes, topics)."""

    text: str
    emphasis: Emphasis = "normal"


@dataclass(frozen=True)
class Button:
    """One tap: the face sends `action` and `value` back to `handlers.inputs.handle` (a `Tap`)."""

    label: str
    action: str
    value: str
    style: Style = None
    selected: bool = False


@dataclass(frozen=True)
class Question:
    """A prompt answered with one tap: buttons in the order given (scales go worst first)."""

    prompt: str
    buttons: tuple[Button, ...]
    # Low and high anchors of a scale, shown beside the buttons where the face can.
    low_label: str = ""
    high_label: str = ""


@dataclass(frozen=True)
class Actions:
    """A row of buttons that are not an answer (add a comment, close, change my answer)."""

    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Option:
    """One choice of a select field."""

    label: str
    value: str


@dataclass(frozen=True)
class Field:
    """One input of a form."""

    id: str
    label: str
    kind: Literal["text", "multiline", "select"] = "text"
    options: tuple[Option, ...] = ()
    required: bool = False
    max_length: int | None = None
    placeholder: str = ""
    initial: str = ""


@dataclass(frozen=True)
class Form:
    """A small form: a modal in Slack, a dialog or inline card in Teams, prompts in the console.

    On submit the face calls `handle` with `Tap.parse(form.action, form.value, {id: text})`.
    """

    title: str
    action: str
    value: str
    fields: tuple[Field, ...]
    submit_label: str
    intro: str = ""


@dataclass(frozen=True)
class Facts:
    """Label and value pairs (a report's figures)."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Chart:
    """A trend: one point per period; `None` where the point is suppressed or has no data.

    `png` is the rendered image (matplotlib) when the handler made one; faces that show images
    upload it, the console draws a sparkline from `points`.
    """

    title: str
    labels: tuple[str, ...]
    points: tuple[float | None, ...]
    low: float = 1.0
    high: float = 5.0
    png: bytes | None = None
    alt_text: str = ""


@dataclass(frozen=True)
class Notice:
    """A short status line: saved, refused, closed, an error in the user's language."""

    text: str
    level: Level = "info"


@dataclass(frozen=True)
class Divider:
    """A visual break between sections."""


@dataclass(frozen=True)
class Link:
    """An address the person opens in a browser (the leader dashboard); the URL is pulsebot's own, never
    a user's words."""

    label: str
    url: str


Block = Text | Question | Actions | Facts | Chart | Notice | Divider | Link


@dataclass(frozen=True)
class Message:
    """A whole message: blocks in order, and a plain-text fallback for notifications."""

    blocks: tuple[Block, ...]
    fallback: str
    locale: str = "en"


@dataclass(frozen=True)
class Edit:
    """Replace an earlier message, known by its platform reference, with a new rendering."""

    conversation: str
    ref: str
    message: Message


@dataclass(frozen=True)
class Post:
    """A message visible to everyone in the conversation the request came from.

    `chair_id` asks the face to report back where it posted (`chairs.remember_card`), so the
    card can be updated in place later. `thread_ref` posts in the thread of that message.
    `conversation` posts there instead (a follow-up resolved in a DM answers in its chair's thread).
    """

    message: Message
    chair_id: int | None = None
    thread_ref: str | None = None
    conversation: str | None = None


@dataclass
class Outcome:
    """What a face must do after a command, a tap, a form or a typed reply."""

    reply: Message | None = None  # only to the person who acted (ephemeral, personal chat)
    update: Message | None = None  # replaces the message that was tapped
    form: Form | None = None  # opens a form for the person who acted
    posts: list[Post] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)


def plain_text(message: Message) -> str:
    """Render a message as plain text: the console face and every fallback use it."""
    lines: list[str] = []
    for block in message.blocks:
        match block:
            case Text(text=text, emphasis=emphasis):
                lines.append(f"> {text}" if emphasis == "quote" else text)
            case Question(prompt=prompt, buttons=buttons):
                lines.append(prompt)
                lines.append("  ".join(f"[{b.value.rsplit(':', 1)[-1]}] {b.label}" for b in buttons))
            case Actions(buttons=buttons):
                lines.append("  ".join(f"({b.label})" for b in buttons))
            case Facts(items=items):
                lines.extend(f"{label}: {value}" for label, value in items)
            case Chart(title=title, points=points):
                lines.append(f"{title}: {sparkline(points)}")
            case Notice(text=text):
                lines.append(text)
            case Divider():
                lines.append("")
            case Link(label=label, url=url):
                lines.append(f"{label}: {url}")
    return "\n".join(lines)


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(points: tuple[float | None, ...], low: float = 1.0, high: float = 5.0) -> str:
    """A one-line trend: one bar per period, a dot where the point is suppressed or missing."""
    out = []
    for p in points:
        if p is None:
            out.append("·")
            continue
        frac = (min(max(p, low), high) - low) / (high - low) if high > low else 0.0
        out.append(_BARS[round(frac * (len(_BARS) - 1))])
    return "".join(out)
