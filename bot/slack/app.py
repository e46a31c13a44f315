"""The Slack face, assembled: slack-bolt `AsyncApp`, one aiohttp route, Socket Mode, rosters.

`build_slack(ctx, settings)` is what the composition root calls. HTTP requests reach bolt through
its aiohttp adapter (`to_aiohttp_response`); `SlackFace.handle` checks every signature (v0 HMAC,
5-minute window) before bolt or a listener sees anything. With `SLACK_APP_TOKEN` the same app
is driven over Socket Mode instead, for companies without a public URL.

One workspace per `SLACK_BOT_TOKEN`; or, with `SLACK_CLIENT_ID`/`SLACK_CLIENT_SECRET`, as many as
install the app through `GET /slack/install` (see `bot/slack/oauth.py`): then every Web API call
uses the token of the workspace it is about (bolt's authorize for requests, `_client_for` for the
messenger and rosters).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.courier import Courier
from bot.slack.heavy import HeavyLane
from bot.slack.listeners import register_listeners
from bot.slack.messenger import SlackMessenger, WorkspaceGate, make_client
from bot.slack.oauth import Installations
from bot.slack.roster import sync_team
from bot.slack.runtime import SlackRuntime
from bot.slack.translate import payload_problem, read_body
from handlers.config import Settings
from handlers.context import Context
from handlers.errors import ConfigError
from handlers.pauses import pause_left, pause_workspace
from handlers.ports import SendError

if TYPE_CHECKING:  # imported by `start` only with SLACK_APP_TOKEN: an HTTP-only server never loads it
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class StorePause:
    """A workspace's 429 pause in the store (`handlers.pauses`), for `WorkspaceGate`."""

    def __init__(self, ctx: Context, workspace: str) -> None:
        self.ctx = ctx
        self.workspace = workspace

    async def left(self) -> float:
        """Seconds the workspace must still wait, as any process recorded it."""
        return await pause_left(self.ctx, platform="slack", workspace=self.workspace)

    async def hold(self, seconds: float) -> None:
        """Record a pause for every process."""
        await pause_workspace(self.ctx, platform="slack", workspace=self.workspace, seconds=seconds)


