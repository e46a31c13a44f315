"""A demo company with synthetic history: two teams, leaders, weeks of answers, a few empty chairs.

What `pulsebot chat --demo` and `pulsebot demo seed` use. Bulk inserts keep it quick at
thousands of members; answers go under real respondent keys, so `/pulse me` works for demo people.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlmodel import col

from handlers.closing import close_due_rounds
from handlers.context import Context
from handlers.drivers import driver_for
from handlers.members import respondent_key
from handlers.periods import local_midnight, period_of, period_ordinal, quarter
from storage.models import (
    IMPACT_EFFECTS,
    Delivery,
    EmptyChair,
    Impact,
    Member,
    Response,
    Round,
    Team,
    TeamMember,
)
from storage.queries.members import team_user_ids
from storage.queries.rounds import any_round

logger = logging.getLogger(__name__)

FIRST_NAMES = (
    "ana", "luis", "marta", "javier", "lucia", "carlos", "elena", "pablo", "sofia", "diego", "carmen",
    "jorge", "laura", "miguel", "paula", "raul", "sara", "alberto", "irene", "hugo", "noa", "mateo",
    "emma", "oliver", "grace", "liam", "ava", "noah", "mia", "leo",
)
# What a team writes beside an answer, by the answer's mood (low 1-2, mid 3, high 4-5). Each round
# draws from a shuffled deck per mood, so no sentence appears twice in one round.
COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "low": (
            "Demasiadas reuniones esta semana, casi no he podido atender a clientes.",
            "Vamos apagando fuegos todo el rato y nadie mira lo importante.",
            "La incidencia del martes nos dejó agotados; faltó gente de guardia.",
            "No tengo claro qué es prioritario: cada día cambia.",
            "Me siento solo con los tickets difíciles, nadie tiene tiempo para revisarlos.",
            "El cambio de horario nos ha descolocado y nadie lo explicó bien.",
            "Semana dura: tres escalados y ninguna respuesta de producto.",
            "Necesito desconectar; llevo dos fines de semana contestando correos.",
        ),
        "mid": (
            "Carga de trabajo alta, pero asumible.",
            "Semana normal, sin grandes sorpresas.",
            "Bien en general, aunque la herramienta de tickets va lenta.",
            "Algo de caos el lunes, luego se ordenó.",
            "Me falta contexto sobre la hoja de ruta del trimestre.",
            "Estaría bien tener la reunión de equipo más corta.",
            "Todo correcto; a ver si cerramos el tema de las vacaciones.",
            "Ni bien ni mal: mucho correo y pocas llamadas.",
        ),
        "high": (
            "Me gustó mucho la sesión con el cliente de Valencia.",
            "El equipo se ha apoyado muchísimo con la incidencia del martes.",
            "Por fin hemos cerrado el backlog de devoluciones.",
            "Gracias a Marta por la formación del nuevo panel, muy útil.",
            "Buen ambiente y un cliente contento que nos escribió para agradecerlo.",
            "Me encanta que ahora podamos decidir nosotros el turno de guardia.",
            "Semana tranquila y productiva, da gusto.",
            "La nueva plantilla de respuestas nos ahorra muchísimo tiempo.",
        ),
    },
    "en": {
        "low": (
            "Too many meetings this week, hardly any time with customers.",
            "Priorities changed twice since Monday; hard to plan anything.",
            "The release slipped again and nobody said why.",
            "I'm stretched thin covering for two people on leave.",
            "Tuesday's outage was rough and the postmortem felt like blame.",
            "I keep getting pulled into support and can't finish my own work.",
            "Feeling a bit burnt out after the launch crunch.",
            "Our roadmap and what sales promises don't match.",
        ),
        "mid": (
            "Heavy week, but manageable.",
            "An ordinary week, nothing to flag.",
            "Good overall, though the CI pipeline is painfully slow.",
            "Mixed week: the planning was vague, the work itself was fine.",
            "Would like fewer status meetings and more focus time.",
            "Okay, but I'm still waiting on feedback for my design doc.",
            "Busy but steady; the new on-call rota helps.",
            "Fine. Looking forward to the offsite.",
        ),
        "high": (
            "Loved the customer call on Thursday, we learned a lot.",
            "Great teamwork during Tuesday's incident.",
            "Shipping the onboarding flow felt really good.",
            "Thanks to Oliver for pairing with me on the billing bug.",
            "Clear priorities this sprint, finally.",
            "Customers are already using the new export; nice to see.",
            "Best retro we've had in months.",
            "Calm, focused week. More of these please.",
        ),
    },
}
# Used when pulsebot.toml names no team: the same company the example pulsebot.toml describes.
DEMO_CONFIG = {
    "pulse": {"min_group_size": 5, "default_locale": "es", "timezone": "Europe/Madrid", "leaders": ["ceo"]},
    "teams": [
        {"name": "soporte", "locale": "es", "leaders": ["valeria"]},
        {"name": "producto", "locale": "en", "timezone": "Europe/London", "leaders": ["mark"]},
    ],
}
# How each demo team's mood drifts per week, so the trends differ (first team dips, second rises).
DRIFTS = (-0.06, 0.05)


@dataclass(frozen=True)
class DemoCompany:
    """What was seeded: who to log in as."""

    teams: tuple[str, ...]
    leaders: dict[str, str]  # team → leader user id
    global_leader: str
    members: dict[str, list[str]]  # team → member user ids


async def seed(
    ctx: Context,
    *,
    members: int = 24,
    weeks: int = 12,
    progress: Callable[[int, int], None] | None = None,
) -> DemoCompany:
    """Seed the demo company (idempotent: an existing demo is left as it is)."""
    teams = ctx.config.teams
    if not teams:
        raise ValueError("the demo needs teams in the config (bot.app uses DEMO_CONFIG when there are none)")
    if await _seeded(ctx):
        return await _describe(ctx)
    rng = random.Random(42)
    now = ctx.clock.now()
    per_team = max(members // len(teams), 1)
    company = DemoCompany(
        teams=tuple(t.name for t in teams),
        leaders={t.name: t.leaders[0] for t in teams if t.leaders},
        global_leader=ctx.config.pulse.leaders[0] if ctx.config.pulse.leaders else "",
        members={},
    )
    taken = {ref for t in teams for ref in t.leaders} | set(ctx.config.pulse.leaders)
    names = [n for n in FIRST_NAMES if n not in taken]
    total_steps = len(teams) * (weeks + 1)
    step = 0
    async with ctx.store.engine.begin() as conn:
        for index, tc in enumerate(teams):
            name = tc.name
            locale = tc.locale or ctx.config.pulse.default_locale
            tz = tc.timezone or ctx.config.pulse.timezone
            drift = DRIFTS[index % len(DRIFTS)]
            team_id = (await conn.execute(select(col(Team.id)).where(col(Team.name) == name))).scalar_one()
            users = [f"{names[i % len(names)]}{'' if i < len(names) else i}"
                     for i in range(index * per_team, (index + 1) * per_team)]
            company.members[name] = users
            await conn.execute(insert(Member), [
                {"platform": "console", "user_id": u, "name": u.capitalize(), "locale": None,
                 "locale_chosen": False, "paused": False, "created_at": now} for u in users
            ])
            rows = (await conn.execute(
                select(col(Member.id), col(Member.user_id)).where(col(Member.user_id).in_(users))
            )).all()
            ids = {user: mid for mid, user in rows}
            await conn.execute(insert(TeamMember), [{"team_id": team_id, "member_id": ids[u], "active": True} for u in users])
            enps_quarters: set[tuple[int, int]] = set()
            today = now.astimezone(ZoneInfo(tz)).date()
            for back in range(weeks, -1, -1):  # back == 0 is this week's round, still open
                # Weeks counted on the team's calendar: counted in UTC, a change of summer time
                # between then and now could put two of them in the same local week.
                local_day = today - timedelta(weeks=back)
                period, start = period_of("weekly", local_day)
                opened = local_midnight(start, tz).replace(hour=10).astimezone(now.tzinfo)
                if back == 0:
                    opened = min(opened, now)
                enps = quarter(start) not in enps_quarters
                enps_quarters.add(quarter(start))
                closes = opened + timedelta(hours=72) if back else now + timedelta(hours=72)
                round_id = (await conn.execute(insert(Round).values(
                    team_id=team_id, period=period, period_start=local_midnight(start, tz),
                    opened_at=opened, closes_at=closes,
                    driver=driver_for(period_ordinal("weekly", start)), enps=enps,
                ).returning(col(Round.id)))).scalar_one()
                assert round_id is not None
                base = 3.6 + drift * (weeks - back) + rng.uniform(-0.15, 0.15)
                if index == 0 and back in (1, 2):
                    base -= 0.6  # a recent dip, so the demo shows an alert
                answered = [u for u in users if rng.random() < (0.55 if back == 0 else 0.82)]
                await conn.execute(insert(Delivery), [
                    {"round_id": round_id, "member_id": ids[u], "status": "sent", "attempts": 1, "due_at": opened,
                     "sent_at": opened, "conversation": "console", "message_ref": f"demo-{round_id}-{ids[u]}"}
                    for u in users
                ])
                if answered:
                    decks = comment_decks(rng, locale)
                    await conn.execute(insert(Response), [
                        _answer(rng, round_id, respondent_key(ctx.secret, f"console:{u}", round_id=round_id), base,
                                driver_for(period_ordinal("weekly", start)), enps, decks)
                        for u in answered
                    ])
                step += 1
                if progress:
                    progress(step, total_steps)
            await _chairs(conn, rng, team_id, name, locale, users, now, weeks)
    # Past rounds close as the clock closes them: their figures and comments are frozen.
    await close_due_rounds(ctx, now)
    logger.info("demo seeded", extra={"members": per_team * len(teams), "weeks": weeks})
    return company


def _answer(rng: random.Random, round_id: int | None, key: str, base: float, driver: str, enps: bool,
            decks: dict[str, list[str]]) -> dict:
    mood = min(5, max(1, round(rng.gauss(base, 0.8))))
    return {
        "round_id": round_id, "respondent_key": key, "mood": mood, "driver": driver,
        "driver_score": min(5, max(1, round(rng.gauss(base - 0.2, 0.9)))),
        "enps": min(10, max(0, round(rng.gauss(7.2, 2.0)))) if enps else None,
        "comment": _comment(decks, mood) if rng.random() < 0.18 else None,
    }


def comment_decks(rng: random.Random, locale: str) -> dict[str, list[str]]:
    """One round's comments, shuffled per mood; each is drawn once at most."""
    return {tone: rng.sample(lines, k=len(lines)) for tone, lines in COMMENTS[locale].items()}


