"""Teams listeners, one module per kind of activity, registered by explicit calls on the agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.teams.listeners import invokes, meetings, members, messages

if TYPE_CHECKING:
    from bot.teams.agent import PulseAgent


def register_listeners(agent: PulseAgent) -> None:
    """Attach every listener of the face to `agent`."""
    messages.register(agent)
    invokes.register(agent)
    members.register(agent)
    meetings.register(agent)
