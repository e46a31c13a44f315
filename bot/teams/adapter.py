"""The Agents SDK's CloudAdapter, set up for Bot Framework authentication or for the Emulator.

With `MICROSOFT_APP_ID` set, inbound requests must carry a Bot Framework/Entra JWT for that app
(single-tenant when `MICROSOFT_APP_TENANT_ID` is set, multi-tenant otherwise) whose issuer is one
we trust, and outbound calls get a token from MSAL (`microsoft-agents-authentication-msal`).
Without it, and only with `PULSEBOT_TEAMS_EMULATOR=1`, the bot speaks to the Bot Framework
Emulator as it expects: no token in, none out (`bot/teams/app.py` admits loopback clients only).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
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
# The Bot Connector signs the tokens Teams sends with this issuer; its keys are published at
# AuthenticationConstants.PUBLIC_ABS_JWKS_URL (login.botframework.com), which the SDK uses as is.
BOT_FRAMEWORK_ISSUER = AuthenticationConstants.AGENTS_SDK_TOKEN_ISSUER  # https://api.botframework.com


def app_id(settings: Settings) -> str:
    """The bot's Microsoft app id, or "" (then only the Emulator may talk to it)."""
    return (settings.microsoft_app_id or "").strip()


def token_issuers(tenant: str | None) -> list[str]:
    """The issuers an inbound token may have: the Bot Framework's, and for a single-tenant bot
    its own tenant's Entra issuers (v1 and v2)."""
    issuers = [BOT_FRAMEWORK_ISSUER]
    if tenant:
        issuers.append(AuthenticationConstants.VALID_TOKEN_ISSUER_URL_TEMPLATE_V1.format(tenant))
        issuers.append(AuthenticationConstants.VALID_TOKEN_ISSUER_URL_TEMPLATE_V2.format(tenant))
    return issuers


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
        # The SDK checks signature, lifetime and audience, but the issuer only when asked: without
        # this, a token another Entra tenant issued for our app id would be accepted. (The SDK
        # also always trusts Microsoft's own first-party tenants, and binds `tid` to the issuer.)
        validate_issuer=True,
        issuers=token_issuers(tenant),
    )


class _LocalClientFactory(RestChannelServiceClientFactory):
    """Emulator mode: every connector call goes to `serviceUrl` without a token.

    The SDK only goes anonymous when the turn's claims are empty; proactive turns carry the
    (empty) app id as claims, which would ask for a real token, so emulator mode forces it here.
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


class _MsalOnFirstUse:
    """MSAL's token provider (`MsalAuth`), made on its first use rather than at start.

    Importing msal (and the requests it brings) took 0.06-0.09 s of every start with Teams (issue
    14); the first outbound call pays it instead, beside the token it fetches from Entra anyway.
    """

    def __init__(self, config: AgentAuthConfiguration) -> None:
        self._config = config
        self._auth: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name in ("_config", "_auth", "_lock"):  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        if self._auth is None:
            with self._lock:
                if self._auth is None:
                    from microsoft_agents.authentication.msal import MsalAuth

                    self._auth = MsalAuth(self._config)
        return getattr(self._auth, name)


def _msal_installed() -> bool:
    try:
        return importlib.util.find_spec("microsoft_agents.authentication.msal") is not None
    except ModuleNotFoundError:  # not even its parent package
        return False


def build_adapter(settings: Settings, config: AgentAuthConfiguration) -> CloudAdapter:
    """The CloudAdapter: MSAL tokens with an app id, anonymous calls in emulator mode."""
    if not app_id(settings):
        return CloudAdapter(channel_service_client_factory=_local_factory(config))
    if not _msal_installed():
        # Inbound JWTs are still checked; only the bot's own calls to Teams would be refused.
        logger.error(
            "MICROSOFT_APP_ID is set but microsoft-agents-authentication-msal is not installed: "
            "the bot cannot get tokens to call Teams (pip install microsoft-agents-authentication-msal)"
        )
        return CloudAdapter(channel_service_client_factory=_local_factory(config))
    # What MsalConnectionManager is (a ConnectionManager making MsalAuth providers), minus the import.
    manager = ConnectionManager(provider_factory=_MsalOnFirstUse,  # type: ignore[arg-type]
                                connections_configurations={SERVICE_CONNECTION: config})
    return CloudAdapter(connection_manager=manager)
