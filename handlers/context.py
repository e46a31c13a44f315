"""The one object handlers receive: the store, the config, the secret, the clock, the messengers."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.config import PulseConfig
from handlers.ports import Clock, Messenger, SystemClock
from storage.db import Store


@dataclass
class Context:
    """Built once by `bot/app.py` (or a test) and passed to every handler."""

    store: Store
    config: PulseConfig
    secret: bytes
    clock: Clock = field(default_factory=SystemClock)
    messengers: dict[str, Messenger] = field(default_factory=dict)  # by platform name
    public_url: str | None = None  # where leaders open the dashboard; None: no dashboard links offered

    @property
    def min_group_size(self) -> int:
        """The anonymity threshold in force."""
        return self.config.pulse.min_group_size
