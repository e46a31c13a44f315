"""Domain errors: each carries a message id the face turns into a polite reply in the user's language."""

from __future__ import annotations

from typing import Any


class PulseError(Exception):
    """A refusal or a problem the user should read about, by message id and arguments."""

    def __init__(self, message_id: str, **args: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.args_ = args


class NotAllowed(PulseError):
    """The person may not do this (a report of a team they do not lead)."""


class NotFound(PulseError):
    """The team, round or chair does not exist."""


class Closed(PulseError):
    """The round or chair has closed."""


class Invalid(PulseError):
    """The input breaks a rule (too long, out of range)."""


class ConfigError(Exception):
    """The config file or environment is wrong; the message names the file, the key and what is allowed."""
