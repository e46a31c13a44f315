"""A worker process for the one heavy request: the leader's report (`/team-pulse`).

The report runs several GROUP BY queries and draws a matplotlib chart: about a fifth of a
second of CPU (a chart of the same figures drawn before is kept, `handlers.charts`). On the event
loop that acks every other request it would hold up everyone's buttons for that long, and in a
thread it would still fight the loop for the GIL. In a process of its own it only shares the
machine's cores, so acks stay fast. The worker opens its own store connections to the same
database; the config, the secret and the current time travel with each call (the clock is
pickled per call, so a test that moves its clock is obeyed).

The worker runs only on cores the server leaves idle (`SCHED_IDLE`, bot/priority.py), and on one
core, the courier's (bot/priority.py says why): the kernel gives a core to the server's acks the
moment they want it, and a report that waits a few milliseconds more is not felt (a leader waits
a quarter of a second for it; a button must answer at once).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from bot.priority import yield_to_the_server
from handlers.charts import warm_up_in_background
from handlers.config import PulseConfig
from handlers.context import Context
from handlers.inputs import Command, handle
from handlers.messages import Outcome
from handlers.ports import Actor, Clock, Where
from storage.db import Store

logger = logging.getLogger(__name__)

# The worker process's own loop and store, made once by `_start_worker`.
_WORKER: dict[str, Any] = {}
# Where there is no SCHED_IDLE (bot/priority.py), added to the worker's niceness: about a tenth of
# a core that an ack also wants, and every idle cycle.
WORKER_NICENESS = 10


def _exit_with_parent(parent: int) -> None:
    # A killed server (SIGKILL, a crashed test) cannot shut its pool down, and the worker never
    # reads an end of file on its queue (the queue's pickle gave it the writing end too): it
    # notices that it was re-parented and leaves, instead of lingering as an orphan. `parent` is
    # the server's pid as the server gave it: one that died while the worker was still importing
    # has already been replaced by init when this starts.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _start_worker(server: int, url: str, config: PulseConfig, secret: bytes) -> None:
    threading.Thread(target=_exit_with_parent, args=(server,), daemon=True).start()
    yield_to_the_server(WORKER_NICENESS)
    # matplotlib is imported here, in the background, not by the server: the first /team-pulse
    # finds it loaded and its fonts read (a report arriving meanwhile waits on the import lock).
    warm_up_in_background("report worker")
    _WORKER["loop"] = asyncio.new_event_loop()
    _WORKER["ctx"] = Context(store=Store(url), config=config, secret=secret)


def _ping() -> bool:
    return True


def _run_in_worker(clock: Clock, actor: Actor, where: Where, command: Command) -> Outcome | None:
    ctx: Context = _WORKER["ctx"]
    ctx.clock = clock
    return _WORKER["loop"].run_until_complete(handle(ctx, actor, where, command))


class HeavyLane:
    """Runs heavy commands in one worker process once started; inline before (or in-memory)."""

    def __init__(self, ctx: Context, *, enabled: bool = True) -> None:
        self.ctx = ctx
        self.enabled = enabled
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the worker process (idempotent); it imports the handlers once, now."""
        if not self.enabled or self._pool is not None or ":memory:" in self.ctx.store.url:
            return  # an in-memory SQLite database cannot be opened from another process
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            # spawn, not fork: the parent has threads (aiosqlite, the clock) a fork would copy mid-step
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), self.ctx.store.url, self.ctx.config, self.ctx.secret),
        )
        self._pool.submit(_ping)  # warm up: the first report should not wait for the imports

    async def run(self, actor: Actor, where: Where, command: Command) -> Outcome | None:
        """`handlers.inputs.handle` of a command, computed in the worker."""
        if self._pool is None:
            return await handle(self.ctx, actor, where, command)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, _run_in_worker, self.ctx.clock, actor, where, command)
        except BrokenProcessPool:
            logger.error("report worker died; running the report in the main process from now on")
            self._pool = None
            return await handle(self.ctx, actor, where, command)

    async def stop(self) -> None:
        """Stop the worker process."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
