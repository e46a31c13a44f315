"""The courier: a process of its own for the Web API calls that only show what is already stored.

A check-in tap is stored before its ack (DESIGN.md, Reliability); what shows it, the card redrawn
with chat.update, comes after. That call used to run on the server's event loop, where building
the request, reading the answer and parsing it took about as much CPU as the whole tap, and every
ack that arrived meanwhile waited behind it. The courier (bot/slack/courier_process.py) makes those
calls with its own slack-sdk client and HTTP session: the server only writes a frame (a pickled
request) to a pipe and reads one back. It carries the tapped card's chat.update,
chat.postEphemeral, posts to a response_url and the leader's chart (its upload to their DM, paced
by the messenger's gate first); posts that must be looked up again after a lost answer (the
outbox's DMs) and channel posts stay with the messenger.

- It starts on first use, in the background; until it answers "ready" the calls are made here,
  as before, so no call waits for it (and an idle server has no extra process).
- A 429 comes back with its Retry-After: the workspace's gate (`WorkspaceGate`, recorded in the
  store for every process) pauses and the call is handed over again, at most twice, exactly as
  the server's own client would retry it.
- If it dies, the calls it had are failed (a redraw that fails becomes a reply, by the rules of
  `handlers.surface.carry_out`, and a lost reply is logged), and from then on the calls are made
  here: nothing is repeated on a guess.
- It runs only on cores the server leaves idle (`SCHED_IDLE`, bot/priority.py; niceness +5
  where there is none): when cores are short, acks come first. It keeps to one core, as the
  report worker does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sys
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack.courier_process import frame, read_frame
from bot.slack.messenger import PauseWorkspaceOn429

logger = logging.getLogger(__name__)

COURIER_NICENESS = 5  # where there is no SCHED_IDLE (bot/priority.py)
MAX_TRIES = 3  # the first, and two after a 429 (as `make_client`'s retry handler)
_ROOT = str(Path(__file__).resolve().parents[2])  # where `bot` is importable from, for the child


class CourierGone(SlackRequestError):
    """The courier process ended before it answered (to a caller, like a dropped connection)."""


class Courier:
    """The server's side of the courier: hands calls over while the process runs and is ready."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = False
        self._gone = False
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ready_event = asyncio.Event()
        self._stopping = False
        self.carried = 0  # calls the process answered (429s included)

    @property
    def ready(self) -> bool:
        """True while the process runs and has said it is ready: calls go to it."""
        return self._ready

    def taking(self) -> bool:
        """True when calls go to the process now; else False, and it is started (on first use)."""
        if self._ready:
            return True
        self.wake()
        return False

    def wake(self) -> None:
        """Start the process in the background, if it is enabled, not started yet and never died."""
        if self.enabled and self._proc is None and self._reader is None and not self._gone:
            self._ready_event.clear()
            self._reader = asyncio.create_task(self._run(), name="slack-courier")

    async def start(self, timeout: float = 30.0) -> bool:
        """Start the process and wait until it is ready; False when it could not be."""
        self.wake()
        if self._reader is None:
            return self._ready
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready_event.wait(), timeout)
        return self._ready

    async def _run(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)}
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.slack.courier_process", str(COURIER_NICENESS),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env)
            assert self._proc.stdout is not None
            while (answer := await read_frame(self._proc.stdout)) is not None:
                if answer.get("ready"):
                    self._ready = True
                    self._ready_event.set()
                    logger.info("slack courier ready", extra={"pid": self._proc.pid})
                    continue
                self.carried += 1
                waiter = self._waiting.pop(int(answer.get("id") or 0), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(answer)
        except Exception:  # noqa: BLE001 - the calls go back to the server's loop
            logger.exception("slack courier failed")
        finally:
            self._ready = False
            self._ready_event.set()
            if self._proc is not None and self._proc.stdin is not None and not self._proc.stdin.is_closing():
                self._proc.stdin.close()  # cancelled (stopped while it started): it leaves on its own
            if not self._stopping:
                self._gone = True
                logger.error("slack courier ended; Web API calls are made by the server from now on")
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(CourierGone())
            self._waiting.clear()

    async def _hand_over(self, request: dict[str, Any]) -> dict[str, Any]:
        proc = self._proc
        if not self._ready or proc is None or proc.stdin is None:
            raise CourierGone()
        rid = next(self._ids)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = waiter
        try:
            proc.stdin.write(frame({"id": rid, **request}))
        except (ConnectionError, RuntimeError) as exc:
            self._waiting.pop(rid, None)
            raise CourierGone() from exc
        return await waiter

    async def call(self, client: AsyncWebClient, method: str, **args: Any) -> None:
        """`client.<method>(**args)` made by the courier; raises `SlackApiError` as the client would
        (after waiting out up to two 429s on the workspace's gate), `CourierGone` when it died."""
        await self._with_retries(client, method, {"method": method, "args": args})

    async def upload_png(self, client: AsyncWebClient, *, user_id: str, png: bytes, title: str,
                         alt_text: str = "") -> str:
        """A chart's PNG into `user_id`'s DM (conversations.open, files_upload_v2) made by the courier;
        the DM's id. Raises as `call`."""
        upload = {"user": user_id, "png": png, "title": title, "alt": alt_text}
        return str((await self._with_retries(client, "files_upload_v2", {"upload": upload}))["channel"])

    async def _with_retries(self, client: AsyncWebClient, method: str, request: dict[str, Any]) -> dict[str, Any]:
        request = {"base": client.base_url, "token": client.token or "", **request}
        for attempt in range(1, MAX_TRIES + 1):
            answer = await self._hand_over(request)
            status = int(answer.get("status") or 0)
            if status == 429 and attempt < MAX_TRIES:
                await self._wait_out(client, float(answer.get("retry_after") or 1.0))
                continue
            if status == 200 and not answer.get("error"):
                return answer
            raise SlackApiError(f"The request to the Slack API failed. (method: {method})", AsyncSlackResponse(
                client=client, http_verb="POST", api_url=client.base_url + method.replace("_", "."), req_args={},
                data={"ok": False, "error": answer.get("error") or f"http_{status}"},
                headers={"Retry-After": str(answer.get("retry_after") or 0)} if status == 429 else {},
                status_code=status))
        raise AssertionError("unreachable")  # pragma: no cover

    async def respond(self, url: str, **args: Any) -> int:
        """A post to a response_url made by the courier; its HTTP status (0: no answer came back)."""
        answer = await self._hand_over({"url": url, "args": args})
        return int(answer.get("status") or 0)

    @staticmethod
    async def _wait_out(client: AsyncWebClient, seconds: float) -> None:
        gate = next((h.gate for h in client.retry_handlers if isinstance(h, PauseWorkspaceOn429)), None)
        if gate is None:
            await asyncio.sleep(seconds)
            return
        await gate.pause_everywhere(seconds)
        await gate.wait_open()

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the calls under way finish (up to `timeout` seconds), then end the process."""
        self._stopping = True
        proc, reader = self._proc, self._reader
        if proc is None and reader is not None:
            reader.cancel()  # stopped before the process was even spawned
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if reader is not None:
            await asyncio.gather(reader, return_exceptions=True)
        self._proc = self._reader = None
        self._ready = False
        self._stopping = False
