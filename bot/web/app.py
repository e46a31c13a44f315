"""The dashboard's routes under `/dashboard/`: a thin edge from HTTP to `handlers.dashboard` and back.

Links, sessions and who may read what are the core's (`handlers.dashboard`); here a request
becomes a call, a domain error becomes a page with its status (401 signed out or forged, 403 not
yours, 410 expired or used), and every response under `/dashboard/` gets the same strict headers.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from urllib.parse import urlsplit

from aiohttp import web

from bot.web import render
from handlers.context import Context
from handlers.dashboard import (
    PERIOD_CHOICES,
    SESSION_TTL,
    NotSignedIn,
    Reader,
    check_link,
    overview_report,
    sign_in,
    sign_out,
    signed_in,
    team_report,
)
from handlers.errors import Closed, Invalid, NotAllowed, NotFound, PulseError
from handlers.i18n import normalize_locale
from handlers.replies import send_reply
from handlers.report_render import report_csv, report_json
from handlers.reports import DEFAULT_WEEKS

logger = logging.getLogger(__name__)

COOKIE = "pulsebot_dashboard"
PREFIX = "/dashboard"
HEADERS = {
    # No script at all today; 'self' only, so a later one must be a file pulsebot serves.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the login link's token must not travel in a Referer
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
STATUS = {NotSignedIn: 401, NotAllowed: 403, NotFound: 404, Closed: 410, Invalid: 400}
HEADINGS = {401: "dashboard.refused.signed_out", 403: "dashboard.refused.not_allowed", 404: "dashboard.refused.not_allowed",
            410: "dashboard.refused.gone", 400: "dashboard.refused.not_allowed"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response.headers.update(HEADERS)


def public_url(configured: str | None, port: int, *, warn: bool = False) -> str:
    """`PULSEBOT_PUBLIC_URL`, else this machine's own address on the port `serve` listens on.

    `warn` (a chat face is configured): say so when it is unset, since leaders in Slack or Teams
    would get links to a loopback address they cannot open.
    """
    url = (configured or "").strip().rstrip("/")
    if url:
        return url
    if warn:
        logger.warning("PULSEBOT_PUBLIC_URL is not set: leaders' dashboard links will point at "
                       "http://127.0.0.1:%s, which they cannot open from another machine", port)
    return f"http://127.0.0.1:{port}"


def _weeks(request: web.Request) -> int:
    raw = request.query.get("weeks", "")
    return int(raw) if raw.isdecimal() and int(raw) in PERIOD_CHOICES else DEFAULT_WEEKS


class Dashboard:
    """The dashboard's routes, on the one aiohttp server `bot/app.py` builds."""

    def __init__(self, ctx: Context, *, public_url: str) -> None:
        self.ctx = ctx
        self.public_url = public_url.rstrip("/")
        self.secure = urlsplit(public_url).scheme == "https"
        self.css = files("bot.web").joinpath("static/style.css").read_text(encoding="utf-8")  # read once

    def add_routes(self, app: web.Application) -> None:
        """Register every `/dashboard/` route and the headers they all carry."""
        app.on_response_prepare.append(_headers)
        app.router.add_get(PREFIX, self._to_overview)
        app.router.add_get(PREFIX + "/", self._guard(self.overview))
        app.router.add_get(PREFIX + "/login", self._guard(self.login_page))
        app.router.add_post(PREFIX + "/login", self._guard(self.login))
        app.router.add_post(PREFIX + "/logout", self._guard(self.logout))
        app.router.add_get(PREFIX + "/team/{name}", self._guard(self.team))
        app.router.add_get(PREFIX + "/team/{name}/report.{fmt:csv|json}", self._guard(self.download))
        app.router.add_post(PREFIX + "/reply/{comment}", self._guard(self.reply))
        app.router.add_get(PREFIX + "/static/style.css", self.style)

    # ------------------------------------------------------------ plumbing

    def _locale(self, request: web.Request, reader: Reader | None = None) -> str:
        chosen = normalize_locale(request.query.get("lang"))
        return chosen or (reader.locale if reader else self.ctx.config.pulse.default_locale)

    def _guard(self, handler: Handler) -> Handler:
        """Domain errors become a page in words with their status; nothing else is caught."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except PulseError as exc:
                status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)
                logger.info("dashboard refused", extra={"status": status, "reason": exc.message_id})
                html = render.message_page(self._locale(request), heading_id=HEADINGS[status],
                                           message_id=exc.message_id, **exc.args_)
                return web.Response(text=html, status=status, content_type="text/html")

        return guarded

    def _same_origin(self, request: web.Request) -> None:
        # A form posted from another site is refused: the session cookie is SameSite=Lax already,
        # and this also stops another site from signing a browser in with a link of its choosing.
        origin = request.headers.get("Origin")
        if origin == "null":
            # Our own Referrer-Policy (no-referrer) makes a browser send `Origin: null` even for
            # this site's own forms; its Sec-Fetch-Site header still says where the form was.
            if request.headers.get("Sec-Fetch-Site") != "same-origin":
                raise NotAllowed("dashboard.other_origin")
            return
        ours = {self.public_url, f"{request.scheme}://{request.host}"}
        if origin is not None and origin.rstrip("/") not in ours:
            raise NotAllowed("dashboard.other_origin")

    async def _reader(self, request: web.Request) -> Reader:
        return await signed_in(self.ctx, request.cookies.get(COOKIE))

    @staticmethod
    def _html(text: str) -> web.Response:
        return web.Response(text=text, content_type="text/html")

    # ------------------------------------------------------------ pages

    async def _to_overview(self, _request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        """GET: what a chat app's preview and the leader's first click see. Checks, never spends."""
        token = request.query.get("token", "")
        reader = await check_link(self.ctx, token)
        return self._html(render.login_page(token, self._locale(request, reader)))

    async def login(self, request: web.Request) -> web.StreamResponse:
        """POST: spend the link, start a session with a new id, and go to a URL without the token."""
        self._same_origin(request)
        form = await request.post()
        token = form.get("token")
        session_id, _ = await sign_in(self.ctx, token if isinstance(token, str) else "",
                                      old_session=request.cookies.get(COOKIE))
        response = web.Response(status=303, headers={"Location": PREFIX + "/"})
        response.set_cookie(COOKIE, session_id, path=PREFIX + "/", httponly=True, samesite="Lax",
                            secure=self.secure, max_age=int(SESSION_TTL.total_seconds()))
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        """POST: end the session and forget the cookie."""
        self._same_origin(request)
        await sign_out(self.ctx, request.cookies.get(COOKIE))
        locale = self._locale(request)
        response = self._html(render.message_page(locale, heading_id="dashboard.logout",
                                                  message_id="dashboard.logged_out"))
        response.del_cookie(COOKIE, path=PREFIX + "/")
        return response

    async def overview(self, request: web.Request) -> web.StreamResponse:
        """One row per team the leader may read."""
        reader = await self._reader(request)
        weeks = _weeks(request)
        report = await overview_report(self.ctx, reader, weeks=weeks)
        return self._html(render.overview_page(report, reader, self._locale(request, reader), weeks))

    async def team(self, request: web.Request) -> web.StreamResponse:
        """One team's page: what `/team-pulse TEAM` shows, with the chart drawn and a table view."""
        reader = await self._reader(request)
        weeks = _weeks(request)
        report = await team_report(self.ctx, reader, request.match_info["name"], weeks=weeks)
        return self._html(render.team_page(report, reader, self._locale(request, reader), weeks,
                                           relay_minutes=self.ctx.config.pulse.relay_batch_minutes))

    async def reply(self, request: web.Request) -> web.StreamResponse:
        """POST: a leader's reply to a comment's author (`handlers.replies.send_reply`), from this site only."""
        self._same_origin(request)
        reader = await self._reader(request)
        form = await request.post()
        text = form.get("text")
        await send_reply(self.ctx, reader.actor, comment_id=request.match_info["comment"],
                         text=text if isinstance(text, str) else "")
        locale = self._locale(request, reader)
        return self._html(render.message_page(
            locale, heading_id="replies.form.title", message_id="replies.queued",
            minutes=self.ctx.config.pulse.relay_batch_minutes, back_url=PREFIX + "/"))

    async def download(self, request: web.Request) -> web.StreamResponse:
        """The team's report as `pulsebot report --team NAME --weeks N --format csv|json` prints it."""
        reader = await self._reader(request)
        report = await team_report(self.ctx, reader, request.match_info["name"], weeks=_weeks(request))
        fmt = request.match_info["fmt"]
        if fmt == "csv":
            body, kind = report_csv(report), "text/csv"
        else:
            body, kind = json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n", "application/json"
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", report.teams[0].team).strip("-") or "team"
        return web.Response(text=body, content_type=kind, charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="pulse-{slug}.{fmt}"'})

    async def style(self, _request: web.Request) -> web.StreamResponse:
        """The one stylesheet, served by pulsebot itself (no CDN, no external font)."""
        return web.Response(text=self.css, content_type="text/css")


@asynccontextmanager
async def serving(ctx: Context, *, port: int = 0) -> AsyncIterator[str]:
    """The dashboard alone on a loopback port (the console face's `pulsebot chat`): yields its base
    URL, which `ctx.public_url` takes, so `/team-pulse` in the terminal prints a link that opens."""
    app = web.Application()
    dashboard = Dashboard(ctx, public_url="http://127.0.0.1")
    dashboard.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        dashboard.public_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        ctx.public_url = dashboard.public_url
        yield dashboard.public_url
    finally:
        ctx.public_url = None
        await runner.cleanup()
