"""Many workspaces: Slack's OAuth v2 install flow, with installations kept in our own database.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET the face is a distributed app: `GET /slack/install`
sends the installer to Slack's authorize page with a one-time state, and `GET
/slack/oauth_redirect` exchanges the code for a bot token (oauth.v2.access) and stores it. Both are
bolt's `AsyncOAuthFlow`; the installations and states live in slack-sdk's async SQLAlchemy stores
on the store's own engine (tables `slack_bots`, `slack_installations`, `slack_oauth_states`,
created by the stores themselves and left alone by our Alembic migrations). See
https://docs.slack.dev/authentication/installing-with-oauth.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlalchemy
import sqlalchemy.exc
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

# The bot scopes of manifest.yml, one for one (tests/slack/test_slack_oauth.py keeps them equal).
BOT_SCOPES = ("commands", "chat:write", "im:write", "im:history", "channels:read", "groups:read", "users:read",
              "files:write")
SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
STATE_SECONDS = 600  # an install link is good for ten minutes (bolt's default)
TOKEN_TTL = 60.0  # how long a workspace's token is trusted before it is read again


def authorize_url_for(api_url: str | None) -> str:
    """Slack's authorize page beside the Web API base URL (`https://slack.com/api/` → `/oauth/v2/authorize`).

    Following SLACK_API_URL keeps the whole install on one host: Slack's own, or a local fake.
    """
    if not api_url:
        return SLACK_AUTHORIZE_URL
    base = api_url.rstrip("/")
    base = base.removesuffix("/api")
    return base + "/oauth/v2/authorize"


class Installations:
    """The workspaces that installed the app, and their bot tokens (cached for `TOKEN_TTL`)."""

    def __init__(self, engine: AsyncEngine, *, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.store = AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=logger)
        self.states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=logger)
        self._tokens: dict[str, tuple[float, str]] = {}

    async def create_tables(self) -> None:
        """Create the stores' tables when missing (their own `create_all`, which checks first)."""
        for attempt in range(3):
            try:
                await self.store.create_tables()
                await self.states.create_tables()
                return
            except sqlalchemy.exc.DBAPIError:
                # Replicas starting together on one PostgreSQL may both see a table missing and
                # both create it; the loser's next look finds it there.
                if attempt == 2:
                    raise
                logger.info("slack oauth tables created by another process; checking again")

    def settings(self, *, api_url: str | None) -> AsyncOAuthSettings:
        """bolt's OAuth settings: our stores, the manifest's scopes, a 302 to Slack from /slack/install."""
        return AsyncOAuthSettings(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
            # Straight to Slack's page: our own "Add to Slack" page would add nothing but a click.
            install_page_rendering_enabled=False,
            authorization_url=authorize_url_for(api_url),
            installation_store=self.store,
            installation_store_bot_only=True,
            state_store=self.states,
            state_expiration_seconds=STATE_SECONDS,
            logger=logger,
        )

    def authorize(self) -> AsyncInstallationStoreAuthorize:
        """How bolt finds each request's token: our installations, bot tokens only.

        The cache keeps auth.test's answer per token (bot and user ids), so a request does not
        cost a Web API call before its ack; the token itself is still read from the store each time,
        so an uninstalled workspace is refused at once.
        """
        return AsyncInstallationStoreAuthorize(
            logger=logger,
            installation_store=self.store,
            client_id=self.client_id,
            client_secret=self.client_secret,
            bot_only=True,
            cache_enabled=True,
        )

    async def token_for(self, team_id: str) -> str | None:
        """The bot token of workspace `team_id`, or None when it has not installed the app."""
        now = time.monotonic()
        hit = self._tokens.get(team_id)
        if hit is not None and now - hit[0] < TOKEN_TTL:
            return hit[1]
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        token = bot.bot_token if bot is not None else None
        if token is not None:
            # Only found tokens are kept: a workspace installed a moment ago through another
            # replica must not look uninstalled here for a minute.
            self._tokens[team_id] = (now, token)
        return token

    def forget(self, team_id: str) -> None:
        """Drop a cached token (after an `invalid_auth`, or an uninstall)."""
        self._tokens.pop(team_id, None)

    async def team_ids(self) -> list[str]:
        """Every workspace with a bot token, oldest install first."""
        bots = self.store.bots
        query: Any = (
            sqlalchemy.select(bots.c.team_id, sqlalchemy.func.min(bots.c.installed_at).label("first"))
            .where(bots.c.client_id == self.client_id, bots.c.team_id.is_not(None), bots.c.bot_token.is_not(None))
            .group_by(bots.c.team_id)
            .order_by("first")
        )
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [str(row[0]) for row in rows]
