"""What the commitment notes say: the leader's invitation with the round's headline, the post to
the team, the "already set" to the other leaders; and who each note goes to (for the sender).

The leader's sentence is quoted as written; every word around it is in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.figure_text import score_text
from handlers.i18n import t
from handlers.members import find_member, member_locale, recipient_in
from handlers.messages import Actions, Button, Facts, Message, Text
from handlers.ports import Actor, Recipient
from handlers.report_model import Score
from handlers.report_render import driver_label, mood_text, participation_text
from handlers.reports import build_report
from storage.models import CommitmentNote, Member
from storage.queries import commitments as rows
from storage.queries import members as member_rows
from storage.queries import rounds
from storage.queries.teams import team_by_id


def focus_line(driver: str, sentence: str, locale: str) -> str:
    """"Recognition — “We will …”" for lists and refusals."""
    return t("commitment.focus_line", locale, focus=driver_label(driver, locale), sentence=sentence)


async def headline(ctx: Context, *, team: str, period: str, locale: str) -> tuple[tuple[str, str], ...]:
    """The closed round's participation, mood and its change, and the team's lowest driver (all
    from the report, so every figure is guarded exactly as there)."""
    report = (await build_report(ctx, teams=[team], weeks=12)).teams[0]
    p = next((x for x in report.periods if x.period == period), None)
    items: list[tuple[str, str]] = []
    if p is not None:
        items.append((t("reports.label.participation", locale), participation_text(p, locale)))
        items.append((t("reports.label.mood", locale), mood_text(p, report, locale)))
    scored = [(s.mean, name, s) for name, s in report.drivers if isinstance(s, Score)]
    if scored:
        _, name, lowest = min(scored, key=lambda x: (x[0], x[1]))
        items.append((t("commitment.lowest_driver", locale),
                      f"{driver_label(name, locale)} ({score_text(lowest, report, locale)})"))
    return tuple(items)


async def invitation_message(ctx: Context, *, team: str, period: str, round_id: int, locale: str) -> Message:
    """The DM a team leader gets when a round closes with figures."""
    title = t("commitment.invite.title", locale, team=team, period=period)
    blocks = (
        Text(title, "heading"),
        Facts(await headline(ctx, team=team, period=period, locale=locale)),
        Text(t("commitment.invite.ask", locale), "strong"),
        Text(t("commitment.invite.how", locale, team=team), "muted"),
        Actions((Button(t("commitment.invite.choose", locale), "commit.start", str(round_id), style="primary"),
                 Button(t("commitment.invite.skip", locale), "commit.skip", str(round_id)))),
    )
    return Message(blocks, title, locale)


def post_message(*, team: str, period: str, driver: str, sentence: str, locale: str) -> Message:
    """The commitment as the team reads it: the framing in the reader's language, the sentence as written."""
    title = t("commitment.post.title", locale, team=team, period=period, focus=driver_label(driver, locale))
    blocks = (
        Text(title, "heading"),
        Text(sentence, "quote"),
        Text(t("commitment.post.next", locale, focus=driver_label(driver, locale)), "muted"),
    )
    return Message(blocks, title, locale)


def told_message(*, team: str, driver: str, sentence: str, locale: str) -> Message:
    """What the other leaders of the team are told once one of them committed."""
    text = t("commitment.already_set", locale, team=team, focus=driver_label(driver, locale), sentence=sentence)
    return Message((Text(text),), text, locale)


@dataclass(frozen=True)
class Target:
    """Where a note goes (a person `to`, or a channel: `platform`, `conversation`) and what it will say."""

    kind: str
    team: str
    period: str
    round_id: int
    driver: str
    sentence: str
    locale: str
    to: Recipient | None = None
    platform: str = ""
    conversation: str = ""


async def _leader(session: AsyncSession, ref: str) -> tuple[Member | None, Recipient | None]:
    member = await member_rows.leader_member(session, ref=ref)
    if member is not None:
        return member, await recipient_in(session, member)
    platform, _, user_id = ref.partition(":")
    # A Slack or console leader the bot has not met yet can still be written to by id; Teams needs
    # a conversation reference, which only exists once they talked to the bot.
    return None, Recipient(platform=platform, user_id=user_id) if platform in ("slack", "console") else None


async def note_target(session: AsyncSession, ctx: Context, note: CommitmentNote) -> Target | None:
    """Who gets this note; None when it must not go (its commitment or person is gone, or an
    invitation comes after the commitment was set)."""
    row = await rows.commitment_of(session, round_id=note.round_id)
    rnd = await rounds.round_by_id(session, round_id=note.round_id)
    team = None if rnd is None else await team_by_id(session, team_id=rnd.team_id)
    if row is None or rnd is None or team is None or (note.kind == "invite" and row.status == rows.SET):
        return None
    what = dict(kind=note.kind, team=team.name, period=rnd.period, round_id=note.round_id,
                driver=row.driver or "", sentence=row.sentence or "")
    scheme, _, rest = note.target.partition(":")
    if scheme == "c":
        platform, _, conversation = rest.partition(":")
        return Target(**what, locale=team.locale or ctx.config.pulse.default_locale,  # type: ignore[arg-type]
                      platform=platform, conversation=conversation)
    if scheme == "m":
        member = await member_rows.member_by_id(session, member_id=int(rest))
        to = None if member is None else await recipient_in(session, member)
    else:
        member, to = await _leader(session, rest)
    if to is None:
        return None
    # A leader reads their own language (as when they act); a member, theirs, else their team's.
    locale = await member_locale(session, ctx, member, team if scheme == "m" else None)
    return Target(**what, locale=locale, to=to)  # type: ignore[arg-type]


async def target_message(ctx: Context, target: Target) -> Message:
    """The note's message in its reader's language (outside any open session: the invitation reads the report)."""
    if target.kind == "invite":
        return await invitation_message(ctx, team=target.team, period=target.period, round_id=target.round_id,
                                        locale=target.locale)
    if target.kind == "told":
        return told_message(team=target.team, driver=target.driver, sentence=target.sentence, locale=target.locale)
    return post_message(team=target.team, period=target.period, driver=target.driver, sentence=target.sentence,
                        locale=target.locale)


async def console_notes(ctx: Context, actor: Actor) -> list[Message]:
    """Commitment notes that reached a console person (their inbox is the store), each shown once."""
    if actor.platform != "console":
        return []
    targets: list[Target] = []
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
        refs = [f"l:{ref}" for ref in actor.ids()] + ([f"m:{member.id}"] if member is not None else [])
        for note in await rows.arrived_for(session, targets=refs):
            # Only this person's own notes are asked for: a console target is read here, once.
            if not await rows.mark_read(session, note_id=note.id or 0, status=note.status):
                continue
            if (target := await note_target(session, ctx, note)) is not None:
                targets.append(target)
        await session.commit()
    return [await target_message(ctx, target) for target in targets]
