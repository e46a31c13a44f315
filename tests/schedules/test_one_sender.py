"""One sender per store and one rate-limit state per workspace, across processes.

The clock's lock is real on SQLite too (a file lock the kernel drops when its process dies), and
a 429's pause written by one process is waited out by another.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from bot.slack.app import StorePause
from bot.slack.messenger import WorkspaceGate
from schedules.clock_lock import ClockLock
from storage.db import Store
from tests.clock import SecondsClock


async def test_two_processes_on_one_sqlite_file_never_both_hold_the_clock(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'pulse.db'}"
    first, second = ClockLock(Store(url)), ClockLock(Store(url))
    assert await first.acquire() is True
    assert await second.acquire() is False
    await first.release()
    assert await second.acquire() is True
    await second.release()


async def test_the_sqlite_clock_lock_is_freed_when_its_holder_is_killed(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'pulse.db'}"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import asyncio, sys, time
        sys.path.insert(0, {str(__import__('pathlib').Path(__file__).resolve().parents[2])!r})
        from schedules.clock_lock import ClockLock
        from storage.db import Store
        assert asyncio.run(ClockLock(Store({url!r})).acquire())
        print("held", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = ClockLock(Store(url))
        assert await lock.acquire() is False
        holder.kill()
        holder.wait(timeout=10)
        assert await lock.acquire() is True  # no stale lock after a crash
        await lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()


async def test_a_pause_one_process_records_is_waited_out_by_another(ctx):
    """Two gates on one store stand for two processes: B waits out the 429 A was given."""
    clock = SecondsClock(also=ctx.clock)  # the store's pause is read against the context's clock
    slept = clock.slept
    a = WorkspaceGate(rate=100, burst=5, shared=StorePause(ctx, "T1"), monotonic=clock, sleep=clock.sleep)
    b = WorkspaceGate(rate=100, burst=5, shared=StorePause(ctx, "T1"), monotonic=clock, sleep=clock.sleep)
    other = WorkspaceGate(rate=100, burst=5, shared=StorePause(ctx, "T2"), monotonic=clock, sleep=clock.sleep)
    await a.pause_everywhere(1.5)
    await other.acquire()
    assert slept == []  # another workspace is not held back
    await b.acquire()
    assert sum(slept) >= 1.5  # B never sent inside A's Retry-After
    slept.clear()
    await b.acquire()
    assert sum(slept) < 0.1
