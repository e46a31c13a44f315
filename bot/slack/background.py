"""Work that follows an ack: a queue drained by a few worker tasks.

Slack wants an answer within 3 seconds. An answer is stored before that answer (DESIGN.md,
Reliability); what only shows it (redraw the card, reply, post the report, upload a chart)
happens after. Running that work through a small pool, instead of one task per request, keeps
the event loop's queue short, so a burst of requests is acked at the pace of the acks, not of
the work behind them. Work with a deadline of its own (a modal's trigger_id expires 3 s after
the tap) skips the queue: `submit(job, at_once=True)`.

Acks go first: while a request is being answered (`acking`), a worker waits before it starts its
next job, until no request is (or `patience` seconds at most, so a steady stream of requests
cannot starve the work). Nothing is dropped: the queue has no bound, and a job that waits is run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Background:
    """A FIFO of jobs run by `workers` tasks, started on first use in the running loop."""

    def __init__(self, workers: int = 8, *, patience: float = 0.1) -> None:
        self.workers = workers
        self.patience = patience
        self._queue: asyncio.Queue[Job] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._at_once: set[asyncio.Task[None]] = set()
        self._acking = 0
        self._no_acks: asyncio.Event | None = None

    @contextmanager
    def acking(self) -> Iterator[None]:
        """Around answering one request: queued jobs wait to start until no request is being answered."""
        self._acking += 1
        try:
            yield
        finally:
            self._acking -= 1
            if self._acking == 0 and self._no_acks is not None:
                self._no_acks.set()

    async def _acks_first(self) -> None:
        if not self._acking:
            return
        if self._no_acks is None:
            self._no_acks = asyncio.Event()
        self._no_acks.clear()
        try:
            await asyncio.wait_for(self._no_acks.wait(), self.patience)
        except TimeoutError:
            pass  # requests keep coming: the work goes on anyway, after `patience`

    def submit(self, job: Job, *, at_once: bool = False) -> None:
        """Queue a job; it runs after the current request has been answered. With `at_once` it
        starts in a task of its own instead of waiting behind the queue."""
        if at_once:
            task = asyncio.create_task(self._run(job), name="slack-bg-now")
            self._at_once.add(task)  # held until done: the loop keeps only weak references to tasks
            task.add_done_callback(self._at_once.discard)
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._tasks = [asyncio.create_task(self._work(), name=f"slack-bg-{i}") for i in range(self.workers)]
        self._queue.put_nowait(job)

    async def _run(self, job: Job) -> None:
        try:
            await job()
        except Exception:  # noqa: BLE001 - one failed job must not stop the worker
            logger.exception("slack background job failed")

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            try:
                await self._acks_first()
                await self._run(job)
            finally:
                self._queue.task_done()

    async def idle(self) -> None:
        """Wait until every queued job has run."""
        if self._at_once:
            await asyncio.gather(*self._at_once, return_exceptions=True)
        if self._queue is not None:
            await self._queue.join()

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued jobs (up to `timeout` seconds), then stop the workers."""
        if self._at_once:
            _, late = await asyncio.wait(set(self._at_once), timeout=timeout)
            for task in late:
                task.cancel()
        if self._queue is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            logger.warning("slack background jobs left unfinished", extra={"jobs": self._queue.qsize()})
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._queue, self._tasks = None, []
