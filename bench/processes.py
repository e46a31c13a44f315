"""What the benchmarks that run real processes share: a free port, a child, its health, its stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
from pathlib import Path

import aiohttp

from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[1]


async def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM (a child role's main loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args: list[str], env: dict[str, str], *, read_line: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """Start a child in the repository root; with `read_line`, also its first line of output."""
    log = open(os.environ["BENCH_LOG"], "ab") if os.environ.get("BENCH_LOG") else subprocess.DEVNULL
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE if read_line else subprocess.DEVNULL,
                            stderr=log, cwd=ROOT)
    first = proc.stdout.readline().decode().strip() if read_line and proc.stdout else ""
    return proc, first


def stop(procs: list[subprocess.Popen[bytes]], timeout: float = 10) -> None:
    """SIGTERM to every child still running, then wait for each (`timeout` s), killing a late one."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


async def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll `url`/healthz until it answers 200 (the tests' `eventually`); exit when the child died
    or time ran out."""
    async with aiohttp.ClientSession() as http:

        async def healthy() -> bool:
            if proc.poll() is not None:
                raise SystemExit(f"server exited early with {proc.returncode}")
            try:
                async with http.get(url + "/healthz") as resp:
                    return resp.status == 200
            except aiohttp.ClientError:
                return False

        try:
            await eventually(healthy, timeout=timeout, step=0.1)
        except AssertionError:
            raise SystemExit(f"{url} did not become healthy") from None
