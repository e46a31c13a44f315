"""A fake Slack Web API: a real aiohttp server on 127.0.0.1 speaking Slack's documented JSON.

Usage (any test, any helper)::

    from tests.fakes.slack_api import FakeSlack, FakeUser, FakeChannel

    async with FakeSlack(
        users=[FakeUser("U1", "ana", locale="es-ES", tz="Europe/Madrid")],
        channels=[FakeChannel("C1", "soporte", members=["U1", "UPULSEBOT"])],
    ) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        await client.chat_postMessage(channel="U1", text="hola")   # DM by user id → "D…" channel
        fake.calls("chat.postMessage")      # [{"channel": "U1", "text": "hola", ...}] (args as sent)
        fake.messages(fake.dm_channel("U1"))  # what is in that conversation now, oldest first

What it speaks: ``POST``/``GET /api/<method>`` with query, form or JSON arguments; the token in
``Authorization: Bearer`` (or a ``token`` argument) is checked → ``{"ok": false, "error":
"invalid_auth"}``. Methods: auth.test, chat.postMessage (``metadata``), chat.update,
chat.postEphemeral, conversations.members / info / history (``include_all_metadata``) / open,
users.info (``include_locale``), views.open / update / publish, files.getUploadURLExternal +
the upload URL it hands out + files.completeUploadExternal. ``fake.new_response_url()`` gives a
``response_url`` whose posts are recorded as ``calls("response_url")``.

Constructor options: ``rate_per_channel`` and ``rate_per_workspace`` (chat.postMessage per second,
sliding one-second window), ``random_429_ratio`` (any method), ``retry_after`` (seconds in the
``Retry-After`` header, default 1), ``seed``. ``fake.rate_limited(method)`` counts the 429s, and
``fake.timeline`` holds when each call arrived and whether it was answered 429.
``fake.fail_next(method, error=…)`` makes the next call answer ``{"ok": false, "error": …}``;
``fake.fail_next(method, hold=True)`` answers it only when the test calls ``fake.release()`` (a
slow Slack, as slow as the test needs; ``fake.held`` counts the calls waiting);
``fake.fail_next(method, drop=True)`` performs the call, then drops the connection without an
answer (a lost response: the message IS posted). ``fake.add_workspace(token, team_id)`` adds a
second workspace's bot token; ``fake.calls_from(team_id, method)`` gives the calls made with that
workspace's tokens (so a test sees which token was used). A ``FakeChannel``/``FakeUser`` with
``team_id`` set exists only in that workspace (``channel_not_found`` / ``user_not_found``
elsewhere); left ``None`` it is seen from every workspace.

OAuth v2 install (https://docs.slack.dev/authentication/installing-with-oauth): the fake knows one
app, ``client_id`` / ``client_secret`` (constructor options). ``GET /oauth/v2/authorize`` (what
``fake.authorize_url`` points at) plays the user who clicks "Allow": it answers 302 to the
``redirect_uri`` argument, or to ``fake.oauth_redirect_url`` (the app's configured Redirect URL),
with ``code`` and the ``state`` it was given; the code installs the app in
``fake.installing_team`` (``(team_id, team_name)``, default ``("T0NEW", "New Workspace")``).
``fake.new_oauth_code(team_id, team_name)`` issues a code directly. ``oauth.v2.access`` takes the
client id and secret (HTTP Basic or form) and a code, once, and answers the documented JSON with a
new bot token for that team, which the fake then accepts like any other. Socket Mode: apps.connections.open (app-level token
``fake.app_token``) hands out ``ws://…/socket``; ``await fake.push_envelope("slash_commands",
payload)`` sends an envelope, ``fake.socket_acks`` records what the client answered. ``GET /_stats`` gives the call count
(for a bench driving the fake in another process).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from yarl import URL

logger = logging.getLogger(__name__)

BOT_USER_ID = "UPULSEBOT"
_JSON_FIELDS = ("blocks", "metadata", "view", "files", "attachments")


@dataclass
class FakeUser:
    """A seeded Slack user."""

    id: str
    name: str
    tz: str = "Europe/Madrid"
    locale: str = "en-US"
    is_bot: bool = False
    deleted: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    real_name: str = ""
    team_id: str | None = None  # None: seen from every workspace

    def as_json(self, *, include_locale: bool) -> dict[str, Any]:
        """The `user` object of users.info."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "real_name": self.real_name or self.name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "tz": self.tz,
            "profile": {"real_name": self.real_name or self.name, "display_name": self.name},
        }
        if include_locale:
            data["locale"] = self.locale
        return data