def _comment(decks: dict[str, list[str]], mood: int) -> str | None:
    deck = decks["low" if mood <= 2 else "mid" if mood == 3 else "high"]
    return deck.pop() if deck else None  # an exhausted deck: this answer comes without a comment


async def _chairs(conn, rng: random.Random, team_id: int | None, name: str, locale: str, users: list[str],  # noqa: ANN001
                  now: datetime, weeks: int) -> None:
    topics = {
        "es": ("Subida de precios del plan básico", "Nuevo horario de soporte", "Cambiar de proveedor de envíos"),
        "en": ("Pricing change for the basic plan", "Retiring the legacy API", "New onboarding flow"),
    }[locale]
    for i, topic in enumerate(topics):
        opened = now - timedelta(weeks=rng.randint(1, max(weeks, 1)), hours=i)
        chair_id = (await conn.execute(insert(EmptyChair).values(
            platform="console", conversation=f"console:#{name}", team_id=team_id, topic=topic, opened_by=users[0],
            locale=locale, opened_at=opened, closed_at=opened + timedelta(hours=1),
        ).returning(col(EmptyChair.id)))).scalar_one()
        effects = rng.sample([*IMPACT_EFFECTS, "better"], k=1 + i)
        if effects:
            await conn.execute(insert(Impact), [
                {"chair_id": chair_id, "author": rng.choice(users), "effect": e,
                 "who": "clientes pyme" if locale == "es" else "small-business clients",
                 "note": "", "created_at": opened + timedelta(minutes=10)} for e in effects
            ])


async def _seeded(ctx: Context) -> bool:
    async with ctx.store.session() as session:
        return await any_round(session)


async def _describe(ctx: Context) -> DemoCompany:
    teams = ctx.config.teams
    async with ctx.store.session() as session:
        members: dict[str, list[str]] = {}
        for tc in teams:
            members[tc.name] = await team_user_ids(session, team_name=tc.name)
    return DemoCompany(
        tuple(t.name for t in teams),
        {t.name: t.leaders[0] for t in teams if t.leaders},
        ctx.config.pulse.leaders[0] if ctx.config.pulse.leaders else "",
        members,
    )
