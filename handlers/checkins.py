"""Check-ins: open a round, build each member's message, record answers until the round closes."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.checkin_message import checkin_message, closes_text, recorded_notice
from handlers.context import Context
from handlers.drivers import driver_for
from handlers.errors import Closed, Invalid, NotAllowed, NotFound
from handlers.members import (
    find_member,
    member_locale,
    recipient_in,
    respondent_key,
)
from handlers.messages import Message, Outcome
from handlers.periods import as_utc, local_midnight, period_of, period_ordinal, quarter
from handlers.ports import Actor, Recipient
from handlers.safe_text import clean_text
from storage.models import Member, Round, Team
from storage.queries import commitments as commitment_rows
from storage.queries import deliveries, rounds, teams
from storage.queries import members as member_rows
from storage.queries import responses as answers

logger = logging.getLogger(__name__)

COMMENT_LIMIT = 2000


@dataclass(frozen=True)
class OpenedRound:
    """The result of opening a round: `created` is False when the period's round already existed."""

    round_id: int
    team: str
    period: str
    created: bool
    new_deliveries: int


def is_closed(rnd: Round, now: datetime) -> bool:
    """Closed by the clock or past its window."""
    return rnd.closed_at is not None or now >= as_utc(rnd.closes_at)


async def _team(session: AsyncSession, name: str) -> Team:
    team = await teams.team_named(session, name=name)
    if team is None:
        raise NotFound("team.unknown", team=name)
    return team


async def roster(session: AsyncSession, team: Team) -> list[Member]:
    """Active, unpaused members of the team; its leaders and the global leaders left out."""
    assert team.id is not None
    return await member_rows.roster(session, team_id=team.id)


async def open_round(
    ctx: Context,
    *,
    team_name: str,
    now: datetime | None = None,
    due_at_for: Callable[[Member], datetime] | None = None,
) -> OpenedRound:
    """Open the team's round for the current period and write one delivery per roster member.

    Idempotent: the round is unique per team and period and each delivery per round and member,
    so a second call only adds deliveries for members who joined since. Nothing is sent here;
    the outbox sender delivers.
    """
    now = now or ctx.clock.now()
    cfg = ctx.config.team(team_name)
    cadence = cfg.checkin.cadence if cfg else "weekly"
    window = cfg.checkin.window_hours if cfg else 72
    async with ctx.store.session() as session:
        team = await _team(session, team_name)
        tz = ctx.config.team_timezone(team)
        period, start = period_of(cadence, now.astimezone(ZoneInfo(tz)).date())
        rnd = await rounds.round_of_period(session, team_id=team.id, period=period)  # type: ignore[arg-type]
        created = rnd is None
        if rnd is None:
            year_q = quarter(start)
            earlier = await rounds.enps_period_starts(session, team_id=team.id)  # type: ignore[arg-type]
            enps_due = all(quarter(as_utc(s).astimezone(ZoneInfo(tz)).date()) != year_q for s in earlier)
            try:
                rnd = await rounds.add_round(
                    session,
                    team_id=team.id,  # type: ignore[arg-type]  # a stored team always has an id
                    period=period,
                    period_start=local_midnight(start, tz),
                    opened_at=now,
                    closes_at=now + timedelta(hours=window),
                    driver=driver_for(period_ordinal(cadence, start)),
                    enps=enps_due,
                )
            except IntegrityError:
                # Another process opened the same period a moment ago: use its round.
                await session.rollback()
                return await open_round(ctx, team_name=team_name, now=now, due_at_for=due_at_for)
        members = await roster(session, team)
        have = await deliveries.members_asked(session, round_id=rnd.id)  # type: ignore[arg-type]
        added = 0
        for member in members:
            if member.id in have:
                continue
            due = due_at_for(member) if due_at_for else now
            deliveries.add_delivery(session, round_id=rnd.id, member_id=member.id, due_at=due)  # type: ignore[arg-type]
            added += 1
        await session.commit()
        assert rnd.id is not None
    logger.info(
        "round opened" if created else "round topped up",
        extra={"team": team_name, "period": period, "round_id": rnd.id, "deliveries": added},
    )
    return OpenedRound(rnd.id, team_name, period, created, added)