@dataclass
class FakeChannel:
    """A seeded channel; the bot is in it when its user id is in `members`."""

    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    team_id: str | None = None  # None: seen from every workspace


@dataclass
class _Failure:
    error: str | None = None
    drop: bool = False
    hold: bool = False
    limited: bool = False


class FakeSlack:
    """The fake Web API server. Start with `await fake.start()` or `async with FakeSlack(...)`."""

    def __init__(
        self,
        *,
        users: list[FakeUser] | tuple[FakeUser, ...] = (),
        channels: list[FakeChannel] | tuple[FakeChannel, ...] = (),
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0TEST",
        bot_user_id: str = BOT_USER_ID,
        app_token: str = "xapp-test-token",
        rate_per_channel: float | None = None,
        rate_per_workspace: float | None = None,
        random_429_ratio: float = 0.0,
        retry_after: int = 1,
        seed: int = 0,
        client_id: str = "1111.2222",
        client_secret: str = "fake-client-secret",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.app_token = app_token
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self.users = {u.id: u for u in users}
        # The app's own bot user exists like any other (is_bot), as in a real workspace.
        self.users.setdefault(bot_user_id, FakeUser(bot_user_id, "pulsebot", is_bot=True))
        self.channels = {c.id: c for c in channels}
        self.rate_per_channel = rate_per_channel
        self.rate_per_workspace = rate_per_workspace
        self.random_429_ratio = random_429_ratio
        self.retry_after = retry_after
        self._random = random.Random(seed)
        self._tokens: dict[str, tuple[str, str]] = {bot_token: (team_id, bot_user_id)}
        self._calls: list[tuple[str, dict[str, Any]]] = []
        # (monotonic time of arrival, method, 200 or 429) of every call, answered or limited.
        self.timeline: list[tuple[float, str, int]] = []
        self._monotonic = monotonic  # Slack's clock for rate windows: a test's SecondsClock moves it
        self._call_teams: list[str] = []  # the workspace of each call's token ("" when none)
        self.client_id = client_id
        self.client_secret = client_secret
        self.oauth_redirect_url = ""
        self.installing_team: tuple[str, str] = ("T0NEW", "New Workspace")
        self._codes: dict[str, tuple[str, str, str]] = {}  # code -> (team_id, team_name, redirect_uri)
        self._limited: dict[str, int] = defaultdict(int)
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._released = asyncio.Event()
        self.held = 0  # calls whose answer waits for `release()` right now
        self._messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._posted_at: dict[str, deque[float]] = defaultdict(deque)
        self._uploads: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port; `self.url` / `self.api_url` say where."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/_stats", self._stats)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Stop listening."""
        self.release()  # a held answer would otherwise keep the server's shutdown waiting
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def authorize_url(self) -> str:
        """Where a browser starts an install (Slack's https://slack.com/oauth/v2/authorize)."""
        return f"{self.url}/oauth/v2/authorize"

    @property
    def api_url(self) -> str:
        """The Web API base URL (what `SLACK_API_URL` / `base_url` take), with a trailing slash."""
        return f"{self.url}/api/"

    # -- what tests read and steer ----------------------------------------------------------------

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Arguments of every answered call of `method` (429s excluded), oldest first."""
        return [args for m, args in self._calls if m == method]

    def calls_from(self, team_id: str, method: str) -> list[dict[str, Any]]:
        """Like `calls`, but only those made with a token of workspace `team_id`."""
        return [args for (m, args), team in zip(self._calls, self._call_teams, strict=True)
                if m == method and team == team_id]

    def new_oauth_code(self, team_id: str, team_name: str = "", redirect_uri: str = "") -> str:
        """A one-time code that oauth.v2.access exchanges for a bot token of `team_id`."""
        code = f"code-{team_id}-{next(self._ids)}"
        self._codes[code] = (team_id, team_name or team_id, redirect_uri)
        return code

    def rate_limited(self, method: str) -> int:
        """How many calls of `method` were answered 429."""
        return self._limited[method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages in a conversation (channel id or `D…` DM id), oldest first."""
        return list(self._messages.get(self._resolve(channel), []))

    def dm_channel(self, user_id: str) -> str:
        """The DM conversation id between the bot and `user_id`."""
        return "D" + user_id.removeprefix("U")

    def uploaded(self, file_id: str) -> bytes | None:
        """The bytes sent to a file's upload URL."""
        return self._uploads.get(file_id)

    def new_response_url(self) -> str:
        """A fresh `response_url`; posts to it are recorded as `calls("response_url")`."""
        return f"{self.url}/response/{next(self._ids)}"

    def fail_next(self, method: str, *, error: str | None = None, drop: bool = False, hold: bool = False,
                  limited: bool = False) -> None:
        """Make the next call of `method` fail: an `ok: false` error, (drop) a lost answer, (hold)
        an answer that comes only after `release()`, or (limited) a 429 with `retry_after`."""
        self._failures[method].append(_Failure(error=error, drop=drop, hold=hold, limited=limited))

    def release(self) -> None:
        """Let held answers go (to whoever is still listening)."""
        self._released.set()

    def _record(self, method: str, args: dict[str, Any], team_id: str = "") -> None:
        self.timeline.append((self._monotonic(), method, 200))
        self._calls.append((method, args))
        self._call_teams.append(team_id)

    def add_workspace(self, token: str, team_id: str, bot_user_id: str = BOT_USER_ID) -> None:
        """Accept another bot token, for another workspace."""
        self._tokens[token] = (team_id, bot_user_id)

    # -- HTTP ------------------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.read()
            ctype = request.content_type
            if ctype == "application/json" and raw:
                args.update(json.loads(raw))
            elif raw:
                args.update(parse_qsl(raw.decode(), keep_blank_values=True))
        for key in _JSON_FIELDS:
            value = args.get(key)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                args[key] = json.loads(value)
        return args

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args = await self._args(request)
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"ok": False, "error": "invalid_form_data"})
        if method == "oauth.v2.access":
            # The app authenticates with its client id and secret, not with a token.
            return web.json_response(self._oauth_access(args, request.headers.get("Authorization", "")))
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ")
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if method == "apps.connections.open" or token == self.app_token:
            # Socket Mode: only the app-level token opens a connection, and it does nothing else.
            if token != self.app_token:
                return web.json_response({"ok": False, "error": "invalid_auth" if token not in self._tokens
                                          else "not_allowed_token_type"})
            if method != "apps.connections.open":
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
            self._record(method, args)
            return web.json_response({"ok": True, "url": self.url.replace("http", "ws", 1) + "/socket"})
        if token not in self._tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        team_id, bot_user = self._tokens[token]
        if self.random_429_ratio and self._random.random() < self.random_429_ratio:
            return self._too_many(method)
        if method == "chat.postMessage" and self._over_rate(team_id, args):
            return self._too_many(method)
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        failure = self._failures[method].popleft() if self._failures[method] else None
        if failure is not None and failure.limited:
            return self._too_many(method)
        if failure is not None and failure.hold:
            self.held += 1
            try:
                await self._released.wait()
            finally:
                self.held -= 1
        if failure is not None and failure.error:
            self._record(method, args, team_id)
            return web.json_response({"ok": False, "error": failure.error})
        self._record(method, args, team_id)
        body = handler(args, team_id=team_id, bot_user=bot_user)
        if failure is not None and failure.drop:
            # The work is done but the answer never arrives: the client sees a dropped connection.
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0)
        return web.json_response(body)

    def _too_many(self, method: str) -> web.Response:
        self.timeline.append((self._monotonic(), method, 429))
        self._limited[method] += 1
        return web.json_response(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(self.retry_after)}
        )

    def _over_rate(self, team_id: str, args: dict[str, Any]) -> bool:
        now = self._monotonic()
        checks = [(f"ch:{self._resolve(str(args.get('channel', '')))}", self.rate_per_channel)]
        checks.append((f"ws:{team_id}", self.rate_per_workspace))
        for key, rate in checks:
            if rate is None:
                continue
            window = self._posted_at[key]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= rate:
                return True
        for key, rate in checks:
            if rate is not None:
                self._posted_at[key].append(now)
        return False

    async def _stats(self, _request: web.Request) -> web.Response:
        # For a test or bench in another process: how many calls so far (to wait for quiet).
        return web.json_response({"calls": len(self._calls), "rate_limited": sum(self._limited.values())})

    async def _upload(self, request: web.Request) -> web.Response:
        self._uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK - " + str(len(self._uploads[request.match_info["file_id"]])))

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        body["_response_url"] = str(request.url)
        self._record("response_url", body)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0PULSE"},
                            "debug_info": {"host": "fake", "approximate_connection_time": 3600}})
        try:
            async for msg in ws:
                if msg.type == web.WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
        finally:
            self._sockets.remove(ws)
        return ws

    @property
    def socket_connected(self) -> bool:
        """Whether a Socket Mode client is connected."""
        return bool(self._sockets)

    async def push_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Send a Socket Mode envelope (events_api, slash_commands, interactive) to the clients."""
        envelope_id = f"env-{next(self._ids)}"
        for ws in list(self._sockets):
            await ws.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
                                "retry_reason": ""})
        return envelope_id

    # -- state helpers ---------------------------------------------------------------------------

    def _resolve(self, channel: str) -> str:
        if channel.startswith(("U", "W")) and channel in self.users:
            return self.dm_channel(channel)
        return channel

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _user_in(self, user_id: str, team_id: str) -> FakeUser | None:
        """The user, when the workspace `team_id` can see them."""
        user = self.users.get(user_id)
        if user is None or (user.team_id is not None and team_id and user.team_id != team_id):
            return None
        return user

    def _channel_in(self, channel: str, team_id: str) -> FakeChannel | None:
        """The channel, when it belongs to the workspace `team_id` (or to every workspace)."""
        known = self.channels.get(channel)
        if known is None or (known.team_id is not None and team_id and known.team_id != team_id):
            return None
        return known

    def _reach(self, channel: str, bot_user: str, team_id: str = "") -> str | None:
        """None when the bot can write in `channel`, else the Slack error code."""
        if channel.startswith("D"):
            user = self._user_in("U" + channel[1:], team_id)
            if user is None:
                return "channel_not_found"
            return "user_not_found" if user.deleted else None
        known = self._channel_in(channel, team_id)
        if known is None:
            return "channel_not_found"
        if bot_user not in known.members:
            return "channel_not_found" if known.is_private else "not_in_channel"
        return None

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    # -- OAuth v2 ----------------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        # The browser step: the installer clicks "Allow", Slack sends them back with a code.
        query = request.query
        if query.get("client_id") != self.client_id:
            return web.Response(status=400, text="invalid_client_id")
        target = query.get("redirect_uri") or self.oauth_redirect_url
        if not target:
            return web.Response(status=400, text="bad_redirect_uri")
        team_id, team_name = self.installing_team
        self._record("oauth.v2.authorize", dict(query))
        code = self.new_oauth_code(team_id, team_name, query.get("redirect_uri", ""))
        params = {"code": code, "state": query.get("state", "")}
        raise web.HTTPFound(str(URL(target).update_query(params)))

    def _oauth_access(self, args: dict[str, Any], authorization: str) -> dict[str, Any]:
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if authorization.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return {"ok": False, "error": "invalid_client_id"}
        self._record("oauth.v2.access", {**args, "client_id": client_id})
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        grant = self._codes.pop(str(args.get("code") or ""), None)  # a code works once
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, team_name, redirect_uri = grant
        if redirect_uri and args.get("redirect_uri") != redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        token = f"xoxb-{team_id}-{next(self._ids)}"
        self.add_workspace(token, team_id, self.bot_user_id)
        return {"ok": True, "access_token": token, "token_type": "bot", "scope": args.get("scope") or "commands",
                "bot_user_id": self.bot_user_id, "app_id": "A0PULSE", "team": {"id": team_id, "name": team_name},
                "enterprise": None, "is_enterprise_install": False, "authed_user": {"id": "UINSTALLER"}}

    # -- methods ---------------------------------------------------------------------------------

    def _m_auth_test(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "pulsebot",
                "team_id": team_id, "user_id": bot_user, "bot_id": "B" + bot_user[1:],
                "is_enterprise_install": False}

    def _m_chat_postMessage(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        channel = self._resolve(str(args.get("channel", "")))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        if (error := self._reach(channel, bot_user, team_id)) is not None:
            return {"ok": False, "error": error}
        if not (args.get("text") or args.get("blocks")):
            return {"ok": False, "error": "no_text"}
        message = {"type": "message", "user": bot_user, "ts": self._next_ts(), "text": args.get("text", ""),
                   "blocks": args.get("blocks") or []}
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        self._messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _m_chat_update(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        message = self._find(channel, str(args.get("ts", "")))
        if self._reach(channel, bot_user, team_id) == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        if message is None:
            return {"ok": False, "error": "message_not_found" if channel in self._messages else "channel_not_found"}
        message["text"] = args.get("text", message["text"])
        if "blocks" in args:
            message["blocks"] = args["blocks"]
        message["edited"] = {"user": bot_user}
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"]}

    def _m_chat_postEphemeral(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        channel = self._resolve(str(args.get("channel", "")))
        if (error := self._reach(channel, bot_user, team_id)) is not None:
            return {"ok": False, "error": error}
        if self._user_in(str(args.get("user", "")), team_id) is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_conversations_members(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        known = self._channel_in(str(args.get("channel", "")), team_id)
        if known is None or (known.is_private and bot_user not in known.members):
            return {"ok": False, "error": "channel_not_found"}
        limit = int(args.get("limit") or 100)
        start = int(args.get("cursor") or 0)
        page = known.members[start:start + limit]
        more = start + limit < len(known.members)
        return {"ok": True, "members": page,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _m_conversations_info(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if channel.startswith("D") and self._user_in("U" + channel[1:], team_id) is not None:
            return {"ok": True, "channel": {"id": channel, "is_im": True, "user": "U" + channel[1:]}}
        known = self._channel_in(channel, team_id)
        if known is None or (known.is_private and bot_user not in known.members):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": known.id, "name": known.name, "is_channel": not known.is_private,
                                        "is_group": known.is_private, "is_private": known.is_private,
                                        "is_im": False, "is_member": bot_user in known.members,
                                        "num_members": len(known.members)}}

    def _m_conversations_history(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if self._reach(channel, bot_user, team_id) == "channel_not_found" or (
                channel not in self._messages and self._reach(channel, bot_user, team_id) is not None):
            return {"ok": False, "error": "channel_not_found"}
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(args.get("limit") or 100)
        out = []
        for message in reversed(self._messages.get(channel, [])):
            copy = {k: v for k, v in message.items() if k != "metadata" or with_metadata}
            out.append(copy)
        return {"ok": True, "messages": out[:limit], "has_more": len(out) > limit}

    def _m_conversations_open(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if len(users) != 1 or self._user_in(users[0], team_id) is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.dm_channel(users[0])}}

    def _m_users_info(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        user = self._user_in(str(args.get("user", "")), team_id)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        include_locale = str(args.get("include_locale", "")).lower() in ("1", "true")
        return {"ok": True, "user": user.as_json(include_locale=include_locale)}

    def _view(self, args: dict[str, Any]) -> dict[str, Any] | None:
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            return None
        return {**view, "id": f"V{next(self._ids):08d}"}

    def _m_views_open(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = self._view(args)
        return {"ok": True, "view": view} if view else {"ok": False, "error": "invalid_arguments"}

    def _m_views_update(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        view = self._view(args)
        return {"ok": True, "view": view} if view else {"ok": False, "error": "invalid_arguments"}

    def _m_views_publish(self, args: dict[str, Any], *, team_id: str, bot_user: str) -> dict[str, Any]:
        if self._user_in(str(args.get("user_id", "")), team_id) is None:
            return {"ok": False, "error": "user_not_found"}
        view = self._view(args)
        return {"ok": True, "view": view} if view else {"ok": False, "error": "invalid_arguments"}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any], *, team_id: str,
                                      bot_user: str) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any], *, team_id: str,
                                        bot_user: str) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        if any(f.get("id") not in self._uploads for f in files):
            return {"ok": False, "error": "file_not_found"}
        channel = args.get("channel_id") or args.get("channels")
        if channel:
            if (error := self._reach(str(channel), bot_user, team_id)) is not None:
                return {"ok": False, "error": error}
            self._messages[str(channel)].append(
                {"type": "message", "user": bot_user, "ts": self._next_ts(),
                 "text": args.get("initial_comment", ""), "files": files}
            )
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title") or "", "name": f.get("title") or ""}
                                      for f in files]}
