"""The courier's own process: the Web API calls that only show what is already stored.

Started by `bot.slack.courier.Courier` as `python -m bot.slack.courier_process NICENESS`. It reads one
JSON request a line on standard input and writes one JSON answer a line on standard output, in the
order the calls finish:

    {"id": 7, "base": "https://slack.com/api/", "token": "xoxb-…", "method": "chat_update", "args": {…}}
    {"id": 8, "url": "https://hooks.slack.com/actions/…", "args": {…}}            a response_url
    {"id": 9, "base": …, "token": …, "upload": {"user": "U1", "png": "<base64>", "title": …, "alt": …}}
    {"id": 7, "status": 200, "error": "", "retry_after": 0}                        the answer
    {"id": 9, "status": 200, "error": "", "retry_after": 0, "channel": "D1"}       (an upload's DM)

Its first line is `{"ready": true}`, once slack-sdk is imported and the HTTP session is open.
It never retries: a 429 goes back with its Retry-After, and the server's gate pauses the whole
workspace before it sends again (bot/slack/messenger.py); a lost answer is not sent again, since
only the server knows what is safe to repeat. It keeps one pooled HTTP session, runs at most
`AT_ONCE` calls at a time, and leaves when its standard input closes (the server stopped or died).
It imports slack-sdk and aiohttp only: nothing of the store, the handlers or bolt. It runs only on
cores the server leaves idle (bot/priority.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
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
# A request line holds one rendered message; Block Kit caps a message at 50 blocks of 3,000 chars.
LINE_LIMIT = 16 * 1024 * 1024


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
    async def upload(client: AsyncWebClient, *, user: str, png: str, title: str, alt: str) -> str:
        """A chart's PNG into a person's DM (conversations.open, then files_upload_v2); the DM's id."""
        channel = str((await client.conversations_open(users=user))["channel"]["id"])
        await client.files_upload_v2(channel=channel, content=base64.b64decode(png), filename="pulse.png",
                                     title=title, alt_txt=alt or title)
        return channel


async def serve() -> None:
    """Answer requests from standard input until it closes, then finish the calls under way."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout

    def write(line: dict[str, Any]) -> None:
        out.write(json.dumps(line) + "\n")
        out.flush()

    room = asyncio.Semaphore(AT_ONCE)
    running: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession() as session:
        calls = Calls(session)

        async def one(request: dict[str, Any]) -> None:
            async with room:
                write(await calls.carry(request))

        write({"ready": True})
        while line := await reader.readline():
            try:
                request = json.loads(line)
            except ValueError:
                logger.warning("courier: unreadable request line")
                continue
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
