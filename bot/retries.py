"""What both chat platforms do alike when they retry: resend an event, or ask us to wait.

- Slack re-sends an event it thinks we missed (`X-Slack-Retry-Num`), and Teams may deliver the
  same meeting-start event twice: each face keeps the ids it has taken in a `SeenIds`.
- A 429 (and Teams' 412) carries `Retry-After` in seconds: `retry_after_of` reads it from any
  header mapping, whatever the case of its name.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, overload


class SeenIds:
    """The last `size` ids this process has taken; a repeat of one of them is skipped."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen (and always for an empty key: nothing to compare)."""
        if not key:
            return True
        if key in self._ids:
            return False
        self._ids[key] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def forget(self, key: str) -> None:
        """Take an id back: its handling failed before anything was stored, so a retry must run."""
        self._ids.pop(key, None)


@overload
def retry_after_of(headers: Mapping[str, Any] | None, default: float = 1.0) -> float: ...
@overload
def retry_after_of(headers: Mapping[str, Any] | None, default: None) -> float | None: ...


def retry_after_of(headers: Mapping[str, Any] | None, default: float | None = 1.0) -> float | None:
    """The Retry-After header in seconds, or `default` when it is absent or not a number of seconds.

    Slack pauses the workspace for 1 s when it is missing; Teams leaves the wait to the outbox's
    backoff (`default=None`).
    """
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return default
    return default
