"""The Slack side of `handlers.ports.Messenger`: DMs, channel posts and edits, within rate limits.

Reliability (DESIGN.md): every DM carries its delivery key in message metadata, so after a lost
answer `find_direct` can look it up with conversations.history before anything is re-sent. The
Web API clients retry only after a 429 (nothing was posted then); never after a timeout or a
dropped connection, which could post twice. One token bucket per workspace paces
chat.postMessage, and a 429 pauses the whole workspace for its `Retry-After`, because Slack's
limit is the workspace's, not the request's
(https://docs.slack.dev/apis/web-api/rate-limits).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.retries import retry_after_of
from bot.slack.blocks import render_message
from handlers.messages import Message
from handlers.ports import Recipient, SendError, Sent

if TYPE_CHECKING:
    from bot.slack.courier import Courier

logger = logging.getLogger(__name__)

DELIVERY_EVENT = "pulsebot_delivery"
# Slack errors worth another try later; anything else marks the delivery failed.
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
HISTORY_LOOKBACK = 100


class SharedPause(Protocol):
    """Where a workspace's 429 pause is kept for every process (the store; `handlers.pauses`)."""

    async def left(self) -> float:
        """Seconds the workspace must still wait."""
        ...

    async def hold(self, seconds: float) -> None:
        """Record a pause of `seconds` from now."""
        ...


# How often a gate re-reads the shared pause: a second process learns of a 429 within this.
SHARED_CHECK_EVERY = 1.0


