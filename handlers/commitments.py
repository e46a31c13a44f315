"""A leader's commitment after each pulse: one focus (a driver) and one sentence, set once.

When a round closes with figures (`handlers.closing`), its team's own leaders (not the global
ones) are invited by DM; the first to commit sets it with a conditional UPDATE, so two leaders at
once cannot both win, and the others are told. pulsebot posts it once (the team's channel, else
one DM per member) through the notes outbox (`schedules.commitment_notes`). The sentence stays as
written; only the framing is in each reader's language. The next round asks whether things
improved on that focus (`checkins`), released and suppressed like every answer.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.drivers import BANK
from handlers.errors import Closed, Invalid, NotAllowed, NotFound
from handlers.i18n import t
from handlers.members import actor_locale
from handlers.messages import Field, Form, Message, Notice, Option, Outcome
from handlers.ports import Actor
from handlers.report_render import driver_label
from handlers.safe_text import clean_text
from storage.queries import commitments as rows
from storage.queries import members as member_rows
from storage.queries import rounds
from storage.queries.teams import leader_refs, led_team_ids, team_by_id, team_named

logger = logging.getLogger(__name__)

SENTENCE_LIMIT = 500
COMMIT_WORDS = ("commit", "compromiso")  # `/team-pulse commit [team]`


async def _led_round(session: AsyncSession, actor: Actor, round_id: int) -> tuple[int, str]:
    """(team id, team name) of the round, if the actor is one of that team's own leaders."""
    rnd = await rounds.round_by_id(session, round_id=round_id)
    team = None if rnd is None else await team_by_id(session, team_id=rnd.team_id)
    if rnd is None or team is None or team.id is None:
        raise NotFound("commitment.unknown")
    if not actor.ids() & await leader_refs(session, team_id=team.id):
        raise NotAllowed("commitment.not_a_leader", team=team.name)
    return team.id, team.name


def _already(team: str, driver: str | None, sentence: str | None, locale: str) -> Closed:
    return Closed("commitment.already_set", team=team, focus=driver_label(driver or "", locale), sentence=sentence or "")


async def commit_form(ctx: Context, actor: Actor, *, round_id: int) -> Outcome:
    """"Choose a focus": the form (a driver and a sentence), after the same checks as committing."""
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        _, team = await _led_round(session, actor, round_id)
        row = await rows.commitment_of(session, round_id=round_id)
        period = (await rounds.team_and_period(session, round_id=round_id)).period
    if row is None:
        raise NotFound("commitment.unknown")
    if row.status == rows.SET:
        raise _already(team, row.driver, row.sentence, locale)
    return Outcome(form=Form(
        title=t("commitment.form.title", locale),
        action="commit.submit",
        value=str(round_id),
        submit_label=t("commitment.form.submit", locale),
        intro=t("commitment.form.intro", locale, team=team, period=period),
        fields=(
            Field("driver", t("commitment.form.driver", locale), kind="select", required=True,
                  options=tuple(Option(driver_label(d, locale), d) for d in BANK)),
            Field("sentence", t("commitment.form.sentence", locale), kind="multiline", required=True,
                  max_length=SENTENCE_LIMIT, placeholder=t("commitment.form.placeholder", locale)),
        ),
    ))


async def commit(ctx: Context, actor: Actor, *, round_id: int, driver: str, sentence: str) -> Outcome:
    """Set the round's commitment if nobody did yet, and queue its post; the others are told."""
    locale = await actor_locale(ctx, actor)
    if driver not in BANK:
        raise Invalid("commitment.bad_driver")
    words = clean_text(sentence).strip()
    if not words:
        raise Invalid("commitment.empty")
    if len(words) > SENTENCE_LIMIT:
        raise Invalid("commitment.too_long", limit=SENTENCE_LIMIT, length=len(words))
    now = ctx.clock.now()
    leader = sorted(actor.ids())[0]
    async with ctx.store.session() as session:
        team_id, team = await _led_round(session, actor, round_id)
        if await rows.commitment_of(session, round_id=round_id) is None:
            raise NotFound("commitment.unknown")
        if not await rows.claim_commit(session, round_id=round_id, driver=driver, sentence=words,
                                       leader=leader, now=now):
            await session.rollback()
            row = await rows.commitment_of(session, round_id=round_id)
            assert row is not None
            raise _already(team, row.driver, row.sentence, locale)
        posted = await _queue_posts(session, ctx, team_id=team_id, round_id=round_id)
        others = sorted(await leader_refs(session, team_id=team_id) - actor.ids())
        await rows.queue_notes(session, round_id=round_id, kind="told", targets=[(f"l:{r}", None) for r in others])
        await session.commit()
    logger.info("commitment set", extra={"round_id": round_id, "notes": posted})
    text = t("commitment.done", locale, team=team, focus=driver_label(driver, locale))
    return Outcome(reply=Message((Notice(text, "success"),), text, locale))


async def _queue_posts(session: AsyncSession, ctx: Context, *, team_id: int, round_id: int) -> int:
    """The post, once: in each channel the team has, else one DM per member of its roster."""
    team = await team_by_id(session, team_id=team_id)
    assert team is not None
    channels = [f"c:{p}:{c}" for p, c in (("slack", team.slack_channel), ("teams", team.teams_conversation)) if c]
    if channels:
        return await rows.queue_notes(session, round_id=round_id, kind="post", targets=[(c, None) for c in channels])
    members = await member_rows.roster(session, team_id=team_id)
    return await rows.queue_notes(session, round_id=round_id, kind="post",
                                  targets=[(f"m:{m.id}", m.id) for m in members])


async def skip(ctx: Context, actor: Actor, *, round_id: int) -> Outcome:
    """"Skip this time": recorded (the report shows no commitment) unless someone committed already."""
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        _, team = await _led_round(session, actor, round_id)
        row = await rows.commitment_of(session, round_id=round_id)
        if row is None:
            raise NotFound("commitment.unknown")
        if row.status == rows.SET:
            raise _already(team, row.driver, row.sentence, locale)
        await rows.mark_skipped(session, round_id=round_id, leader=sorted(actor.ids())[0], now=ctx.clock.now())
        await session.commit()
    text = t("commitment.skipped", locale, team=team)
    message = Message((Notice(text, "info"),), text, locale)
    return Outcome(update=message, reply=message)


async def reopen(ctx: Context, actor: Actor, text: str) -> Outcome:
    """`/team-pulse commit [team]`: the form again for the last closed round of a team the actor
    leads, while no commitment is set for it."""
    locale = await actor_locale(ctx, actor)
    async with ctx.store.session() as session:
        led = [i for i in await led_team_ids(session, refs=actor.ids()) if i is not None]
        if text.strip():
            team = await team_named(session, name=text.strip())
            if team is None or team.id not in led:
                raise NotAllowed("commitment.not_a_leader", team=text.strip())
            led = [team.id]  # type: ignore[list-item]
        if not led:
            raise NotAllowed("commitment.not_a_leader", team=text.strip() or "—")
        already = None
        for team_id in sorted(led):
            round_id = await rows.last_closed_with_figures(session, team_id=team_id)
            row = None if round_id is None else await rows.commitment_of(session, round_id=round_id)
            if row is not None and row.status != rows.SET:
                return await commit_form(ctx, actor, round_id=round_id)  # type: ignore[arg-type]
            if row is not None and already is None:
                owner = await team_by_id(session, team_id=team_id)
                already = _already(owner.name if owner else "", row.driver, row.sentence, locale)
    if already is not None:
        raise already
    raise NotFound("commitment.nothing")

