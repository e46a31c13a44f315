"""The courier's own process: the Web API calls that only show what is already stored.

Started by `bot.slack.courier.Courier` as `python -m bot.slack.courier_process NICENESS`. It reads
requests on standard input and writes answers on standard output, in the order the calls finish,
each one frame: its length (4 bytes, big-endian) and a pickled dict (`frame`, `read_frame`):

    {"id": 7, "base": "https://slack.com/api/", "token": "xoxb-…", "method": "chat_update", "args": {…}}
    {"id": 8, "url": "https://hooks.slack.com/actions/…", "args": {…}}            a response_url
    {"id": 9, "base": …, "token": …, "upload": {"user": "U1", "png": b"…", "title": …, "alt": …}}
    {"id": 7, "status": 200, "error": "", "retry_after": 0}                        the answer
    {"id": 9, "status": 200, "error": "", "retry_after": 0, "channel": "D1"}       (an upload's DM)

Pickle, not JSON lines: the server writes a redrawn card on every check-in tap, and encoding it as
JSON took 50-60 µs of the server's loop a tap, pickling it 15; a chart's PNG goes as bytes (as
base64 in JSON, 0.5 ms of the loop for a 60 KB chart; pickled, 6 µs). Both ends are this program's
own processes over a private pipe, so each trusts what the other pickled.

Its first frame is `{"ready": True}`, once slack-sdk is imported and the HTTP session is open.
It never retries: a 429 goes back with its Retry-After, and the server's gate pauses the whole
workspace before it sends again (bot/slack/messenger.py); a lost answer is not sent again, since
only the server knows what is safe to repeat. It keeps one pooled HTTP session, runs at most
`AT_ONCE` calls at a time, and leaves when its standard input closes (the server stopped or died).
It imports slack-sdk and aiohttp only: nothing of the store, the handlers or bolt. It runs only on
cores the server leaves idle, on one core (bot/priority.py).
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import struct
import sys
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.priority import yield_to_the_server
from bot.retries import retry_after_of

logger = logging.getLogger("bot.slack.courier")

# The Web API methods the server may hand over; anything else is refused, not called.
METHODS = frozenset({"chat_update", "chat_postEphemeral"})
AT_ONCE = 32
# A request holds one rendered message (Block Kit caps it at 50 blocks of 3,000 chars) or one chart.
FRAME_LIMIT = 16 * 1024 * 1024
_LENGTH = struct.Struct(">I")


class BadFrame(Exception):
    """A frame that cannot be read: the pipe no longer holds this protocol."""


def frame(message: dict[str, Any]) -> bytes:
    """One request or answer as it goes on the pipe: its length, then the pickled dict."""
    body = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next frame's dict; None at the end of the pipe. Raises `BadFrame` for one that is
    not a dict or is longer than `FRAME_LIMIT` (the reader cannot find the next one after it)."""
    try:
        (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
        if length > FRAME_LIMIT:
            raise BadFrame(f"a frame of {length} bytes")
        message = pickle.loads(await reader.readexactly(length))
    except asyncio.IncompleteReadError:
        return None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise BadFrame(repr(exc)) from exc
    if not isinstance(message, dict):
        raise BadFrame(f"a {type(message).__name__}, not a dict")
    return message


class Calls:
    """The calls of one process: one HTTP session, one client per (API URL, token)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self._clients: dict[tuple[str, str], AsyncWebClient] = {}

    def client(self, base: str, token: str) -> AsyncWebClient:
        """A client with no retry handlers at all (slack-sdk's default would resend after a dropped
        connection, which could post twice)."""
        key = (base, token)
        client = self._clients.get(key)
        if client is None:
            client = AsyncWebClient(token=token, base_url=base, session=self.session, timeout=10,
                                    retry_handlers=[])
            self._clients[key] = client
        return client

    async def carry(self, request: dict[str, Any]) -> dict[str, Any]:
        """Make one call; its answer line (status 0: no HTTP answer came back)."""
        answer: dict[str, Any] = {"id": request.get("id"), "status": 200, "error": "", "retry_after": 0}
        try:
            if "upload" in request:
                client = self.client(request["base"], request["token"])
                answer["channel"] = await self.upload(client, **request["upload"])
                return answer
            args = request["args"]
            if "url" in request:
                hook = await AsyncWebhookClient(request["url"], session=self.session, timeout=10,
                                                retry_handlers=[]).send(**args)
                answer["status"] = hook.status_code
                if hook.status_code != 200:
                    answer["error"] = str(hook.body)[:200] or f"http_{hook.status_code}"
                    answer["retry_after"] = retry_after_of(hook.headers) if hook.status_code == 429 else 0
                return answer
            method = request["method"]
            if method not in METHODS:
                return {**answer, "status": 400, "error": "method_not_handed_over"}
            await getattr(self.client(request["base"], request["token"]), method)(**args)
        except SlackApiError as exc:
            status = int(getattr(exc.response, "status_code", 200) or 200)
            answer.update(status=status, error=str(exc.response.get("error") or f"http_{status}"),
                          retry_after=retry_after_of(exc.response.headers) if status == 429 else 0)
        except (KeyError, TypeError) as exc:
            answer.update(status=400, error=f"bad_request: {exc!r}"[:200])
        except Exception as exc:  # noqa: BLE001 - a timeout or a dropped connection: the answer is lost
            answer.update(status=0, error=type(exc).__name__)
        return answer

    @staticmethod
    async def upload(client: AsyncWebClient, *, user: str, png: bytes, title: str, alt: str) -> str:
        """A chart's PNG into a person's DM (conversations.open, then files_upload_v2); the DM's id."""
        channel = str((await client.conversations_open(users=user))["channel"]["id"])
        await client.files_upload_v2(channel=channel, content=png, filename="pulse.png",
                                     title=title, alt_txt=alt or title)
        return channel


async def serve() -> None:
    """Answer requests from standard input until it closes, then finish the calls under way."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout.buffer

    def write(answer: dict[str, Any]) -> None:
        out.write(frame(answer))
        out.flush()

    room = asyncio.Semaphore(AT_ONCE)
    running: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession() as session:
        calls = Calls(session)

        async def one(request: dict[str, Any]) -> None:
            async with room:
                write(await calls.carry(request))

        write({"ready": True})
        while True:
            try:
                request = await read_frame(reader)
            except BadFrame as exc:
                logger.error("courier: unreadable request (%s); leaving", exc)
                break
            if request is None:
                break
            task = asyncio.create_task(one(request))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running, return_exceptions=True)


def main() -> None:
    """`python -m bot.slack.courier_process [NICENESS]` (the niceness where there is no SCHED_IDLE)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    yield_to_the_server(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    asyncio.run(serve())


if __name__ == "__main__":
    main()
