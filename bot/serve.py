"""`pulsebot serve`: one aiohttp server for the configured faces, `/healthz` and the dashboard, and the clock.

Only what is configured is imported: `bot.app.build_faces` imports a face's package (and so its
SDK: slack-bolt, the Microsoft 365 Agents SDK) only when that face has its variables, and
matplotlib is imported in the background by the process that draws charts: Slack's report worker
(bot/slack/heavy.py), and the server itself only when Teams is configured (Teams draws in-process).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading

from handlers.config import Settings

logger = logging.getLogger("pulsebot")


async def serve(settings: Settings, *, host: str, port: int) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    from handlers.config import load_config
    from storage.migrate import upgrade_apart

    # A weak secret or a wrong config stops serve before any store exists (as build_context would).
    settings.secret()
    load_config(settings.pulsebot_config, must_exist="PULSEBOT_CONFIG" in os.environ)
    # Migrations run in a forked child, started first: they run while this process imports the
    # rest, and the server itself never loads Alembic (about 10 MB it would keep idle).
    migrated = upgrade_apart(settings.database_url)
    from aiohttp import web

    from bot.app import build_context, build_faces, build_web_app, import_faces
    from bot.web.app import public_url
    from schedules.clock import run_clock

    import_faces(settings)  # the SDKs load while the child migrates, not after it is done
    await migrated()
    ctx = await build_context(settings, migrate=False)
    faces = build_faces(ctx, settings)
    # /team-pulse and the digest offer dashboard links at this address.
    ctx.public_url = public_url(settings.pulsebot_public_url, port, warn=bool(faces.all()))
    clock = await run_clock(ctx, roster_sync=faces.sync_team)
    app = build_web_app(ctx, faces, health=clock.health, public_url=ctx.public_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    for face in faces.all():
        await face.start()
    rosters = asyncio.create_task(faces.sync_rosters())  # in the background: /healthz answers meanwhile
    await clock.start()
    # The collector was held since the start (bot/__main__.py). What start-up built (modules, the
    # app, the config) lives until the process ends, so it is moved out of the collector's sight and
    # the collections behind requests stay short. It is not collected first: that pass took 0.13 s
    # to find about 2,000 unreachable objects (0.5 MB), which are kept instead.
    gc.freeze()
    gc.enable()
    print(f"pulsebot serving on http://{host}:{port}", flush=True)
    warming: threading.Thread | None = None
    if faces.teams is not None:
        # Teams draws a /team-pulse chart in this process (its card carries it; no report worker):
        # load matplotlib and its fonts now, in the background, not on a leader's first request.
        from handlers.charts import warm_up_in_background

        warming = warm_up_in_background("server")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    logger.info("stopping")
    rosters.cancel()
    await clock.stop()
    for face in faces.all():
        await face.stop()
    await runner.cleanup()
    await ctx.store.dispose()
    if warming is not None:
        # A stop that comes while matplotlib is still loading waits for it: the interpreter must not
        # be torn down under a thread in the middle of a C extension's start (it crashed: SIGSEGV).
        await asyncio.to_thread(warming.join, 30)
    return 0
