"""The composition root: builds the store, config, context, faces and the web server. Nothing else wires."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.console.messenger import ConsoleMessenger
from bot.web.app import Dashboard
from handlers.config import PulseConfig, Settings, load_config, parse_config
from handlers.context import Context
from handlers.demo import DEMO_CONFIG
from handlers.ports import Clock, SystemClock
from handlers.secret import check_secret
from handlers.setup import apply_config
from storage.db import Store
from storage.migrate import upgrade

logger = logging.getLogger(__name__)


def read_config(settings: Settings, *, demo: bool = False) -> PulseConfig:
    """The config file in force; the demo company's when `demo` and the file names no team."""
    explicit = "PULSEBOT_CONFIG" in os.environ
    config = load_config(settings.pulsebot_config, must_exist=explicit)
    if demo and not config.teams:
        return parse_config(DEMO_CONFIG, "demo company")
    return config


async def build_context(
    settings: Settings,
    *,
    demo: bool = False,
    needs_secret: bool = True,
    clock: Clock | None = None,
    migrate: bool = True,
) -> Context:
    """Open the store (migrated), apply the config, and register the console messenger.

    Commands that never compute a respondent key (report, schedule) pass `needs_secret=False`
    and get a random key nobody can reuse, so they run without PULSEBOT_SECRET.
    """
    config = read_config(settings, demo=demo)
    if needs_secret or settings.pulsebot_secret:
        secret = settings.secret(allow_demo=demo)
    else:
        secret = os.urandom(32)
    store = Store(settings.database_url)
    if migrate:
        await upgrade(store)
    if needs_secret:
        try:
            await check_secret(store, secret)
        except BaseException:
            await store.dispose()
            raise
    ctx = Context(store=store, config=config, secret=secret, clock=clock or SystemClock())
    ctx.messengers["console"] = ConsoleMessenger()
    await apply_config(ctx)
    return ctx


@dataclass
class Faces:
    """The chat faces that are configured, and what `serve` must start and stop."""

    slack: Any = None
    teams: Any = None
    started: list[Any] = field(default_factory=list)

    def all(self) -> list[Any]:
        """Every configured face."""
        return [f for f in (self.slack, self.teams) if f is not None]

    async def sync_team(self, team_name: str) -> None:
        """Refresh a team's roster from the platforms that read rosters on demand (Slack's channel
        members; Teams rosters arrive with conversation updates). The clock calls it before opening."""
        if self.slack is not None:
            await self.slack.sync_team(team_name)

    async def sync_rosters(self) -> None:
        """Refresh every team's roster; a platform that fails is logged, not fatal."""
        if self.slack is None:
            return
        try:
            sizes = await self.slack.sync_rosters()
            logger.info("slack rosters synced", extra={"teams": len(sizes), "members": sum(sizes.values())})
        except Exception:
            logger.exception("slack roster sync failed; the stored rosters stay in use")


def slack_configured(settings: Settings) -> bool:
    """Slack is served when it has credentials (a signing secret, or an app token for Socket Mode)."""
    return bool(settings.slack_signing_secret or settings.slack_app_token)


def teams_configured(settings: Settings) -> bool:
    """Teams is served when it has an app id, or the Emulator is asked for."""
    return bool((settings.microsoft_app_id or "").strip() or settings.pulsebot_teams_emulator)


def import_faces(settings: Settings) -> None:
    """Load the configured faces' packages (and so their SDKs) ahead of `build_faces`: `serve` does
    it while its migrations run in a child process, instead of after waiting for them."""
    if slack_configured(settings):
        import bot.slack.app  # noqa: F401
    if teams_configured(settings):
        import bot.teams.app  # noqa: F401


def build_faces(ctx: Context, settings: Settings) -> Faces:
    """Slack when it has credentials; Teams when it has an app id, or the Emulator is asked for.

    A face that is not configured is not built: its route does not exist (404), so no door is
    left open without a key (DESIGN.md, "Reliability").
    """
    faces = Faces()
    if slack_configured(settings):
        from bot.slack.app import build_slack

        faces.slack = build_slack(ctx, settings)
        ctx.messengers["slack"] = faces.slack.messenger
    else:
        logger.info("Slack is not configured (no SLACK_SIGNING_SECRET / SLACK_APP_TOKEN): /slack/events is off")
    if teams_configured(settings):
        from bot.teams.app import build_teams

        faces.teams = build_teams(ctx, settings)
        ctx.messengers["teams"] = faces.teams.messenger
    else:
        logger.info("Teams is not configured (no MICROSOFT_APP_ID / PULSEBOT_TEAMS_EMULATOR): /api/messages is off")
    return faces


def build_web_app(ctx: Context, faces: Faces, *, health: Any = None,
                  public_url: str = "http://127.0.0.1:3000") -> web.Application:
    """One aiohttp server: `/healthz`, each face's routes and the leader dashboard (`/dashboard/`)."""
    app = web.Application(client_max_size=1024 * 1024)

    async def healthz(_request: web.Request) -> web.Response:
        # Only ok / unavailable: the route needs no key, and an exception's text can name the
        # database host, user, file path or SQL. The operator reads the error in the log.
        scheduler = health() if health else {"scheduler": "not running"}
        try:
            async with ctx.store.session() as session:
                from sqlalchemy import text

                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception:  # noqa: BLE001 - any store failure means unhealthy
            logger.exception("health check: the store is unavailable")
            return web.json_response({**scheduler, "ok": False, "store": "unavailable"}, status=503)
        status = 200 if scheduler.get("ok", True) else 503
        return web.json_response({**scheduler, "ok": status == 200, "store": "ok"}, status=status)

    app.router.add_get("/healthz", healthz)
    for face in faces.all():
        face.add_routes(app)
    Dashboard(ctx, public_url=public_url).add_routes(app)
    return app
