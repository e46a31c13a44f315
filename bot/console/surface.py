"""The console side of one line typed in `pulsebot chat`: how `handlers.surface.carry_out` prints.

Everything is printed in the one terminal: replies, the redrawn card, posts and edits. The last
buttons printed are the ones the person can press next (by letter). A chair's card is posted under
a ref of its own, so later impacts can name it. Charts are shown as text by `render`; there is no
file to send. A form is asked field by field, then sent like a tap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.console.render import render
from handlers.messages import Chart, Edit, Form, Message, Post
from handlers.ports import Sent, Where


@dataclass
class ConsoleSurface:
    """One outcome in the console, as a `handlers.surface.Surface`."""

    where: Where
    write: Callable[[str], None]
    show_buttons: Callable[[Message], None]
    fill: Callable[[Form], Awaitable[None]]
    # While a check-in is asked question by question, the next question is the redrawn card: it is
    # not printed again, only its buttons are kept.
    asking: bool = False
    _redrawn: Message | None = None

    @property
    def personal(self) -> bool:
        """The console's conversation is a channel everyone in the terminal sees."""
        return self.where.kind == "dm"

    @property
    def tapped(self) -> tuple[str, str] | None:
        """Cards are printed, never kept: there is no card to edit in place."""
        return None

    def _print(self, message: Message) -> None:
        self.show_buttons(message)
        self.write(render(message).text)

    async def reply(self, message: Message) -> None:
        """Printed, unless it only repeats the card just printed."""
        if self._redrawn is not None and message.blocks == self._redrawn.blocks:
            return
        self._print(message)

    async def redraw(self, message: Message) -> bool:
        """The card printed again, as it now reads (while `asking`, only its buttons kept)."""
        self._redrawn = message
        if self.asking:
            self.show_buttons(message)
        else:
            self._print(message)
        return True

    async def post(self, post: Post) -> Sent:
        """Printed; a chair's card gets a ref of its own."""
        self._print(post.message)
        ref = f"console-chair-{post.chair_id}" if post.chair_id is not None else ""
        return Sent(conversation=self.where.conversation, ref=ref)

    async def edit(self, edit: Edit) -> None:
        """An earlier card, printed again."""
        self._print(edit.message)

    async def open_form(self, form: Form) -> None:
        """Asked field by field at the prompt."""
        await self.fill(form)

    async def send_file(self, chart: Chart) -> None:
        """No files in a terminal: the chart was printed as text with its message."""