async def answered_members(session: AsyncSession, secret: bytes, *, round_id: int) -> set[int]:
    """Member ids of the round's deliveries whose member has answered it.

    Worked out here, with the secret, from the respondent keys: the store itself records no link
    between a delivery and an answer (so a copy of it cannot tell who answered).
    """
    rows = await deliveries.asked(session, round_id=round_id)
    by_key = {respondent_key(secret, f"{row.platform}:{row.user_id}", round_id=round_id): row.member_id for row in rows}
    if not by_key:
        return set()
    keys = await answers.keys_that_answered(session, round_id=round_id, keys=list(by_key))
    return {mid for k in keys if (mid := by_key.get(k)) is not None}


async def delivery_message(
    ctx: Context, *, delivery_id: int, reminder: bool = False
) -> tuple[Recipient, Message, str]:
    """Who a delivery goes to, its message, and the key that travels with it (for find_direct)."""
    async with ctx.store.session() as session:
        delivery = await deliveries.delivery_by_id(session, delivery_id=delivery_id)
        if delivery is None:
            raise NotFound("checkin.unknown")
        rnd = await rounds.round_by_id(session, round_id=delivery.round_id)
        member = await member_rows.member_by_id(session, member_id=delivery.member_id)
        team = await teams.team_by_id(session, team_id=rnd.team_id) if rnd else None
        if rnd is None or member is None or team is None:
            raise NotFound("checkin.unknown")
        if is_closed(rnd, ctx.clock.now()):
            raise Closed("checkin.closed")
        locale = await member_locale(session, ctx, member, team)
        tz = member.timezone or ctx.config.team_timezone(team)
        message = checkin_message(
            rnd, locale=locale, tz=tz, name=member.name, reminder=reminder, min_group_size=ctx.min_group_size,
            focus=await commitment_rows.focus_for(session, rnd=rnd),
        )
        key = f"d{delivery.id}" + ("r" if reminder else "")
        return await recipient_in(session, member), message, key


def check_answerable(found: answers.Answering | None, now: datetime) -> answers.Answering:
    """What a tap found, if the actor may answer this round at `now`; a refusal otherwise."""
    if found is None:
        raise NotFound("checkin.unknown")
    if found.member is None or not found.asked:
        raise NotAllowed("checkin.not_yours")
    if is_closed(found.round, now):
        raise Closed("checkin.closed")
    return found


async def answerable(
    session: AsyncSession, ctx: Context, actor: Actor, round_id: int, *, key: str | None = None
) -> answers.Answering:
    """The round, its team, the member and their answer so far (under `key`, their respondent key
    for the round) if the actor may answer this round now; a refusal otherwise. One statement."""
    found = await answers.answering(
        session, round_id=round_id, platform=actor.platform, user_id=actor.user_id,
        respondent_key=key or respondent_key(ctx.secret, actor.key, round_id=round_id),
        # FOR SHARE (PostgreSQL): a close waits for this answer's commit, and an answer that starts
        # after a close sees it; so no acknowledged answer falls outside its round's frozen figures.
        for_share=True,
    )
    return check_answerable(found, ctx.clock.now())


