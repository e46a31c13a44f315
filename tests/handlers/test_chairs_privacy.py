"""Empty chair and a member's own data: pulse me, pause, forget, lang."""

from __future__ import annotations

from sqlmodel import select

from handlers.checkins import open_round
from handlers.inputs import Command, Tap, handle
from handlers.messages import Facts, Text
from handlers.ports import Actor, Where
from storage.models import EmptyChair, Impact, Member, Response

ROOM = Where(conversation="C0ROOM", kind="channel")
DM = Where(conversation="dm", kind="dm")


def who(user: str) -> Actor:
    return Actor(platform="console", user_id=user)


def tally(message) -> dict[str, str]:
    return dict(next(b for b in message.blocks if isinstance(b, Facts)).items)


async def test_empty_chair_posts_the_question_with_topic(ctx):
    outcome = await handle(ctx, who("ana"), ROOM, Command.parse("empty-chair", "Subida de precios"))
    post = outcome.posts[0]
    texts = [b.text for b in post.message.blocks if isinstance(b, Text)]
    assert "¿Cómo afecta esta decisión a nuestros clientes?" in texts and "Subida de precios" in texts
    assert post.chair_id is not None


async def test_topic_over_200_characters_is_refused(ctx):
    outcome = await handle(ctx, who("ana"), ROOM, Command.parse("empty-chair", "x" * 201))
    assert outcome.posts == [] and "200" in outcome.reply.fallback
    async with ctx.store.session() as session:
        assert (await session.exec(select(EmptyChair))).all() == []


async def test_impacts_update_the_card_tally_and_close_lists_followups(ctx):
    opened = await handle(ctx, who("ana"), ROOM, Command.parse("empty-chair", "Nuevo horario"))
    chair_id = opened.posts[0].chair_id
    from handlers.chairs import remember_card

    await remember_card(ctx, chair_id=chair_id, conversation="C0ROOM", ref="1700000000.1")
    await handle(ctx, who("bea"), ROOM, Tap.parse("chair.impact.submit", str(chair_id),
                                                  {"effect": "better", "who": "pymes", "note": ""}))
    added = await handle(ctx, who("carlos"), ROOM, Tap.parse(
        "chair.impact.submit", str(chair_id),
        {"effect": "unknown", "who": "clientes de Canarias", "note": "¿horario local?"},
    ))
    edit = added.edits[0]
    assert edit.ref == "1700000000.1"
    counts = tally(edit.message)
    assert counts["Mejor para los clientes"] == "1" and counts["No lo sabemos"] == "1"

    closed = await handle(ctx, who("ana"), ROOM, Tap.parse("chair.close", str(chair_id)))
    summary = closed.posts[0]
    assert summary.thread_ref == "1700000000.1"
    lines = [b.text for b in summary.message.blocks if isinstance(b, Text)]
    assert any("Averiguar" in line and "Canarias" in line for line in lines)

    late = await handle(ctx, who("dani"), ROOM, Tap.parse("chair.impact.submit", str(chair_id), {"effect": "worse"}))
    assert late.edits == [] and "cerrada" in late.reply.fallback
    async with ctx.store.session() as session:
        assert len((await session.exec(select(Impact))).all()) == 2


async def test_impact_with_unknown_effect_changes_nothing(ctx):
    opened = await handle(ctx, who("ana"), ROOM, Command.parse("empty-chair", ""))
    chair_id = opened.posts[0].chair_id
    outcome = await handle(ctx, who("bea"), ROOM, Tap.parse("chair.impact.submit", str(chair_id), {"effect": "amazing"}))
    assert outcome.reply is not None and outcome.edits == []
    async with ctx.store.session() as session:
        assert (await session.exec(select(Impact))).all() == []


async def test_pulse_me_shows_only_own_answers(ctx):
    opened = await open_round(ctx, team_name="soporte")
    await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:5"))
    await handle(ctx, who("bea"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:1"))
    mine = await handle(ctx, who("ana"), DM, Command.parse("pulse", "me"))
    facts = next(b for b in mine.reply.blocks if isinstance(b, Facts))
    assert len(facts.items) == 1 and "Muy bien" in facts.items[0][1]


async def test_forget_asks_first_then_deletes_answers_and_profile(ctx):
    opened = await open_round(ctx, team_name="soporte")
    await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:5"))
    await handle(ctx, who("bea"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:2"))
    asked = await handle(ctx, who("ana"), DM, Command.parse("pulse", "forget"))
    async with ctx.store.session() as session:
        assert len((await session.exec(select(Response))).all()) == 2  # asking deletes nothing
    done = await handle(ctx, who("ana"), DM, Tap.parse("privacy.forget.confirm", "1"))
    assert asked.reply is not None and "1" in done.reply.fallback
    async with ctx.store.session() as session:
        assert [r.mood for r in (await session.exec(select(Response))).all()] == [2]
        users = {m.user_id for m in (await session.exec(select(Member))).all()}
    assert "ana" not in users and "bea" in users


async def test_lang_choice_wins_over_team_language(ctx):
    await handle(ctx, who("ana"), DM, Command.parse("pulse", "lang en"))
    opened = await open_round(ctx, team_name="soporte")
    outcome = await handle(ctx, who("ana"), DM, Tap.parse("checkin.mood", f"{opened.round_id}:4"))
    assert "Thanks" in outcome.reply.fallback
    bad = await handle(ctx, who("ana"), DM, Command.parse("pulse", "lang fr"))
    assert "lang es" in bad.reply.fallback and "lang en" in bad.reply.fallback


async def test_unknown_pulse_subcommand_shows_help(ctx):
    outcome = await handle(ctx, who("ana"), DM, Command.parse("pulse", "dance"))
    assert "/pulse" in outcome.reply.fallback


async def test_forget_unsigns_client_impacts_but_keeps_the_decision_record(ctx):
    opened = await handle(ctx, who("ana"), ROOM, Command.parse("empty-chair", "Precios"))
    chair_id = opened.posts[0].chair_id
    await handle(ctx, who("ana"), ROOM, Tap.parse("chair.impact.submit", str(chair_id), {"effect": "worse", "who": "pymes"}))
    await handle(ctx, who("ana"), DM, Tap.parse("privacy.forget.confirm", "1"))
    async with ctx.store.session() as session:
        impacts = (await session.exec(select(Impact))).all()
    assert [(i.effect, i.who, i.author) for i in impacts] == [("worse", "pymes", "")]
