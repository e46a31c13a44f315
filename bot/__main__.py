"""The `pulsebot` command line: serve, chat, checkins send, demo seed, report, schedule, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.config import Settings

logger = logging.getLogger("pulsebot")


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class FieldsFormatter(logging.Formatter):
    """Log lines with their structured fields appended: `round opened team=soporte round_id=7`."""

    def format(self, record: logging.LogRecord) -> str:
        """The usual line, then every `extra=` field as key=value."""
        line = super().format(record)
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if not fields:
            return line
        return line + " " + " ".join(f"{k}={v}" for k, v in fields.items())


def _progress(label: str) -> Callable[[int, int], None]:
    """A progress bar on stderr, drawn only once the work has taken more than a second."""
    started = time.monotonic()
    shown = False

    def draw(done: int, total: int) -> None:
        nonlocal shown
        if not shown and time.monotonic() - started < 1.0:
            return
        shown = True
        width = 30
        filled = int(width * done / max(total, 1))
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return draw


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_context
    from bot.console.repl import ConsoleChat
    from handlers.demo import seed
    from handlers.ports import Actor

    ctx = await build_context(settings, demo=args.demo)
    user = args.as_user
    if args.demo:
        company = await seed(ctx, progress=_progress("seeding demo"))
        user = user or next(iter(company.leaders.values()), company.global_leader)
    user = user or os.environ.get("USER", "me")
    from bot.web.app import serving

    try:
        async with serving(ctx, port=args.dashboard_port):  # /team-pulse prints a link to it
            await ConsoleChat(ctx, Actor(platform="console", user_id=user, name=user)).run()
    finally:
        await ctx.store.dispose()
    return 0


async def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_context
    from handlers.demo import seed

    ctx = await build_context(settings, demo=True)
    company = await seed(ctx, members=args.members, weeks=args.weeks, progress=_progress("seeding demo"))
    await ctx.store.dispose()
    print(f"demo company: teams {', '.join(company.teams)}")
    for team, leader in company.leaders.items():
        print(f"  {team}: {len(company.members.get(team, []))} members, leader {leader}")
    if company.global_leader:
        print(f"  global leader: {company.global_leader}")
    print("try: pulsebot chat --as " + (next(iter(company.leaders.values()), company.global_leader) or "USER"))
    return 0


async def _send(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_context, build_faces
    from handlers.checkins import open_round
    from schedules.handover import deliver_round

    ctx = await build_context(settings)
    faces = build_faces(ctx, settings)
    try:
        await faces.sync_team(args.team)
        opened = await open_round(ctx, team_name=args.team)
        done = await deliver_round(ctx, round_id=opened.round_id)
    finally:
        await ctx.store.dispose()
    state = "opened" if opened.created else "already open"
    report = done.report
    print(f"{opened.team} {opened.period}: round {state}; {opened.new_deliveries} new deliveries; "
          f"sent {report.sent}, already delivered {report.found}, failed {report.failed}"
          + (f", maybe delivered {report.uncertain}" if report.uncertain else "")
          + ("; delivered by the running pulsebot serve" if done.handed_over else ""))
    return 0


async def _close(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_context
    from handlers.closing import close_team_round

    ctx = await build_context(settings, needs_secret=False)
    try:
        closed = await close_team_round(ctx, team_name=args.team)
    finally:
        await ctx.store.dispose()
    if not closed:
        print(f"{args.team}: no open round; nothing changed")
    for c in closed:
        print(f"{c.team} {c.period}: round closed; {c.answered} of {c.delivered} answered; figures released")
    return 0


async def _forget(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_context
    from handlers.privacy import forget
    from handlers.setup import actor_from_ref

    platform, sep, user = args.member.partition(":")
    if not sep or platform not in ("slack", "teams", "console") or not user:
        print("pulsebot: --member must be slack:U…, teams:29:… or console:NAME", file=sys.stderr)
        return 2
    ctx = await build_context(settings)
    try:
        await forget(ctx, actor_from_ref(args.member))
    finally:
        await ctx.store.dispose()
    print(f"{args.member}: forgotten (profile, answers and links removed; closed rounds keep their figures)")
    return 0


async def _rotate(settings: Settings, _args: argparse.Namespace) -> int:
    from handlers.errors import ConfigError
    from handlers.secret import ensure_per_round_keys, rotate_secret
    from storage.db import Store
    from storage.migrate import upgrade

    new = settings.secret()
    old = os.environ.get("PULSEBOT_SECRET_OLD", "").strip()
    if not old:
        raise ConfigError("PULSEBOT_SECRET_OLD must hold the secret the store is keyed with now "
                          "(PULSEBOT_SECRET holds the new one)")
    store = Store(settings.database_url)
    try:
        await upgrade(store)
        await ensure_per_round_keys(store, old.encode())  # a store keyed the old way moves first
        done = await rotate_secret(store, old=old.encode(), new=new)
    finally:
        await store.dispose()
    if done.already:
        print("the store is already keyed with PULSEBOT_SECRET; nothing changed")
    else:
        print(f"re-keyed {done.rekeyed} answers; {done.unmatched} belong to no known member and stay unlinked")
    return 0


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from bot.app import build_context
    from handlers.charts import chart_png
    from handlers.report_render import report_csv, report_json, report_text
    from handlers.reports import build_report

    ctx = await build_context(settings, needs_secret=False)
    try:
        report = await build_report(ctx, teams=[args.team] if args.team else None, weeks=args.weeks)
    finally:
        await ctx.store.dispose()
    locale = args.lang or ctx.config.pulse.default_locale
    if args.format == "json":
        print(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.write(report_csv(report))
    else:
        print(report_text(report, locale))
    if args.chart:
        # One team: the file asked for; several: one file per team beside it (trend-soporte.png).
        target = Path(args.chart)
        for team in report.teams:
            path = target if len(report.teams) == 1 else target.with_name(f"{target.stem}-{team.team}{target.suffix}")
            path.write_bytes(chart_png(team, locale))
            print(f"chart written to {path}", file=sys.stderr)
    return 0


async def _dashboard_link(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_context
    from bot.web.app import public_url
    from handlers.dashboard import issue_link, login_url
    from handlers.setup import actor_from_ref

    try:
        leader = actor_from_ref(args.as_user)
    except ValueError as exc:
        print(f"pulsebot: --as {exc}", file=sys.stderr)
        return 2
    ctx = await build_context(settings)
    try:
        token = await issue_link(ctx, leader)
    finally:
        await ctx.store.dispose()
    print(login_url(public_url(settings.pulsebot_public_url, args.port), token))
    return 0


async def _upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from storage.db import Store
    from storage.migrate import upgrade

    store = Store(settings.database_url)
    await upgrade(store)
    await store.dispose()
    print("database is up to date")
    return 0


async def _schedule(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.app import build_context
    from schedules.listing import format_rows, next_jobs

    ctx = await build_context(settings, needs_secret=False)
    try:
        rows = await next_jobs(ctx)
    finally:
        await ctx.store.dispose()
    print(format_rows(rows, ctx.config.pulse.default_locale))
    return 0


async def _teams_package(settings: Settings, args: argparse.Namespace) -> int:
    from bot.teams.package import write_package

    urls = {k: v for k, v in (("website", args.website), ("privacy", args.privacy_url), ("terms", args.terms_url)) if v}
    path = write_package(Path(args.out), settings, **urls)
    print(f"Teams app package written to {path}")
    return 0


async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.serve import serve

    return await serve(settings, host=args.host, port=args.port)


def parser() -> argparse.ArgumentParser:
    """The command line, as documented in the README."""
    p = argparse.ArgumentParser(prog="pulsebot", description="Listen to your people first; keep an empty chair for the client.")
    p.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the web server (Slack, Teams, /healthz) and the clock")
    s.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    s.add_argument("--host", default="0.0.0.0")
    s.set_defaults(run=_serve)

    c = sub.add_parser("chat", help="talk to pulsebot in this terminal (no chat account needed)")
    c.add_argument("--as", dest="as_user", metavar="USER", help="who you are (a console user id)")
    c.add_argument("--demo", action="store_true", help="seed a demo company first")
    c.add_argument("--dashboard-port", type=int, default=0, help="the local dashboard's port (default: any free one)")
    c.set_defaults(run=_chat)

    ch = sub.add_parser("checkins", help="check-in rounds")
    chs = ch.add_subparsers(dest="action", required=True)
    send = chs.add_parser("send", help="open the team's round and deliver it now")
    send.add_argument("--team", required=True)
    send.set_defaults(run=_send)
    close = chs.add_parser("close", help="close the team's open round now and release its figures")
    close.add_argument("--team", required=True)
    close.set_defaults(run=_close)

    fg = sub.add_parser("forget", help="what /pulse forget does, for someone who cannot type it")
    fg.add_argument("--member", required=True, metavar="slack:U…|teams:29:…|console:NAME")
    fg.set_defaults(run=_forget)

    se = sub.add_parser("secret", help="the respondent-key secret")
    ses = se.add_subparsers(dest="action", required=True)
    rot = ses.add_parser("rotate", help="re-key the store from PULSEBOT_SECRET_OLD to PULSEBOT_SECRET")
    rot.set_defaults(run=_rotate)

    d = sub.add_parser("demo", help="demo data")
    ds = d.add_subparsers(dest="action", required=True)
    seed = ds.add_parser("seed", help="seed a demo company with synthetic history")
    seed.add_argument("--members", type=int, default=24)
    seed.add_argument("--weeks", type=int, default=12)
    seed.set_defaults(run=_seed)

    r = sub.add_parser("report", help="the leader report (every team without --team)")
    r.add_argument("--team")
    r.add_argument("--weeks", type=int, default=12)
    r.add_argument("--format", choices=("text", "json", "csv"), default="text")
    r.add_argument("--chart", metavar="FILE.png", help="also write the trend chart as a PNG")
    r.add_argument("--lang", choices=("es", "en"), help="language of the text report (default: the config's)")
    r.set_defaults(run=_report)

    dl = sub.add_parser("dashboard-link", help="a one-time dashboard link for a leader (valid 15 minutes)")
    dl.add_argument("--as", dest="as_user", required=True, metavar="slack:U…|teams:29:…|console:NAME")
    dl.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")),
                    help="the port serve listens on, for the link when PULSEBOT_PUBLIC_URL is not set")
    dl.set_defaults(run=_dashboard_link)

    db = sub.add_parser("db", help="database")
    dbs = db.add_subparsers(dest="action", required=True)
    up = dbs.add_parser("upgrade", help="apply migrations")
    up.set_defaults(run=_upgrade)

    sc = sub.add_parser("schedule", help="list the next due jobs per team, in local times")
    sc.set_defaults(run=_schedule)

    tp = sub.add_parser("teams-package", help="write the Teams app package (manifest and icons)")
    tp.add_argument("--out", default="pulsebot-teams.zip")
    tp.add_argument("--website", help="the developer website shown in Teams (default: the project's)")
    tp.add_argument("--privacy-url", help="your privacy statement (default: the project's)")
    tp.add_argument("--terms-url", help="your terms of use (default: the project's licence)")
    tp.set_defaults(run=_teams_package)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pulsebot` console script."""
    args = parser().parse_args(argv)
    quiet = args.command == "chat" and not args.verbose
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FieldsFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else (logging.WARNING if quiet else logging.INFO),
        handlers=[handler],
    )
    if not args.verbose:
        # Libraries' start-up chatter (migration plugins, the Agents SDK's connection map) hides our lines.
        for noisy in ("alembic", "microsoft_agents", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    # The collector is held while the modules load: their objects live as long as the process, so
    # every pass over them would be wasted (measured: bench/startup_bench.py). `serve` freezes what
    # it built once it is up (bot/serve.py); every other command lets the collector run again now.
    gc.disable()
    from handlers.config import Settings
    from handlers.errors import ConfigError, PulseError
    from handlers.i18n import t

    if args.command != "serve":
        gc.enable()
    try:
        settings = Settings()
        return asyncio.run(args.run(settings, args))
    except ConfigError as exc:
        print(f"pulsebot: {exc}", file=sys.stderr)
        return 2
    except PulseError as exc:  # an unknown team, weeks out of range: said in words, not a traceback
        print(f"pulsebot: {t(exc.message_id, getattr(args, 'lang', None) or 'en', **exc.args_)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
