"""`pulsebot chat`: a small REPL over the same handlers and store as Slack and Teams.

Type `/empty-chair …`, `/team-pulse …`, `/pulse …`; open check-ins are shown and answered by
number; other buttons by letter; any other line is a reply typed in the DM.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from bot.console.render import render
from bot.console.surface import ConsoleSurface
from handlers import checkins, followups, replies
from handlers.commands import error_outcome
from handlers.commitment_messages import console_notes
from handlers.config import TeamConfig
from handlers.context import Context
from handlers.i18n import t
from handlers.inbox import nothing_open
from handlers.inputs import Command, Input, Tap, Typed
from handlers.inputs import handle as handle_input
from handlers.members import actor_locale, upsert_member
from handlers.messages import Button, Form, Message, Outcome
from handlers.ports import Actor, Where
from handlers.surface import carry_out
from schedules import timing

logger = logging.getLogger(__name__)

Reader = Callable[[str], Awaitable[str | None]]


async def read_stdin(prompt: str) -> str | None:
    """One line from the terminal, None at end of input."""
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


class ConsoleChat:
    """One person's conversation with pulsebot in a terminal."""

    def __init__(self, ctx: Context, actor: Actor, *, write: Callable[[str], None] = print,
                 read: Reader = read_stdin, channel: str = "console:#general") -> None:
        self.ctx = ctx
        self.actor = actor
        self.write = write
        self.read = read
        self.where = Where(conversation=channel, kind="channel", name=channel)
        self.buttons: dict[str, Button] = {}

    async def run(self) -> None:
        """Greet, show open check-ins, then read commands until end of input or /quit."""
        await upsert_member(self.ctx, self.actor)
        locale = await actor_locale(self.ctx, self.actor)
        self.write(t("console.banner", locale, user=self.actor.user_id))
        await self.show_inbox()
        while True:
            line = await self.read("> ")
            if line is None or line.strip() in ("/quit", "/exit", "/salir"):
                break
            await self.handle(line)

    async def show_inbox(self) -> bool:
        """Relayed replies that arrived, then every delivered, open, unanswered check-in, asked
        question by question; False if there was nothing."""
        letters = await self.show_letters()
        open_ones = await checkins.inbox(self.ctx, self.actor)
        for delivery_id in open_ones:
            _, message, _ = await checkins.delivery_message(self.ctx, delivery_id=delivery_id)
            if not await self.ask(message):
                break
        return bool(open_ones) or letters

    async def show_letters(self) -> bool:
        """Anonymous replies relayed to this person since last shown (`handlers.replies`), follow-up
        reminders the clock sent them (`handlers.followups`) and commitment notes
        (`handlers.commitment_messages`); False if none."""
        letters = await replies.console_letters(self.ctx, self.actor)
        letters += await followups.console_reminders(self.ctx, self.actor)
        # A leader's invitation to commit, and a team's commitment: a console inbox is the store.
        letters += await console_notes(self.ctx, self.actor)
        for letter in letters:
            self.apply_letter(letter)
        return bool(letters)

    def apply_letter(self, message: Message) -> None:
        """Show a direct message with its buttons, ready to be pressed by letter."""
        shown = render(message)
        self.write(shown.text)
        if shown.buttons:
            self.buttons = shown.buttons

    async def handle(self, line: str) -> None:
        """One line typed at the prompt."""
        line = line.strip()
        if not line:
            return
        if line in ("/help", "/ayuda", "?"):
            self.write(t("console.help", await actor_locale(self.ctx, self.actor)))
        elif line == "/inbox":
            if not await self.show_inbox():
                self.write(await nothing_open(self.ctx, self.actor, next_opening=self._next_opening))
        elif line.startswith("/"):
            command, _, rest = line[1:].partition(" ")
            await self.apply(await self.act(Command.parse(command, rest)))
        elif line.lower() in self.buttons:
            await self.press(self.buttons[line.lower()])
        else:
            try:
                outcome = await handle_input(self.ctx, self.actor, Where(conversation="", kind="dm"), Typed(line))
            except Exception as error:  # noqa: BLE001 - nobody re-types it for us: the failure is answered
                outcome = await error_outcome(self.ctx, self.actor, error, doing="typed reply")
            if outcome is None:
                self.write(t("console.no_open", await actor_locale(self.ctx, self.actor)))
            else:
                await self.apply(outcome)

    async def press(self, button: Button, fields: dict[str, str] | None = None) -> None:
        """Tap a button."""
        await self.apply(await self.act(Tap.parse(button.action, button.value, fields)))

    async def act(self, done: Input) -> Outcome:
        """A command or a tap in the console's channel (both always answered)."""
        outcome = await handle_input(self.ctx, self.actor, self.where, done)
        assert outcome is not None
        return outcome

    def _next_opening(self, team: TeamConfig, after: datetime, zones: Iterable[str]) -> datetime:
        return timing.next_opening(team.checkin, self.ctx.config.team_timezone(team), after, zones).opens_at

    async def ask(self, message: Message) -> bool:
        """Show a message and ask its questions in turn; False if the person typed a command instead."""
        shown = render(message)
        self.write(shown.text)
        self.buttons = shown.buttons
        for question in shown.questions:
            numbers = {b.value.rsplit(":", 1)[-1]: b for b in question.buttons}
            low, high = min(numbers, key=int), max(numbers, key=int)
            answer = await self.read(f"{question.prompt} [{low}-{high}, Enter = skip] ")
            if answer is None:
                return False
            answer = answer.strip()
            if answer.startswith("/"):
                await self.handle(answer)
                return False
            if answer in numbers:
                await self.apply(await self.act(Tap.parse(numbers[answer].action, numbers[answer].value)),
                                 asking=True)
            elif answer:
                await self.handle(answer)
        return True

    async def fill(self, form: Form) -> None:
        """Ask a form's fields one by one, then submit it."""
        self.write(f"\n== {form.title} ==" + (f"\n{form.intro}" if form.intro else ""))
        values: dict[str, str] = {}
        for f in form.fields:
            if f.kind == "select":
                for i, option in enumerate(f.options, 1):
                    self.write(f"  [{i}] {option.label}")
                raw = await self.read(f"{f.label}: ")
                if raw is None:
                    return
                raw = raw.strip()
                # isdecimal, not isdigit: "²" is a digit that int() refuses; the length keeps int() fast.
                index = int(raw) - 1 if raw.isdecimal() and len(raw) <= 3 else -1
                values[f.id] = f.options[index].value if 0 <= index < len(f.options) else raw
            else:
                raw = await self.read(f"{f.label}: ")
                if raw is None:
                    return
                values[f.id] = raw
        await self.press(Button(form.submit_label, form.action, form.value), values)

    async def apply(self, outcome: Outcome, *, asking: bool = False) -> None:
        """Show what a handler answered, post cards, fill forms (`carry_out` in the terminal)."""
        surface = ConsoleSurface(self.where, self.write, self._keep_buttons, self.fill, asking=asking)
        await carry_out(self.ctx, outcome, surface)

    def _keep_buttons(self, message: Message) -> None:
        buttons = render(message).buttons
        if buttons:
            self.buttons = buttons
