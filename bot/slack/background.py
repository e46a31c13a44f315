"""Work that follows an ack: a queue drained by a few worker tasks.

Slack wants an answer within 3 seconds; the answer is an empty ack, and what the member asked
for (store the tap, redraw the card, post the report) happens after. Running that work through a
small pool, instead of one task per request, keeps the event loop's queue short, so a burst of
requests is acked at the pace of the acks, not of the work behind them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Background:
    """A FIFO of jobs run by `workers` tasks, started on first use in the running loop."""

    def __init__(self, workers: int = 8) -> None:
        self.workers = workers
        self._queue: asyncio.Queue[Job] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def submit(self, job: Job) -> None:
        """Queue a job; it runs after the current request has been answered."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._tasks = [asyncio.create_task(self._work(), name=f"slack-bg-{i}") for i in range(self.workers)]
        self._queue.put_nowait(job)

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            try:
                await job()
            except Exception:  # noqa: BLE001 - one failed job must not stop the worker
                logger.exception("slack background job failed")
            finally:
                self._queue.task_done()

    async def idle(self) -> None:
        """Wait until every queued job has run."""
        if self._queue is not None:
            await self._queue.join()

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued jobs (up to `timeout` seconds), then stop the workers."""
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
