"""The leader dashboard's core: one-time login links, server-side sessions, and who may read which team.

A leader has no password. `/team-pulse` (15 minutes) and the digest (7 days) hand out a link whose
token is random and signed with a key derived from PULSEBOT_SECRET; the store keeps only a keyed
hash of it, and of every session id, so a copy of the database can neither log in nor tell a
token apart from noise. Spending a link is one UPDATE (two presses cannot both log in). A session
names its leader only: what they may read is asked again on every request, from the same Leader
rows as `/team-pulse`, so a leader removed from `pulsebot.toml` loses access at the next request.
No HTTP here: the web face turns these domain errors into 401, 403 and 410 pages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import quote

from handlers.context import Context
from handlers.errors import Closed, NotAllowed, PulseError
from handlers.i18n import normalize_locale, t
from handlers.members import find_member, member_locale
from handlers.messages import Link, Message
from handlers.periods import as_utc
from handlers.ports import Actor
from handlers.readers import named_team, readable_teams
from handlers.reports import DEFAULT_WEEKS, CompanyReport, build_report
from handlers.setup import actor_from_ref
from storage.queries import dashboard as rows

logger = logging.getLogger(__name__)

CHAT_LINK_TTL = timedelta(minutes=15)  # a link from /team-pulse
DIGEST_LINK_TTL = timedelta(days=7)  # a link in the weekly digest
SESSION_TTL = timedelta(hours=8)
# An expired or spent link's row is kept this long after it expires, so opening it still says
# "expired" or "used" (410) rather than "not valid" (401); then it is deleted.
LINK_KEPT = timedelta(days=30)
PERIOD_CHOICES = (4, 12, 26, 52)

_SIGN_LABEL = b"pulsebot dashboard link signature v1"
_LINK_LABEL = b"pulsebot dashboard link hash v1"
_SESSION_LABEL = b"pulsebot dashboard session hash v1"


class NotSignedIn(PulseError):
    """No valid link or session: a forged or unknown token, no session, or an expired one."""


@dataclass(frozen=True)
class Reader:
    """A signed-in leader, as checked on this request: who, in which language, and what they may read."""

    actor: Actor
    locale: str
    is_global: bool
    teams: tuple[str, ...]


def _key(secret: bytes, label: bytes) -> bytes:
    # One key per use, derived from the secret: a link hash, a session hash and a signature can
    # never be swapped for one another, and none is a respondent key.
    return hmac.new(secret, label, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signature(secret: bytes, nonce: str) -> str:
    return _b64(hmac.new(_key(secret, _SIGN_LABEL), nonce.encode(), hashlib.sha256).digest()[:16])


def _hash(secret: bytes, label: bytes, value: str) -> str:
    return hmac.new(_key(secret, label), value.encode(), hashlib.sha256).hexdigest()


def _signed(secret: bytes, token: str) -> bool:
    nonce, dot, signature = token.partition(".")
    return bool(dot and nonce and len(token) <= 128 and hmac.compare_digest(signature, _signature(secret, nonce)))


def login_url(public_url: str, token: str) -> str:
    """The address a leader opens: the public base URL, then `/dashboard/login?token=…`."""
    return f"{public_url.rstrip('/')}/dashboard/login?token={quote(token, safe='')}"


async def _reader(ctx: Context, leader: str) -> Reader:
    """What this leader ("platform:id") may read now; NotAllowed when they lead nothing any more."""
    actor = actor_from_ref(leader)
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        # `actor_locale`'s answer from the member just read: every page asks this, so one lookup, not two.
        locale = (await member_locale(session, ctx, member) if member is not None
                  else normalize_locale(actor.locale) or ctx.config.pulse.default_locale)
    if member is not None and member.aad_id:
        actor = Actor(platform=actor.platform, user_id=actor.user_id, aad_id=member.aad_id)
    is_global, teams = await readable_teams(ctx, actor)
    if not is_global and not teams:
        raise NotAllowed("reports.not_a_leader")
    return Reader(actor, locale, is_global, tuple(teams))


async def issue_link(ctx: Context, actor: Actor, *, ttl: timedelta = CHAT_LINK_TTL) -> str:
    """A new one-time login token for this leader; NotAllowed for someone who leads no team."""
    await _reader(ctx, actor.key)
    nonce = secrets.token_urlsafe(24)
    token = f"{nonce}.{_signature(ctx.secret, nonce)}"
    async with ctx.store.session() as session:
        rows.add_link(session, token_hash=_hash(ctx.secret, _LINK_LABEL, token), leader=actor.key,
                      expires_at=as_utc(ctx.clock.now()) + ttl)
        await session.commit()
    logger.info("dashboard link issued", extra={"platform": actor.platform, "minutes": int(ttl.total_seconds() // 60)})
    return token


async def with_dashboard_link(ctx: Context, actor: Actor, message: Message, *,
                              ttl: timedelta = CHAT_LINK_TTL) -> Message:
    """The message with an "Open dashboard" link for this leader, when the dashboard is served
    (`ctx.public_url`); unchanged otherwise, or when the actor's leadership cannot be confirmed
    from their stored identity (the chat report itself is still theirs to read)."""
    if not ctx.public_url:
        return message
    try:
        token = await issue_link(ctx, actor, ttl=ttl)
    except NotAllowed:
        return message
    label = "dashboard.open" if ttl <= CHAT_LINK_TTL else "dashboard.open_digest"
    link = Link(t(label, message.locale), login_url(ctx.public_url, token))
    return replace(message, blocks=(*message.blocks, link))


async def check_link(ctx: Context, token: str) -> Reader:
    """Who this link would sign in, without spending it (a chat app's preview fetch opens links).

    NotSignedIn for a forged or unknown token, Closed for an expired or spent one, NotAllowed for
    someone who leads no team now.
    """
    if not _signed(ctx.secret, token):
        raise NotSignedIn("dashboard.link_forged")
    async with ctx.store.session() as session:
        link = await rows.link_by_hash(session, token_hash=_hash(ctx.secret, _LINK_LABEL, token))
    if link is None:
        raise NotSignedIn("dashboard.link_forged")
    if link.spent_at is not None:
        raise Closed("dashboard.link_used")
    if as_utc(link.expires_at) <= as_utc(ctx.clock.now()):
        raise Closed("dashboard.link_expired")
    return await _reader(ctx, link.leader)


async def sign_in(ctx: Context, token: str, *, old_session: str | None = None) -> tuple[str, Reader]:
    """Spend the link and start a session: (the new session id for the cookie, the reader).

    The id is new at every sign-in and a session the browser already held is ended, so an id
    planted before sign-in is worth nothing after it.
    """
    reader = await check_link(ctx, token)
    now = as_utc(ctx.clock.now())
    session_id = secrets.token_urlsafe(32)
    async with ctx.store.session() as session:
        if not await rows.spend_link(session, token_hash=_hash(ctx.secret, _LINK_LABEL, token), now=now):
            raise Closed("dashboard.link_used")  # pressed twice at once: the other press won
        if old_session:
            await rows.end_session(session, id_hash=_hash(ctx.secret, _SESSION_LABEL, old_session))
        await rows.purge_expired(session, links_before=now - LINK_KEPT, sessions_before=now)
        rows.add_session(session, id_hash=_hash(ctx.secret, _SESSION_LABEL, session_id),
                         leader=reader.actor.key, expires_at=now + SESSION_TTL)
        await session.commit()
    logger.info("dashboard session started", extra={"platform": reader.actor.platform})
    return session_id, reader


async def signed_in(ctx: Context, session_id: str | None) -> Reader:
    """The reader of this session, with what they may read checked again now.

    NotSignedIn without a live session; NotAllowed when its leader leads nothing any more.
    """
    if not session_id or len(session_id) > 128:
        raise NotSignedIn("dashboard.signed_out")
    async with ctx.store.session() as session:
        row = await rows.live_session(session, id_hash=_hash(ctx.secret, _SESSION_LABEL, session_id),
                                      now=as_utc(ctx.clock.now()))
    if row is None:
        raise NotSignedIn("dashboard.signed_out")
    return await _reader(ctx, row.leader)


async def sign_out(ctx: Context, session_id: str | None) -> None:
    """End the session, if there is one; nothing to do otherwise."""
    if not session_id or len(session_id) > 128:
        return
    async with ctx.store.session() as session:
        await rows.end_session(session, id_hash=_hash(ctx.secret, _SESSION_LABEL, session_id))
        await session.commit()


def readable_team(reader: Reader, name: str) -> str:
    """The team's name as stored, if the reader may read it; NotAllowed otherwise.

    The same refusal whether the team exists or not, as in `/team-pulse`: a refusal tells nothing.
    """
    match = named_team(reader.teams, name)
    if match is None:
        raise NotAllowed("reports.not_allowed", team=name)
    return match


async def overview_report(ctx: Context, reader: Reader, *, weeks: int = DEFAULT_WEEKS) -> CompanyReport:
    """Every team the reader may read (a global leader: every team), from the shared report."""
    return await build_report(ctx, teams=None if reader.is_global else list(reader.teams), weeks=weeks)


async def team_report(ctx: Context, reader: Reader, name: str, *, weeks: int = DEFAULT_WEEKS) -> CompanyReport:
    """One team's report, exactly as `/team-pulse TEAM WEEKS` and `pulsebot report` build it."""
    return await build_report(ctx, teams=[readable_team(reader, name)], weeks=weeks)
