"""The Teams face: `build_teams(ctx, settings)` gives the route, the messenger and the lifecycle.

Wiring (bot/app.py)::

    face = build_teams(ctx, settings)
    face.add_routes(web_app)          # POST /api/messages
    ctx.messengers["teams"] = face.messenger   # build_teams does this too
    await face.start()  ...  await face.stop()
"""

from __future__ import annotations

import logging
import warnings

from aiohttp import web
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration

from bot.teams.adapter import app_id, auth_configuration, build_adapter
from bot.teams.agent import PulseAgent
from bot.teams.messenger import TeamsMessenger
from handlers.config import Settings
from handlers.context import Context

logger = logging.getLogger(__name__)

ROUTE = "/api/messages"
# The key the SDK's JWT decorator reads its configuration from (request.app[...]).
_AUTH_KEY = "agent_configuration"


class TeamsFace:
    """Everything the composition root needs from Teams."""

    def __init__(self, ctx: Context, settings: Settings) -> None:
        self.ctx = ctx
        self.app_id = app_id(settings)
        self.local_mode = not self.app_id
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

    def add_routes(self, web_app: web.Application) -> None:
        """`POST /api/messages`; with an app id, a request without a valid Bot Framework JWT gets 401."""
        with warnings.catch_warnings():
            # The SDK looks its config up by this plain string key; aiohttp prefers AppKey objects.
            warnings.simplefilter("ignore")
            web_app[_AUTH_KEY] = self.auth
        web_app.router.add_post(ROUTE, jwt_authorization_decorator(self._messages))

    async def start(self) -> None:
        """Say loudly when Teams requests are not authenticated."""
        if self.local_mode:
            logger.warning(
                "TEAMS LOCAL MODE: MICROSOFT_APP_ID is empty, so /api/messages accepts requests "
                "WITHOUT authentication and calls serviceUrl without a token (Bot Framework Emulator "
                "only; never expose this server to the internet)"
            )
        else:
            logger.info("teams ready", extra={"app_id": self.app_id, "tenant": self.auth.TENANT_ID or "multi-tenant"})

    async def stop(self) -> None:
        """Nothing to release: connector clients live for one turn."""


def build_teams(ctx: Context, settings: Settings) -> TeamsFace:
    """The Teams face for this context, its messenger registered as `ctx.messengers["teams"]`."""
    face = TeamsFace(ctx, settings)
    ctx.messengers.setdefault("teams", face.messenger)
    return face
