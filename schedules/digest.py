"""The weekly digest: on Monday morning of their own day, each leader gets a short DM per team.

Figures come from `handlers.reports.build_report`, so the anonymity rule is applied in the one
place it is written; the digest only shows the latest period's mood (or that it is withheld),
participation and the number of alerts, and points to `/team-pulse` for the detail. The job runs
every quarter of an hour and sends to leaders whose local time is Monday 09:xx; the digest's key
travels with it and is looked up first, so a second run, a restart or a takeover within that
hour never sends it twice, and a transient failure is retried by the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.context import Context
from handlers.dashboard import DIGEST_LINK_TTL, with_dashboard_link
from handlers.i18n import fmt_number, fmt_percent, t, tn
from handlers.members import member_locale, recipient_in
from handlers.messages import Message, Text
from handlers.ports import Actor, SendError
from handlers.readers import readable_teams
from handlers.reports import Mood, TeamReport, build_report
from storage.models import Member
from storage.queries.members import leading_members

logger = logging.getLogger(__name__)

DIGEST_WEEKDAY, DIGEST_HOUR = 0, 9  # Monday, 09:00–09:59 local
DIGEST_WEEKS = 5


def digest_is_due(now: datetime, tz: str) -> bool:
    """Whether `now` is the leader's Monday morning digest hour."""
    here = now.astimezone(ZoneInfo(tz))
    return here.weekday() == DIGEST_WEEKDAY and here.hour == DIGEST_HOUR


def team_line(report: TeamReport, locale: str) -> str:
    """One line per team: latest mood (or withheld), participation, alerts, overdue follow-ups."""
    period = report.latest
    overdue = tn("followups.digest.overdue", report.followups.overdue, locale) if report.followups.overdue else ""
    if period is None:
        return " · ".join(p for p in (t("digest.no_rounds", locale, team=report.team), overdue) if p)
    if isinstance(period.mood, Mood):
        mood = t("digest.mood", locale, mean=fmt_number(period.mood.mean, locale, 1))
    else:
        mood = t("digest.mood_withheld", locale, k=report.min_group_size)
    share = period.participation
    participation = t("digest.participation", locale,
                      share=fmt_percent(share, locale) if share is not None else "—",
                      answered=fmt_number(period.answered, locale),
                      delivered=fmt_number(period.delivered, locale))
    parts = [mood, participation]
    if report.alerts:
        parts.append(tn("digest.alerts", len(report.alerts), locale))
    if overdue:  # "we don't know" questions of the empty chair past their due date
        parts.append(overdue)
    return t("digest.team_line", locale, team=report.team, period=period.period, facts=" · ".join(parts))


def digest_message(reports: list[TeamReport], locale: str) -> Message:
    """The short DM: a title, one line per team, where to read more."""
    blocks = [Text(t("digest.title", locale), "heading")]
    blocks.extend(Text(team_line(r, locale)) for r in reports)
    blocks.append(Text(t("digest.hint", locale), "muted"))
    return Message(tuple(blocks), fallback=t("digest.title", locale), locale=locale)


async def _leaders(ctx: Context) -> list[Member]:
    # By platform and id together: a Slack leader's id on a Teams member is not that leader.
    async with ctx.store.session() as session:
        return await leading_members(session)


async def send_digests(ctx: Context) -> int:
    """Send the digest to every leader whose Monday 09:00 hour it is; returns how many were sent."""
    now = ctx.clock.now()
    sent = 0
    for member in await _leaders(ctx):
        tz = member.timezone or ctx.config.pulse.timezone
        if member.paused or not digest_is_due(now, tz):
            continue
        actor = Actor(platform=member.platform, user_id=member.user_id, aad_id=member.aad_id)
        _, names = await readable_teams(ctx, actor)
        if not names:
            continue
        messenger = ctx.messengers.get(member.platform)
        if messenger is None:
            continue
        async with ctx.store.session() as session:
            locale = await member_locale(session, ctx, member)
            to = await recipient_in(session, member)
        report = await build_report(ctx, teams=names, weeks=DIGEST_WEEKS)
        iso = now.astimezone(ZoneInfo(tz)).isocalendar()
        key = f"digest-{iso.year}-W{iso.week:02d}-m{member.id}"
        try:
            # Where the platform cannot look (Teams) there is nothing to ask, so nothing here stops a
            # later run of the same hour from sending it again (only a record in the store would).
            if messenger.can_look and await messenger.find_direct(to=to, delivery_key=key) is not None:
                continue
            message = await with_dashboard_link(ctx, actor, digest_message(list(report.teams), locale),
                                                ttl=DIGEST_LINK_TTL)  # a link for the week, when served
            await messenger.send_direct(to=to, message=message, delivery_key=key)
        except SendError as exc:
            # Retried by the next quarter-hour run while it is still 09:xx; after that, next week.
            logger.error("digest failed", extra={"member_id": member.id, "reason": exc.reason})
            continue
        sent += 1
        logger.info("digest sent", extra={"member_id": member.id, "teams": len(names)})
    return sent
