"""Carrying out an `Outcome`: the rules, once, for every face and for the clock.

A face implements `Surface` for one request (the conversation a person acted in, the card they
tapped, the way back to them); `carry_out` decides what to draw, in which order, and what to
skip. A face never re-decides these rules:

- The tapped card is drawn once: an edit of that very card (a chair's tally) wins over the
  outcome's `update`, and is not sent again as an edit.
- When the tapped card was redrawn in a personal conversation, the reply is not sent: the card
  already says what was kept. (A face whose redraw can carry a note, like a Teams invoke answer,
  may show the reply with the card.)
- A chart with a PNG goes to the person by file, where the face sends files.
- A post that landed and belongs to a chair is remembered (`chairs.remember_card`), so the card
  can be updated in place later.
- A form opens last, after everything visible is drawn.
"""

from __future__ import annotations

from typing import Protocol

from handlers import chairs
from handlers.context import Context
from handlers.messages import Chart, Edit, Form, Message, Outcome, Post
from handlers.ports import Sent


class Surface(Protocol):
    """Where one outcome is carried out: a face's side of one request (or of the clock's post)."""

    @property
    def personal(self) -> bool:
        """True in the person's one-to-one conversation with the bot (a DM, the console)."""
        ...

    @property
    def tapped(self) -> tuple[str, str] | None:
        """The tapped card as (conversation, message ref), when the request came from a card."""
        ...

    async def reply(self, message: Message) -> None:
        """Show `message` to the person who acted, and only to them."""
        ...

    async def redraw(self, message: Message) -> bool:
        """Replace the tapped card with `message`; False when there is none or it failed."""
        ...

    async def post(self, post: Post) -> Sent | None:
        """Post for everyone in the conversation; where it landed, or None when it did not."""
        ...

    async def edit(self, edit: Edit) -> None:
        """Replace an earlier message (not the tapped one) with a new rendering."""
        ...

    async def open_form(self, form: Form) -> None:
        """Open a form for the person who acted."""
        ...

    async def send_file(self, chart: Chart) -> None:
        """Send a chart's PNG to the person who acted."""
        ...


def _charts(*messages: Message | None) -> list[Chart]:
    return [b for m in messages if m is not None for b in m.blocks if isinstance(b, Chart) and b.png is not None]


async def carry_out(ctx: Context, outcome: Outcome, surface: Surface) -> None:
    """Do everything `outcome` asks, through `surface`, by the rules in this module's docstring."""
    card, edits = outcome.update, list(outcome.edits)
    if surface.tapped is not None:
        same = next((e for e in edits if (e.conversation, e.ref) == surface.tapped), None)
        if same is not None:
            card = same.message
            edits.remove(same)
    redrawn = await surface.redraw(card) if card is not None else False
    for edit in edits:
        await surface.edit(edit)
    if outcome.reply is not None and not (redrawn and surface.personal):
        await surface.reply(outcome.reply)
    for chart in _charts(outcome.reply, outcome.update):
        await surface.send_file(chart)
    for post in outcome.posts:
        sent = await surface.post(post)
        if sent is not None and post.chair_id is not None:
            await chairs.remember_card(ctx, chair_id=post.chair_id, conversation=sent.conversation, ref=sent.ref)
    if outcome.form is not None:
        await surface.open_form(outcome.form)
