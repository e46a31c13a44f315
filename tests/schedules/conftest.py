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

from tests.schedules.support import make_ctx  # noqa: E402


@pytest.fixture
async def world(tmp_path):
    ctx, inbox = await make_ctx(tmp_path)
    yield ctx, inbox
    await ctx.store.dispose()
