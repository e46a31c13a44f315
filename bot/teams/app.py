"""The Teams face: `build_teams(ctx, settings)` gives the route, the messenger and the lifecycle.

Wiring (bot/app.py, only when Teams is configured: `MICROSOFT_APP_ID`, or
`PULSEBOT_TEAMS_EMULATOR=1` for the Bot Framework Emulator)::

    face = build_teams(ctx, settings)
    face.add_routes(web_app)          # POST /api/messages
    ctx.messengers["teams"] = face.messenger   # build_teams does this too
    await face.start()  ...  await face.stop()

Who may knock (DESIGN.md, "Reliability"): with an app id, a request needs a Bot Framework JWT
(signature, lifetime, audience, issuer: `bot/teams/adapter.py`) and its activity's `serviceUrl`
must be the one the token vouches for, so replies never go where a caller chose. In emulator
mode nothing is signed, so only this machine may knock: a loopback peer, not relayed by a proxy,
whose `serviceUrl` is on this machine too.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import warnings
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration, AuthenticationConstants

from bot.teams.adapter import app_id, auth_configuration, build_adapter
from bot.teams.agent import PulseAgent
from bot.teams.messenger import TeamsMessenger
from handlers.config import Settings
from handlers.context import Context
from handlers.errors import ConfigError

logger = logging.getLogger(__name__)

ROUTE = "/api/messages"
# The key the SDK's JWT decorator reads its configuration from (request.app[...]).
_AUTH_KEY = "agent_configuration"
# A proxy on this machine makes every client look local; one that says so is not trusted.
_RELAY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def is_loopback(host: str | None) -> bool:
    """Whether `host` (a peer address or a URL's host) is this machine: 127.0.0.0/8, ::1
    (also as ::ffff:127.x), or the name localhost."""
    if not host:
        return False
    host = host.strip("[]").split("%")[0]  # "[::1]" in URLs; "fe80::1%eth0" scope ids
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def same_service_url(vouched: Any, given: Any) -> bool:
    """Whether the activity's serviceUrl is the token's `serviceurl` claim.

    As the Bot Framework's own channel validation does: both present, equal but for case (and a
    trailing slash). A token that vouches for no serviceUrl vouches for none.
    """
    if not isinstance(vouched, str) or not isinstance(given, str) or not vouched or not given:
        return False
    return vouched.strip().rstrip("/").casefold() == given.strip().rstrip("/").casefold()


async def _service_url(request: web.Request) -> tuple[bool, Any]:
    """(readable, serviceUrl) of the posted activity; aiohttp keeps the body for the SDK's own read."""
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return False, None
    return True, body.get("serviceUrl") if isinstance(body, dict) else None


class TeamsFace:
    """Everything the composition root needs from Teams."""

    def __init__(self, ctx: Context, settings: Settings) -> None:
        self.ctx = ctx
        self.app_id = app_id(settings)
        self.emulator = not self.app_id
        self._emulator_ignored = bool(self.app_id and settings.pulsebot_teams_emulator)
        if self.emulator and not settings.pulsebot_teams_emulator:
            # Never a door without a lock: no app id means no Teams, unless the operator asks
            # for the Emulator by name.
            raise ConfigError(
                "Teams needs MICROSOFT_APP_ID (and MICROSOFT_APP_PASSWORD), or PULSEBOT_TEAMS_EMULATOR=1 "
                "to talk to the Bot Framework Emulator on this machine"
            )
        self.auth: AgentAuthConfiguration = auth_configuration(settings)
        self.adapter: CloudAdapter = build_adapter(settings, self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.messenger = TeamsMessenger(ctx, self.adapter, self.app_id)
        self.agent = PulseAgent(ctx, self.messenger)

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        # The SDK's default prints the traceback and sends the exception text to the user.
        logger.error("teams turn error", exc_info=error)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        try:
            response = await self.adapter.process(request, self.agent)
        except ValueError:
            # An activity the SDK's model refuses (wrong types, missing fields): nothing was done.
            return web.json_response({"error": "malformed activity"}, status=400)
        return response or web.Response(status=202)

    async def _vouched(self, request: web.Request) -> web.StreamResponse:
        """With an app id, after the JWT check: the activity's serviceUrl must be the token's."""
        readable, service_url = await _service_url(request)
        if not readable:
            return web.json_response({"error": "malformed activity"}, status=400)
        claims = request.get("claims_identity")
        vouched = claims.get_claim_value(AuthenticationConstants.SERVICE_URL_CLAIM) if claims else None
        if not same_service_url(vouched, service_url):
            # Replying would post to an address the caller chose (server-side request forgery).
            logger.warning("teams activity refused: its serviceUrl is not the one its token vouches for")
            return web.json_response({"error": "serviceUrl is not the one the token vouches for"}, status=401)
        return await self._messages(request)

    async def _from_this_machine(self, request: web.Request) -> web.StreamResponse:
        """Emulator mode: unauthenticated, so only a loopback client may knock, about a loopback serviceUrl."""
        relayed = any(name in request.headers for name in _RELAY_HEADERS)
        if relayed or not is_loopback(request.remote):
            logger.warning("teams emulator mode: request from another machine refused",
                           extra={"peer": request.remote, "relayed": relayed})
            return web.json_response({"error": "the emulator endpoint answers this machine only"}, status=403)
        readable, service_url = await _service_url(request)
        if not readable:
            return web.json_response({"error": "malformed activity"}, status=400)
        if service_url is not None and not is_loopback(urlsplit(str(service_url)).hostname):
            logger.warning("teams emulator mode: a serviceUrl on another machine refused")
            return web.json_response({"error": "in emulator mode serviceUrl must be on this machine"}, status=403)
        return await self._messages(request)

    def add_routes(self, web_app: web.Application) -> None:
        """`POST /api/messages`: with an app id, a request without a valid Bot Framework JWT gets
        401; in emulator mode, a request from another machine gets 403."""
        if self.emulator:
            web_app.router.add_post(ROUTE, self._from_this_machine)
            return
        with warnings.catch_warnings():
            # The SDK looks its config up by this plain string key; aiohttp prefers AppKey objects.
            warnings.simplefilter("ignore")
            web_app[_AUTH_KEY] = self.auth
        web_app.router.add_post(ROUTE, jwt_authorization_decorator(self._vouched))

    async def start(self) -> None:
        """Say loudly when Teams requests are not authenticated."""
        if self.emulator:
            logger.warning(
                "TEAMS EMULATOR MODE: PULSEBOT_TEAMS_EMULATOR=1 and no MICROSOFT_APP_ID, so /api/messages "
                "accepts requests WITHOUT authentication from this machine (loopback) only, and calls "
                "serviceUrl without a token (Bot Framework Emulator only; never set it in production)"
            )
            return
        if self._emulator_ignored:
            logger.warning("PULSEBOT_TEAMS_EMULATOR is ignored: with MICROSOFT_APP_ID every request is authenticated")
        logger.info("teams ready", extra={"app_id": self.app_id, "tenant": self.auth.TENANT_ID or "multi-tenant"})

    async def stop(self) -> None:
        """Nothing to release: connector clients live for one turn."""


def build_teams(ctx: Context, settings: Settings) -> TeamsFace:
    """The Teams face for this context, its messenger registered as `ctx.messengers["teams"]`."""
    face = TeamsFace(ctx, settings)
    ctx.messengers.setdefault("teams", face.messenger)
    return face
