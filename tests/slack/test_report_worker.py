"""The report worker process (bot/slack/heavy.py) never outlives the server that started it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.environ import clean_env
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]

# A server that starts its report worker and dies at once, before the worker has even finished
# importing: a crash (or an OOM kill) during start-up.
DIES_AT_ONCE = """
import os, sys
from bot.slack.heavy import HeavyLane
from handlers.config import PulseConfig
from handlers.context import Context
from storage.db import Store

lane = HeavyLane(Context(store=Store(sys.argv[1]), config=PulseConfig(), secret=b"s" * 32))
lane.start()
print(*[p.pid for p in lane._pool._processes.values()], flush=True)
os._exit(0)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def test_a_worker_whose_server_died_before_it_started_leaves_too(tmp_path):
    server = subprocess.Popen([sys.executable, "-c", DIES_AT_ONCE, f"sqlite+aiosqlite:///{tmp_path}/p.db"],
                              cwd=ROOT, env=clean_env(PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    workers = [int(pid) for pid in server.stdout.readline().split()]
    assert server.wait(timeout=30) == 0
    server.stdout.close()  # the worker holds the pipe too: only the line was waited for
    assert workers and any(_alive(pid) for pid in workers)  # started, and still importing
    await eventually(lambda: not any(_alive(pid) for pid in workers), timeout=20,
                     otherwise=lambda: f"worker {workers} outlived its server")
