"""The Agents SDK's CloudAdapter, set up for Bot Framework authentication or for local mode.

With `MICROSOFT_APP_ID` set, inbound requests must carry a Bot Framework/Entra JWT for that app
(single-tenant when `MICROSOFT_APP_TENANT_ID` is set, multi-tenant otherwise) and outbound
calls get a token from MSAL (`microsoft-agents-authentication-msal`). With it empty, the bot runs
in local mode as the Bot Framework Emulator expects: no token in, none out.
"""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import RestChannelServiceClientFactory
from microsoft_agents.hosting.core.authorization import (
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectionManager,
)

from handlers.config import Settings

logger = logging.getLogger(__name__)

SERVICE_CONNECTION = "SERVICE_CONNECTION"
LOCAL_APP_ID = "local"


def app_id(settings: Settings) -> str:
    """The bot's Microsoft app id, or "" in local mode."""
    return (settings.microsoft_app_id or "").strip()


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """How inbound tokens are checked (and, with MSAL, how outbound ones are obtained)."""
    bot_id = app_id(settings)
    if not bot_id:
        return AgentAuthConfiguration(anonymous_allowed=True, connection_name=SERVICE_CONNECTION)
    tenant = (settings.microsoft_app_tenant_id or "").strip() or None
    return AgentAuthConfiguration(
        client_id=bot_id,
        tenant_id=tenant,
        client_secret=settings.microsoft_app_password or None,
        anonymous_allowed=False,
        connection_name=SERVICE_CONNECTION,
    )


class _LocalClientFactory(RestChannelServiceClientFactory):
    """Local mode: every connector call goes to `serviceUrl` without a token.

    The SDK only goes anonymous when the turn's claims are empty; proactive turns carry the
    (empty) app id as claims, which would ask for a real token, so local mode forces it here.
    """

    async def create_connector_client(
        self,
        context: Any,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> Any:
        """A connector client for `service_url` that sends no Authorization header."""
        return await super().create_connector_client(
            context, claims_identity, service_url, audience or "local", scopes, use_anonymous=True
        )

    async def create_user_token_client(
        self, context: Any, claims_identity: ClaimsIdentity, use_anonymous: bool = False
    ) -> Any:
        """The user-token client, anonymous (pulsebot uses no user sign-in).

        It is named "local" so the SDK does not warn on every turn about a missing app id.
        """
        local = ClaimsIdentity({AuthenticationConstants.APP_ID_CLAIM: LOCAL_APP_ID})
        return await super().create_user_token_client(context, local, use_anonymous=True)


def _local_factory(config: AgentAuthConfiguration) -> _LocalClientFactory:
    connections = ConnectionManager(
        provider_factory=lambda _cfg: AnonymousTokenProvider(),
        connections_configurations={SERVICE_CONNECTION: config},
    )
    return _LocalClientFactory(connections)


def build_adapter(settings: Settings, config: AgentAuthConfiguration) -> CloudAdapter:
    """The CloudAdapter: MSAL tokens with an app id, anonymous calls in local mode."""
    if not app_id(settings):
        return CloudAdapter(channel_service_client_factory=_local_factory(config))
    try:
        from microsoft_agents.authentication.msal import MsalConnectionManager
    except ImportError:
        # Inbound JWTs are still checked; only the bot's own calls to Teams would be refused.
        logger.error(
            "MICROSOFT_APP_ID is set but microsoft-agents-authentication-msal is not installed: "
            "the bot cannot get tokens to call Teams (pip install microsoft-agents-authentication-msal)"
        )
        return CloudAdapter(channel_service_client_factory=_local_factory(config))
    manager = MsalConnectionManager(connections_configurations={SERVICE_CONNECTION: config})
    return CloudAdapter(connection_manager=manager)
