"""Neutral messages as terminal text: questions answered by number, buttons by letter."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.messages import (
    Actions,
    Button,
    Chart,
    Divider,
    Facts,
    Link,
    Message,
    Notice,
    Question,
    Text,
    sparkline,
)

_ICONS = {"info": "ℹ", "success": "✔", "warning": "⚠", "error": "✖"}
LETTERS = "abcdefghijklmnopqrstuvwxyz"  # a report has a reply button per comment (ten)


@dataclass
class Rendered:
    """The text of a message and the buttons a reply can press: letter → button."""

    text: str
    buttons: dict[str, Button] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)


def render(message: Message, *, interactive: bool = True) -> Rendered:
    """Text for the terminal. Questions list their choices; other buttons get letters."""
    lines: list[str] = []
    out = Rendered("")
    for block in message.blocks:
        match block:
            case Text(text=text, emphasis="heading"):
                lines.append(f"\n== {text} ==")
            case Text(text=text, emphasis="quote"):
                lines.extend(f"  │ {line}" for line in text.splitlines() or [""])
            case Text(text=text, emphasis="muted"):
                lines.append(f"  ({text})")
            case Text(text=text, emphasis="strong"):
                lines.append(text.upper() if text.isascii() and len(text) < 40 else f"» {text}")
            case Text(text=text):
                lines.append(text)
            case Question(prompt=prompt, buttons=buttons):
                lines.append(f"? {prompt}")
                choices = "  ".join(
                    f"{'[' + _number(b) + ']' if not b.selected else '(' + _number(b) + '✔)'} {b.label}" for b in buttons
                )
                lines.append(f"  {choices}")
                out.questions.append(block)
            case Actions(buttons=buttons):
                labels = []
                for b in buttons:
                    letter = LETTERS[len(out.buttons)]
                    out.buttons[letter] = b
                    labels.append(f"[{letter}] {b.label}")
                if interactive:
                    lines.append("  " + "   ".join(labels))
            case Facts(items=items):
                width = max((len(label) for label, _ in items), default=0)
                lines.extend(f"  {label.ljust(width)}  {value}" for label, value in items)
            case Chart(title=title, points=points, labels=labels, low=low, high=high):
                lines.append(f"{title}")
                lines.append(f"  {sparkline(points, low, high)}   {labels[0] if labels else ''} → {labels[-1] if labels else ''}")
            case Notice(text=text, level=level):
                lines.append(f"{_ICONS.get(level, '')} {text}")
            case Divider():
                lines.append("  " + "─" * 40)
            case Link(label=label, url=url):
                lines.append(f"  {label}: {url}")
    out.text = "\n".join(lines)
    return out


def _number(button: Button) -> str:
    return button.value.rsplit(":", 1)[-1]
