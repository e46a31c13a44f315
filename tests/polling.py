"""The one way a test waits for work it cannot drive by hand (a server's background task, another
process): poll a condition until it holds, then go on at once."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def _value(fn: Callable[[], Any]) -> Any:
    value = fn()
    return await value if inspect.isawaitable(value) else value


async def eventually(check: Callable[[], Any], *, timeout: float = 5.0, step: float = 0.01,
                     otherwise: Callable[[], Any] | None = None) -> Any:
    """The first truthy value of `check()` (sync or async), polled every `step` seconds.

    Past `timeout`, fails the test; `otherwise()` (sync or async), read only then, says what was
    seen instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        if value := await _value(check):
            return value
        if time.monotonic() > deadline:
            detail = await _value(otherwise) if otherwise is not None else None
            raise AssertionError(f"condition not met in {timeout} s" + (f": {detail}" if detail else ""))
        await asyncio.sleep(step)
