"""The one way a test builds a `Context`: a fresh migrated store, a config applied, a FixedClock.

The `make_ctx` fixture (tests/conftest.py) is this bound to the suite's database (SQLite, and
PostgreSQL in CI); a test that needs another store (a SQLite file of its own, a store a real
`pulsebot serve` shares) calls `build_ctx` with that url.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handlers.config import PulseConfig, parse_config
from handlers.context import Context
from handlers.ports import Clock, Messenger, SystemClock
from handlers.setup import apply_config
from tests.clock import FixedClock
from tests.dbutil import fresh_store

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TEST_SECRET = b"test-secret-0123456789abcdef"

DEFAULT_CONFIG: dict[str, Any] = {
    "pulse": {"min_group_size": 3, "default_locale": "en", "timezone": "Europe/Madrid", "leaders": ["boss"]},
    "teams": [
        {"name": "soporte", "leaders": ["lead"], "locale": "es",
         "members": ["ana", "bea", "carlos", "dani", "eva"]},
    ],
}


def sqlite_in(folder: Path) -> str:
    """The url of a SQLite file of the test's own in `folder` (usually `tmp_path`)."""
    return f"sqlite+aiosqlite:///{folder / 'pulse.db'}"


async def build_ctx(url: str, config: dict[str, Any] | PulseConfig | None = None, *,
                    now: datetime | None = START, secret: bytes = TEST_SECRET,
                    messengers: dict[str, Messenger] | None = None, reset: bool = True) -> Context:
    """A Context on a migrated store at `url` with `config` (a dict, or parsed) applied.

    `config` defaults to one five-member team; the clock is a FixedClock at `now`, or the system
    clock with `now=None` (for a store a real `pulsebot serve` process shares). On PostgreSQL the
    schema is emptied first unless `reset=False` (a second replica on the same store).
    """
    store = await fresh_store(url, reset=reset)
    clock: Clock = SystemClock() if now is None else FixedClock(now)
    parsed = config if isinstance(config, PulseConfig) else parse_config(config or DEFAULT_CONFIG)
    ctx = Context(store=store, config=parsed, secret=secret, clock=clock, messengers=dict(messengers or {}))
    await apply_config(ctx)
    return ctx
