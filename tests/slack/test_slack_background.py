"""The work after an ack (`bot.slack.background`): acks go first, and no queued job is ever lost."""

from __future__ import annotations

import asyncio

from bot.slack.background import Background


def recorder(done: list[int], i: int):
    async def job() -> None:
        await asyncio.sleep(0)  # a job that awaits, like a chat.update
        done.append(i)

    return job


async def test_work_queued_while_a_request_is_answered_waits_for_it_and_all_of_it_runs():
    background = Background(workers=2, patience=30.0)
    done: list[int] = []
    with background.acking():
        for i in range(50):  # far more than the workers: the rest waits in the queue
            background.submit(recorder(done, i))
        for _ in range(20):
            await asyncio.sleep(0)  # give every worker its turn on the loop
        assert done == []  # nothing started while the request was being answered
    await asyncio.wait_for(background.idle(), 5)
    assert sorted(done) == list(range(50))  # none lost, none run twice
    await background.stop()


async def test_a_steady_stream_of_requests_cannot_starve_the_work_after_them():
    background = Background(workers=2, patience=0.01)
    done: list[int] = []
    with background.acking():  # requests never stop coming
        for i in range(10):
            background.submit(recorder(done, i))
        await asyncio.wait_for(background.idle(), 5)
    assert sorted(done) == list(range(10))
    await background.stop()


async def test_stopping_finishes_the_queued_work_first():
    background = Background(workers=1)
    done: list[int] = []
    for i in range(20):
        background.submit(recorder(done, i))
    await background.stop()
    assert done == list(range(20))  # one worker: in order, and every one
