"""The console's outbound side: a console member's inbox is the store itself.

A direct message "arrives" when the sender marks the delivery sent; `pulsebot chat` shows the
open check-ins of the person logged in. Posts to a console channel are printed by the REPL.
"""

from __future__ import annotations

from handlers.messages import Message
from handlers.ports import Recipient, Sent


class ConsoleMessenger:
    """Messenger for the `console` platform."""

    platform = "console"
    can_look = True  # nothing is ever half-sent here, so "not found" is the truth

    async def send_direct(self, *, to: Recipient, message: Message, delivery_key: str) -> Sent:
        """Nothing to transmit: the REPL reads open deliveries from the store."""
        return Sent(conversation=f"console:@{to.user_id}", ref=delivery_key)

    async def find_direct(self, *, to: Recipient, delivery_key: str) -> Sent | None:
        """A console delivery is never half-sent: there is no call that can lose its answer."""
        return None

    async def post(self, *, conversation: str, message: Message, thread_ref: str | None = None) -> Sent:
        """Posts appear when someone opens the channel in `pulsebot chat`."""
        return Sent(conversation=conversation, ref=f"{conversation}:{abs(hash(message.fallback))}")

    async def update(self, *, conversation: str, ref: str, message: Message) -> None:
        """Nothing to redraw outside a running REPL."""