class WorkspaceGate:
    """A token bucket for one workspace, which a 429 closes for its `Retry-After`.

    With `shared`, the pause is also written to and read from the store, so another process
    (a `checkins send` beside `serve`, a replica, this one after a restart) honours it too.
    """

    def __init__(
        self,
        rate: float = 4.0,
        burst: int = 8,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        shared: SharedPause | None = None,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.shared = shared
        self._checked = float("-inf")

    @property
    def paused_for(self) -> float:
        """Seconds until the workspace may send again after a 429 (0 when open)."""
        return max(0.0, self._paused_until - self._monotonic())

    def pause(self, seconds: float) -> None:
        """Close the gate for `seconds` (a 429's Retry-After); the bucket starts empty after."""
        until = self._monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self._tokens = 0.0
            logger.warning("workspace paused by a rate limit", extra={"retry_after": seconds})

    async def pause_everywhere(self, seconds: float) -> None:
        """`pause`, and record it where every process looks."""
        self.pause(seconds)
        if self.shared is not None:
            try:
                await self.shared.hold(seconds)
            except Exception:  # noqa: BLE001 - this process still honours it; the store may be down
                logger.exception("could not record the workspace pause in the store")

    async def _read_shared(self) -> None:
        if self.shared is None or self._monotonic() - self._checked < SHARED_CHECK_EVERY:
            return
        self._checked = self._monotonic()
        try:
            left = await self.shared.left()
        except Exception:  # noqa: BLE001 - keep sending on the local state if the store hiccups
            logger.warning("could not read the workspace pause from the store")
            return
        if left > self.paused_for:
            self.pause(left)

    async def wait_open(self) -> None:
        """Wait out a pause, if any (this process's, or one another process recorded)."""
        await self._read_shared()
        while (left := self.paused_for) > 0:
            await self._sleep(left)
            await self._read_shared()

    async def acquire(self) -> None:
        """Wait for a pause to end and for a token, then take it."""
        async with self._lock:
            while True:
                await self.wait_open()
                now = self._monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._sleep((1 - self._tokens) / self.rate)


class PauseWorkspaceOn429(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's rate-limit retry, but the wait closes the workspace's gate for every sender."""

    def __init__(self, gate: WorkspaceGate, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.gate = gate

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Pause the workspace for Retry-After, wait for it to reopen, then let the sdk retry."""
        if response is None:
            raise error or RuntimeError("rate-limit retry without a response")
        state.next_attempt_requested = True
        await self.gate.pause_everywhere(retry_after_of(response.headers))
        await self.gate.wait_open()
        state.increment_current_attempt()


def make_client(token: str | None, *, base_url: str | None, gate: WorkspaceGate) -> AsyncWebClient:
    """A Web API client for one workspace: `SLACK_API_URL` honoured, retries only after a 429."""
    kwargs: dict[str, Any] = {"token": token, "retry_handlers": [PauseWorkspaceOn429(gate)], "timeout": 10}
    if base_url:
        kwargs["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
    return AsyncWebClient(**kwargs)


def send_error(exc: Exception) -> SendError:
    """Classify a failed call: transient (retry later, after a check) or final."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = str(exc.response.get("error", "")) if exc.response is not None else ""
        if status == 429 or error == "ratelimited":
            return SendError("ratelimited", transient=True, retry_after=retry_after_of(exc.response.headers))
        if status >= 500 or error in TRANSIENT_ERRORS:
            return SendError(error or f"http_{status}", transient=True)
        return SendError(error or f"http_{status}", transient=False)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | SlackRequestError):
        # The answer was lost, not necessarily the message: the caller checks with find_direct.
        return SendError(type(exc).__name__, transient=True)
    return SendError(repr(exc), transient=False)


ClientFor = Callable[[str], Awaitable[tuple[AsyncWebClient, WorkspaceGate]]]


class SlackMessenger:
    """`Messenger` for Slack. `client_for(workspace)` gives that workspace's client and gate; a chart
    is uploaded by the `courier` process when it is ready (bot/slack/courier.py)."""

    platform = "slack"
    can_look = True  # conversations.history and the delivery key in the message's metadata

    def __init__(self, client_for: ClientFor, *, courier: Courier | None = None) -> None:
        self._client_for = client_for
        self.courier = courier

    async def _post(self, workspace: str, **kwargs: Any) -> Any:
        client, gate = await self._client_for(workspace)
        await gate.acquire()
        try:
            return await client.chat_postMessage(**kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a classified SendError
            raise send_error(exc) from exc

    async def send_direct(self, *, to: Recipient, message: Message, delivery_key: str) -> Sent:
        """DM by user id (Slack opens the DM itself; no conversations.open per member)."""
        answer = await self._post(
            to.workspace,
            channel=to.user_id,
            metadata={"event_type": DELIVERY_EVENT, "event_payload": {"key": delivery_key}},
            unfurl_links=False,
            **render_message(message),
        )
        return Sent(conversation=answer["channel"], ref=answer["ts"])

    async def find_direct(self, *, to: Recipient, delivery_key: str) -> Sent | None:
        """The DM already sent with this key, looked up by its metadata."""
        client, gate = await self._client_for(to.workspace)
        await gate.wait_open()
        try:
            channel = to.dm_conversation
            if not channel:
                # Only after a lost answer and with no DM id known yet: a rare, necessary open.
                channel = (await client.conversations_open(users=to.user_id))["channel"]["id"]
            history = await client.conversations_history(
                channel=channel, include_all_metadata=True, limit=HISTORY_LOOKBACK
            )
        except Exception as exc:  # noqa: BLE001
            raise send_error(exc) from exc
        messages: list[dict[str, Any]] = history.get("messages") or []
        for item in messages:
            meta = item.get("metadata") or {}
            if meta.get("event_type") == DELIVERY_EVENT and (meta.get("event_payload") or {}).get("key") == delivery_key:
                return Sent(conversation=channel, ref=item["ts"])
        return None

    async def post(self, *, conversation: str, message: Message, thread_ref: str | None = None,
                   workspace: str = "") -> Sent:
        """A visible message in a channel (in a thread when `thread_ref`)."""
        kwargs: dict[str, Any] = {"channel": conversation, **render_message(message), "unfurl_links": False}
        if thread_ref:
            kwargs["thread_ts"] = thread_ref
        answer = await self._post(workspace, **kwargs)
        return Sent(conversation=answer["channel"], ref=answer["ts"])

    async def update(self, *, conversation: str, ref: str, message: Message, workspace: str = "") -> None:
        """Replace an earlier message in place (chat.update)."""
        client, gate = await self._client_for(workspace)
        await gate.wait_open()
        try:
            await client.chat_update(channel=conversation, ts=ref, **render_message(message))
        except Exception as exc:  # noqa: BLE001
            raise send_error(exc) from exc

    async def upload_png(self, *, user_id: str, png: bytes, title: str, alt_text: str = "",
                         workspace: str = "") -> str:
        """Upload a chart to the member's DM (files_upload_v2); returns the DM channel id."""
        client, gate = await self._client_for(workspace)
        await gate.acquire()
        try:
            if self.courier is not None and self.courier.taking():
                return await self.courier.upload_png(client, user_id=user_id, png=png, title=title,
                                                     alt_text=alt_text)
            channel = (await client.conversations_open(users=user_id))["channel"]["id"]
            await client.files_upload_v2(
                channel=channel, content=png, filename="pulse.png", title=title, alt_txt=alt_text or title
            )
        except Exception as exc:  # noqa: BLE001
            raise send_error(exc) from exc
        return channel