async def record_answer(
    ctx: Context,
    actor: Actor,
    *,
    round_id: int,
    mood: int | None = None,
    driver_score: int | None = None,
    enps: int | None = None,
    comment: str | None = None,
    focus_score: int | None = None,
) -> Outcome:
    """Store (or change) the actor's answer for a round while it is open; the reply says what was kept.

    One transaction reads the round, its team, the member, their delivery and their answer so far
    in one statement and writes the answer in one upsert; on a SQLite file all of it is one trip
    to SQLite's thread (`answers.answer`, issue 14).
    """
    if mood is not None and not 1 <= mood <= 5:
        raise Invalid("checkin.out_of_range", low=1, high=5)
    if driver_score is not None and not 1 <= driver_score <= 5:
        raise Invalid("checkin.out_of_range", low=1, high=5)
    if focus_score is not None and not 1 <= focus_score <= 5:
        raise Invalid("checkin.out_of_range", low=1, high=5)
    if enps is not None and not 0 <= enps <= 10:
        raise Invalid("checkin.out_of_range", low=0, high=10)
    if comment is not None:
        comment = clean_text(comment).strip()
        if len(comment) > COMMENT_LIMIT:
            raise Invalid("checkin.comment_too_long", limit=COMMENT_LIMIT, length=len(comment))
    key = respondent_key(ctx.secret, actor.key, round_id=round_id)
    now = ctx.clock.now()

    def decide(found: answers.Answering | None) -> dict[str, object]:
        # Inside the transaction (in SQLite's thread on a file): looks only at what was found.
        checked = check_answerable(found, now)
        rnd = checked.round
        if enps is not None and not rnd.enps:
            raise Invalid("checkin.no_enps")
        if focus_score is not None and checked.focus is None:
            raise Invalid("commitment.no_focus")
        values: dict[str, object] = {}
        if mood is not None:
            values["mood"] = mood
        if driver_score is not None:
            values["driver_score"], values["driver"] = driver_score, rnd.driver
        if enps is not None:
            values["enps"] = enps
        if focus_score is not None:
            values["focus_score"] = focus_score
        if comment is not None:
            values["comment"] = comment or None
        return values

    # Only the answer is written: the delivery, the member and every other row stay as they were,
    # so no value, time or transaction links this answer to its member. An upsert: a double tap
    # racing this one changes the same row instead of failing on the unique key.
    found, response = await answers.answer(ctx.store, round_id=round_id, platform=actor.platform,
                                           user_id=actor.user_id, respondent_key=key, decide=decide)
    rnd, team, member = found.round, found.team, found.member
    assert member is not None  # `check_answerable` refuses a stranger
    locale = member.locale or team.locale
    if not locale:
        async with ctx.store.session() as session:
            locale = await member_locale(session, ctx, member, team)
    tz = member.timezone or ctx.config.team_timezone(team)
    notice = recorded_notice(response, locale, closes_text(rnd, locale, tz))
    message = checkin_message(
        rnd, locale=locale, tz=tz, name=member.name, response=response, notice=notice,
        min_group_size=ctx.min_group_size, focus=found.focus,
    )
    # Debug, not info: a line per tap (a hundred a second at a busy moment) cost more than the answer's read.
    logger.debug("answer recorded", extra={"round_id": round_id})
    return Outcome(update=message, reply=Message((notice,), fallback=notice.text, locale=locale))


async def open_delivery_round(ctx: Context, actor: Actor) -> int | None:
    """The most recent open round the actor was asked in, if any."""
    now = ctx.clock.now()
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        if member is None:
            return None
        return await deliveries.latest_open_round_asked(session, member_id=member.id, now=now)  # type: ignore[arg-type]


_WORDS = {
    1: ("very bad", "awful", "terrible", "muy mal", "fatal", "pesimo", "horrible"),
    2: ("bad", "not good", "mal", "regular tirando a mal"),
    3: ("okay", "ok", "so so", "so-so", "meh", "fine", "normal", "regular", "mas o menos", "asi asi"),
    4: ("good", "bien", "contento", "contenta"),
    5: ("great", "very good", "excellent", "awesome", "muy bien", "genial", "excelente", "estupendo"),
}
_WORD_TO_MOOD = {w: n for n, words in _WORDS.items() for w in words}


def parse_mood(text: str) -> int | None:
    """A lone digit 1–5 or a word of the scale (es/en, accents and case ignored), else None."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    plain = re.sub(r"[^\w\s-]", "", plain).strip()
    if re.fullmatch(r"[1-5]", plain):
        return int(plain)
    return _WORD_TO_MOOD.get(re.sub(r"\s+", " ", plain))


async def reply_text(ctx: Context, actor: Actor, text: str) -> Outcome | None:
    """Text typed in the DM while a round is open: a mood if it reads as one, else the comment."""
    round_id = await open_delivery_round(ctx, actor)
    if round_id is None or not text.strip():
        return None
    mood = parse_mood(text)
    if mood is not None:
        outcome = await record_answer(ctx, actor, round_id=round_id, mood=mood)
    else:
        outcome = await record_answer(ctx, actor, round_id=round_id, comment=text)
    # Typed replies are answered with a line, not by redrawing the card.
    return Outcome(reply=outcome.reply)


async def inbox(ctx: Context, actor: Actor) -> list[int]:
    """Delivery ids of the actor's check-ins that were delivered, are open and not yet answered."""
    now = ctx.clock.now()
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        if member is None:
            return []
        open_ones = await deliveries.delivered_open(session, member_id=member.id, now=now)  # type: ignore[arg-type]
        keys = {respondent_key(ctx.secret, actor.key, round_id=r): r for _d, r in open_ones}
        answered = set()
        if keys:
            answered = await answers.rounds_answered(session, keys=list(keys))
        return [d for d, r in open_ones if r not in answered]
