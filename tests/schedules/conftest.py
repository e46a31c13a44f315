"""Fixtures of the clock and outbox tests (helpers live in `tests/schedules/support.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `tests.*` helpers live beside the packages; make the repository root importable when pytest is
# started from the venv's script (which does not put the cwd on sys.path).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.context import build_ctx, sqlite_in  # noqa: E402
from tests.schedules.support import BASE_CONFIG, MONDAY_0800_UTC, inbox_on  # noqa: E402


@pytest.fixture
async def world(tmp_path):
    """A context on a SQLite file with BASE_CONFIG, Monday 08:00 UTC, and the Inbox it sends to."""
    ctx = await build_ctx(sqlite_in(tmp_path), BASE_CONFIG, now=MONDAY_0800_UTC)
    yield ctx, inbox_on(ctx)
    await ctx.store.dispose()