class SlackFace:
    """The Slack face of one process: the bolt app, its messenger and its route."""

    def __init__(self, ctx: Context, settings: Settings, *, rate: float = 4.0, burst: int = 8,
                 report_worker: bool = True, courier: bool = True) -> None:
        if bool(settings.slack_client_id) != bool(settings.slack_client_secret):
            raise ConfigError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together (Basic Information → "
                              "App Credentials) to install the app in many workspaces")
        oauth = bool(settings.slack_client_id and settings.slack_client_secret)
        if not oauth and not settings.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN must be set to serve Slack (the bot token, xoxb-...), or "
                              "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install it in many workspaces")
        if oauth and settings.slack_bot_token:
            logger.warning("SLACK_BOT_TOKEN is ignored: with SLACK_CLIENT_ID each workspace's token comes from "
                           "its installation")
        socket_mode = bool(settings.slack_app_token)
        if not socket_mode and not settings.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET must be set to serve Slack over HTTP "
                "(Basic Information → App Credentials), or set SLACK_APP_TOKEN for Socket Mode"
            )
        self.ctx = ctx
        self.settings = settings
        self._rate, self._burst = rate, burst
        self.gate = WorkspaceGate(rate=rate, burst=burst, shared=StorePause(ctx, ""))
        # With OAuth this client has no token: bolt's OAuth flow uses it (oauth.v2.access with the
        # client id and secret, on SLACK_API_URL) and copies its settings into each request's client.
        self.client: AsyncWebClient = make_client(None if oauth else settings.slack_bot_token,
                                                  base_url=settings.slack_api_url, gate=self.gate)
        self.installations: Installations | None = None
        oauth_kwargs: dict[str, Any] = {}
        if oauth:
            assert settings.slack_client_id and settings.slack_client_secret
            self.installations = Installations(ctx.store.engine, client_id=settings.slack_client_id,
                                               client_secret=settings.slack_client_secret)
            oauth_kwargs = {"oauth_settings": self.installations.settings(api_url=settings.slack_api_url),
                            "authorize": self.installations.authorize()}
        # Per workspace (OAuth): its token, a client holding it, and its own rate-limit gate.
        self._clients: dict[str, tuple[str, AsyncWebClient, WorkspaceGate]] = {}
        self._channel_team: dict[str, str] = {}
        # Post-ack Web API calls go to a process of its own once it is up (bot/slack/courier.py).
        self.courier = Courier(enabled=courier)
        self.messenger = SlackMessenger(self._client_for, courier=self.courier)
        self.app = AsyncApp(
            # Named, or bolt reads the caller's file name off `inspect.stack()`, which resolves the
            # path of every frame's source: 0.08 s of every start (issue 14).
            name="pulsebot",
            client=self.client,
            signing_secret=settings.slack_signing_secret,
            # `handle` checks every HTTP request's signature before bolt sees it (a 401 even for an
            # unreadable body), and Socket Mode needs none: bolt checking it again was a second
            # HMAC on every tap (issue 14).
            request_verification_enabled=False,
            # Bolt sends the HTTP response (or Socket Mode's envelope ack) only when the listener
            # returns, not when it calls ack(): listeners store an answer first, then ack and queue
            # the follow-ups (`runtime.later`), so a 200 means stored (DESIGN.md, Reliability).
            process_before_response=True,
            **oauth_kwargs,
        )
        if self.installations is not None:
            self._use_workspace_clients()
        self.runtime = SlackRuntime(ctx=ctx, messenger=self.messenger, roster_sync=self.sync_team,
                                    heavy=HeavyLane(ctx, enabled=report_worker), courier=self.courier)
        register_listeners(self.app, self.runtime)
        # Last: bolt tests every listener's matchers in order for every request, and these two
        # events come once in an app's life (a check-in tap tested both before its own listener).
        if self.installations is not None:
            self._forget_on_uninstall()
        else:
            # The manifest subscribes to them for OAuth; with one token there is nothing to forget,
            # but an event left unanswered would be retried by Slack (and count as a failure).
            self.app.event("app_uninstalled")(self._uninstalled)
            self.app.event("tokens_revoked")(self._uninstalled)
        self._socket: AsyncSocketModeHandler | None = None
        self._http: aiohttp.ClientSession | None = None
        self._verifier = SignatureVerifier(settings.slack_signing_secret) if settings.slack_signing_secret else None
        self._team_id = ""

    async def _client_for(self, workspace: str) -> tuple[AsyncWebClient, WorkspaceGate]:
        """The Web API client and rate-limit gate of a workspace (its own token with OAuth)."""
        if self.installations is None:
            return self.client, self.gate  # one workspace, one bot token
        team_id = workspace or await self._only_workspace()
        token = await self.installations.token_for(team_id)
        if token is None:
            raise SendError("not_installed", transient=False)
        known = self._clients.get(team_id)
        if known is not None and known[0] == token:
            return known[1], known[2]
        gate = known[2] if known is not None else WorkspaceGate(
            rate=self._rate, burst=self._burst, shared=StorePause(self.ctx, team_id))
        client = make_client(token, base_url=self.settings.slack_api_url, gate=gate)
        client.session = self._http
        self._clients[team_id] = (token, client, gate)
        return client, gate

    def _forget_on_uninstall(self) -> None:
        """app_uninstalled / tokens_revoked: bolt deletes the installation, the face its cached client."""
        revoked = self.app.default_tokens_revoked_event_listener()
        uninstalled = self.app.default_app_uninstalled_event_listener()

        async def on_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
            await revoked(event=event, context=context)
            self._forget(str(context.team_id or ""))

        async def on_uninstalled(context: AsyncBoltContext) -> None:
            await uninstalled(context=context)
            self._forget(str(context.team_id or ""))

        self.app.event("tokens_revoked")(on_revoked)
        self.app.event("app_uninstalled")(on_uninstalled)

    def _forget(self, team_id: str) -> None:
        assert self.installations is not None
        self.installations.forget(team_id)
        self._clients.pop(team_id, None)
        self._channel_team = {c: t for c, t in self._channel_team.items() if t != team_id}
        logger.info("slack workspace uninstalled", extra={"team_id": team_id})

    async def _uninstalled(self, body: dict[str, Any]) -> None:
        logger.warning("slack app uninstalled or token revoked; SLACK_BOT_TOKEN no longer works",
                       extra={"event": (body.get("event") or {}).get("type")})

    async def _only_workspace(self) -> str:
        # A member stored without a workspace id (before OAuth was turned on) can only be reached
        # when exactly one workspace installed the app; with more, guessing could DM a stranger.
        assert self.installations is not None
        teams = await self.installations.team_ids()
        if len(teams) != 1:
            raise SendError("workspace_unknown", transient=False)
        return teams[0]

    def _use_workspace_clients(self) -> None:
        """Listeners get their workspace's client (its token and its own rate-limit gate)."""

        @self.app.middleware
        async def workspace_client(context: AsyncBoltContext, next: Any) -> Any:  # noqa: A002 - bolt's name
            team_id, token = context.team_id, context.bot_token
            if team_id and token and not context.is_enterprise_install:
                try:
                    client, _ = await self._client_for(team_id)
                except SendError:
                    client = None
                if client is not None and client.token == token:
                    context["client"] = client
            return await next()

    def add_routes(self, web_app: web.Application) -> None:
        """Add `POST /slack/events` (events, slash commands and interactivity: one URL) when there is a
        signing secret to verify it with, and with OAuth `GET /slack/install` and `GET /slack/oauth_redirect`."""
        if self._verifier is not None:
            web_app.router.add_post(EVENTS_PATH, self.handle)
        else:
            # Socket Mode without SLACK_SIGNING_SECRET: nothing could tell Slack's requests from a
            # stranger's, so the door does not exist (404); Slack talks over the socket instead.
            logger.info("SLACK_SIGNING_SECRET is not set: POST /slack/events is off (Socket Mode only)")
        flow = self.app.oauth_flow
        if flow is not None:
            web_app.router.add_get(flow.install_path, self.install)
            web_app.router.add_get(flow.redirect_uri_path, self.oauth_redirect)

    async def install(self, request: web.Request) -> web.StreamResponse:
        """Start an install: a fresh state (stored, and in a cookie) and a 302 to Slack's authorize page."""
        assert self.app.oauth_flow is not None
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        return await to_aiohttp_response(await self.app.oauth_flow.handle_installation(bolt_request))

    async def oauth_redirect(self, request: web.Request) -> web.StreamResponse:
        """Finish an install: check the state, exchange the code (oauth.v2.access), store the installation."""
        assert self.app.oauth_flow is not None
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        response = await self.app.oauth_flow.handle_callback(bolt_request)
        if response.status == 200:
            logger.info("slack workspace installed")
        else:
            logger.warning("slack install refused", extra={"status": response.status})
        return await to_aiohttp_response(response)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One Slack request, through bolt; a payload bolt cannot read gets a 400, not a crash.

        The signature (v0 HMAC, 5-minute window) is checked here, before anything else, so that an
        unsigned request gets its 401 even when its body is also unreadable; bolt's own check is
        off (the only way into `async_dispatch` over HTTP is this method).
        """
        if self._verifier is None:
            raise web.HTTPNotFound()  # never unsigned; add_routes does not even add the route
        raw = await request.text()
        if not self._signed(raw, request):
            return web.json_response({"ok": False, "error": "invalid_signature"}, status=401)
        try:
            bolt_request = _bolt_request(raw, request)
        except ValueError:
            return web.json_response({"ok": False, "error": "malformed_payload", "detail": "unreadable body"},
                                     status=400)
        problem = payload_problem(bolt_request.body)
        if problem is not None:
            logger.warning("malformed slack payload", extra={"problem": problem})
            return web.json_response({"ok": False, "error": "malformed_payload", "detail": problem}, status=400)
        try:
            # Acks first: work queued after earlier acks waits to start while this one is answered.
            with self.runtime.background.acking():
                bolt_response = await self.app.async_dispatch(bolt_request)
        except Exception:  # noqa: BLE001 - one bad request must not take the server down
            logger.exception("slack request failed")
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        return await to_aiohttp_response(bolt_response)

    def _signed(self, raw: str, request: web.Request) -> bool:
        assert self._verifier is not None
        try:
            return self._verifier.is_valid_request(raw, dict(request.headers))
        except ValueError:  # a timestamp header that is not a number
            return False

    async def team_id(self) -> str:
        """The workspace id of the bot token (auth.test, once)."""
        if not self._team_id:
            self._team_id = str((await self.client.auth_test())["team_id"])
        return self._team_id

    async def sync_team(self, team_name: str) -> int | None:
        """Re-read one team's roster from its channel; None when the team has no `slack_channel`
        (or, with OAuth, when no installed workspace has that channel yet)."""
        team = self.ctx.config.team(team_name)
        if team is None or not team.slack_channel:
            return None
        if self.installations is None:
            return await sync_team(self.ctx, self.client, await self.team_id(), team_name)
        team_id = await self._workspace_of(team.slack_channel)
        if team_id is None:
            logger.warning("no installed workspace has the team's channel",
                           extra={"team": team_name, "channel": team.slack_channel})
            return None
        client, _ = await self._client_for(team_id)
        try:
            return await sync_team(self.ctx, client, team_id, team_name)
        except SlackApiError:
            self._channel_team.pop(team.slack_channel, None)  # look for it again next time
            raise

    async def _workspace_of(self, channel: str) -> str | None:
        """The installed workspace that has `channel` (conversations.info with each one's token; cached)."""
        assert self.installations is not None
        if channel in self._channel_team:
            return self._channel_team[channel]
        for team_id in await self.installations.team_ids():
            try:
                client, _ = await self._client_for(team_id)
                await client.conversations_info(channel=channel)
            except (SlackApiError, SendError):
                continue  # not this workspace's channel (or its token no longer works)
            self._channel_team[channel] = team_id
            return team_id
        return None

    async def sync_rosters(self) -> dict[str, int]:
        """Re-read the roster of every `[[teams]]` entry with a `slack_channel`; sizes by team."""
        sizes = {}
        for team in self.ctx.config.teams:
            if (size := await self.sync_team(team.name)) is not None:
                sizes[team.name] = size
        return sizes

    async def start(self) -> None:
        """Open the pooled HTTP session; connect over Socket Mode when `SLACK_APP_TOKEN` is set."""
        if self._http is None:
            # Without a shared session slack-sdk opens a new connection for every call, which
            # costs more CPU than the call itself and slows the acks of everyone else.
            self._http = aiohttp.ClientSession()
            self.client.session = self._http
            self.runtime.http = self._http
            for _token, client, _gate in self._clients.values():
                client.session = self._http
        if self.installations is not None:
            await self.installations.create_tables()
        if self.runtime.heavy is not None:
            self.runtime.heavy.start()
        if self.settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.settings.slack_app_token, web_client=self.client)
            await self._socket.connect_async()
            logger.info("slack socket mode connected")

    async def stop(self) -> None:
        """Close the Socket Mode connection, if any."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        await self.runtime.background.stop()
        await self.runtime.courier.stop()
        if self.runtime.heavy is not None:
            await self.runtime.heavy.stop()
        if self._http is not None:
            self.client.session = None
            self.runtime.http = None
            self._clients.clear()
            await self._http.close()
            self._http = None


def _bolt_request(raw: str, request: web.Request) -> AsyncBoltRequest:
    """bolt's request for a signed body, read by `read_body` (ValueError when it cannot be): the
    same body, raw body and context bolt builds from the text, without its slower form reading."""
    body = read_body(raw, request.content_type)
    bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
    bolt_request.raw_body, bolt_request.body = raw, body
    bolt_request.context = build_async_context(AsyncBoltContext({}), body)
    return bolt_request


def build_slack(ctx: Context, settings: Settings) -> SlackFace:
    """The Slack face for `bot/app.py`: `face.add_routes(app)`, `ctx.messengers["slack"] = face.messenger`."""
    return SlackFace(ctx, settings)
