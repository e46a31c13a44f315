"""The Slack face, assembled: slack-bolt `AsyncApp`, one aiohttp route, Socket Mode, rosters.

`build_slack(ctx, settings)` is what the composition root calls. HTTP requests reach bolt through
its aiohttp adapter (`to_bolt_request` / `to_aiohttp_response`), so bolt checks every signature
(v0 HMAC, 5-minute window) before a listener sees anything. With `SLACK_APP_TOKEN` the same app
is driven over Socket Mode instead, for companies without a public URL.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.heavy import HeavyLane
from bot.slack.listeners import register_listeners
from bot.slack.messenger import SlackMessenger, WorkspaceGate, make_client
from bot.slack.roster import sync_team
from bot.slack.runtime import SlackRuntime
from bot.slack.translate import payload_problem
from handlers.config import Settings
from handlers.context import Context
from handlers.errors import ConfigError

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackFace:
    """The Slack face of one process: the bolt app, its messenger and its route."""

    def __init__(self, ctx: Context, settings: Settings, *, rate: float = 4.0, burst: int = 8,
                 report_worker: bool = True) -> None:
        if not settings.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN must be set to serve Slack (the bot token, xoxb-...)")
        socket_mode = bool(settings.slack_app_token)
        if not socket_mode and not settings.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET must be set to serve Slack over HTTP "
                "(Basic Information → App Credentials), or set SLACK_APP_TOKEN for Socket Mode"
            )
        self.ctx = ctx
        self.settings = settings
        self.gate = WorkspaceGate(rate=rate, burst=burst)
        self.client: AsyncWebClient = make_client(settings.slack_bot_token, base_url=settings.slack_api_url,
                                                  gate=self.gate)
        self.messenger = SlackMessenger(self._client_for)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret,
            request_verification_enabled=not socket_mode or bool(settings.slack_signing_secret),
            # Listeners ack, queue their work (`runtime.later`) and return at once, so bolt can
            # answer as soon as they return instead of polling for the ack every 10 ms.
            process_before_response=True,
        )
        self.runtime = SlackRuntime(ctx=ctx, messenger=self.messenger, roster_sync=self.sync_team,
                                    heavy=HeavyLane(ctx, enabled=report_worker))
        register_listeners(self.app, self.runtime)
        self._socket: AsyncSocketModeHandler | None = None
        self._http: aiohttp.ClientSession | None = None
        self._verifier = SignatureVerifier(settings.slack_signing_secret) if settings.slack_signing_secret else None
        self._team_id = ""

    async def _client_for(self, workspace: str) -> tuple[AsyncWebClient, WorkspaceGate]:
        # One workspace per bot token; OAuth (many workspaces) would look the token up here.
        return self.client, self.gate

    def add_routes(self, web_app: web.Application) -> None:
        """Add `POST /slack/events` (events, slash commands and interactivity: one URL)."""
        web_app.router.add_post(EVENTS_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One Slack request, through bolt; a payload bolt cannot read gets a 400, not a crash.

        The signature is checked here first (bolt checks it again) so that an unsigned request
        gets its 401 even when its body is also unreadable.
        """
        raw = await request.text()
        if self._verifier is not None and not self._signed(raw, request):
            return web.json_response({"ok": False, "error": "invalid_signature"}, status=401)
        try:
            bolt_request = AsyncBoltRequest(body=raw, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        except ValueError:
            return web.json_response({"ok": False, "error": "malformed_payload", "detail": "unreadable body"},
                                     status=400)
        problem = payload_problem(bolt_request.body)
        if problem is not None:
            logger.warning("malformed slack payload", extra={"problem": problem})
            return web.json_response({"ok": False, "error": "malformed_payload", "detail": problem}, status=400)
        try:
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
        """Re-read one team's roster from its channel; None when the team has no `slack_channel`."""
        team = self.ctx.config.team(team_name)
        if team is None or not team.slack_channel:
            return None
        return await sync_team(self.ctx, self.client, await self.team_id(), team_name)

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
        if self.runtime.heavy is not None:
            self.runtime.heavy.start()
        if self.settings.slack_app_token:
            self._socket = AsyncSocketModeHandler(self.app, self.settings.slack_app_token, web_client=self.client)
            await self._socket.connect_async()
            logger.info("slack socket mode connected")

    async def stop(self) -> None:
        """Close the Socket Mode connection, if any."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        await self.runtime.background.stop()
        if self.runtime.heavy is not None:
            await self.runtime.heavy.stop()
        if self._http is not None:
            self.client.session = None
            self.runtime.http = None
            await self._http.close()
            self._http = None


def build_slack(ctx: Context, settings: Settings) -> SlackFace:
    """The Slack face for `bot/app.py`: `face.add_routes(app)`, `ctx.messengers["slack"] = face.messenger`."""
    return SlackFace(ctx, settings)
