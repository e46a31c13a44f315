"""Slack listeners, one module per kind of input, registered by explicit calls (no global app)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, views
from bot.slack.runtime import SlackRuntime


def register_listeners(app: AsyncApp, rt: SlackRuntime) -> None:
    """Attach every listener of the face to `app`. Bolt tries them in this order for every request,
    so the most frequent comes first: a check-in tap meets its listener without testing the rest."""
    actions.register(app, rt)
    commands.register(app, rt)
    views.register(app, rt)
    events.register(app, rt)
