"""What a person did, in neutral terms: a command, a tap (or a form sent), or text typed in the DM.

Each face turns its platform's payload into one of these at its edge (`Command.parse`, and
`Tap.parse` for the action and value the core put on its own buttons and forms) and calls
`handle`; what comes back is carried out with `handlers.surface.carry_out`. Every refusal comes
back as a polite reply, and so does every failure of a command or a tap; a failure to store typed
text is raised to the face (see `handle`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from handlers import chairs, checkins, commitments, followups, privacy, replies
from handlers.commands import HELP_WORDS, Verb, error_outcome, run_verb
from handlers.commitments import COMMIT_WORDS
from handlers.context import Context
from handlers.errors import Invalid, PulseError
from handlers.i18n import t
from handlers.members import actor_locale
from handlers.messages import Field, Form, Outcome
from handlers.ports import Actor, Where

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    """A slash command (or its typed form in Teams and the console): `/team-pulse soporte`."""

    name: str  # as typed, lower case, without the slash
    text: str = ""

    @classmethod
    def parse(cls, name: str, text: str = "") -> Command:
        """A command as a face received it; an unknown name is answered with a polite refusal."""
        return cls(name=name.strip().lstrip("/").lower(), text=text.strip())

    @property
    def verb(self) -> Verb | None:
        """The command, or None when pulsebot has no such command."""
        try:
            return Verb(self.name)
        except ValueError:
            return None

    @property
    def asks_help(self) -> bool:
        """`/<command> help` (or `ayuda`): answered with the command's usage, nothing is run."""
        return self.verb is not None and self.text.lower() in HELP_WORDS

    @property
    def heavy(self) -> bool:
        """Draws a report and its chart: a face with a worker process runs it there."""
        # `/team-pulse commit` opens a form: it must answer within the request's trigger window.
        return self.verb is Verb.TEAM_PULSE and (self.text.split() or [""])[0].lower() not in COMMIT_WORDS


# The ids each action's value carries, in order: "round:score" for a mood tap, "chair" for a chair's.
_SLOTS: dict[str, tuple[str, ...]] = {
    "checkin.mood": ("round_id", "score"),
    "checkin.driver": ("round_id", "score"),
    "checkin.enps": ("round_id", "score"),
    "checkin.focus": ("round_id", "score"),
    "commit.start": ("round_id",),
    "commit.submit": ("round_id",),
    "commit.skip": ("round_id",),
    "checkin.comment": ("round_id",),
    "checkin.comment.submit": ("round_id",),
    "chair.impact": ("chair_id",),
    "chair.impact.submit": ("chair_id",),
    "chair.close": ("chair_id",),
    "followup.take": ("followup_id",),
    "followup.resolve": ("followup_id",),
    "followup.resolve.submit": ("followup_id",),
    "privacy.forget.confirm": (),
    "privacy.forget.cancel": (),
    # "ref" is a random row id (32 hex characters): a frozen comment's, or a reply thread's.
    "reply.start": ("ref",),
    "reply.submit": ("ref",),
    "reply.answer": ("ref",),
    "reply.answer.submit": ("ref",),
    "reply.stop": ("ref",),
}
_REF = re.compile(r"[0-9a-f]{32}")
_ANSWERS = frozenset({"checkin.mood", "checkin.driver", "checkin.enps", "checkin.comment.submit"})


def _fits(slot: str, part: str) -> bool:
    return bool(_REF.fullmatch(part)) if slot == "ref" else part.isdecimal() and len(part) <= 12


@dataclass(frozen=True)
class Tap:
    """A button tapped or a form sent: the action and the ids its value carried, typed."""

    action: str
    round_id: int | None = None
    score: int | None = None
    chair_id: int | None = None
    followup_id: int | None = None
    ref: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, action: str, value: str = "", fields: Mapping[str, str] | None = None) -> Tap:
        """Read the value the core wrote on its button (`Button.value`, `Form.value`).

        Never raises: a value that does not fit its action leaves the ids empty, and `handle`
        answers that politely ("action.malformed"), as it answers an unknown action.
        """
        slots = _SLOTS.get(action, ())
        ids: dict[str, int | str] = {}
        parts = value.split(":") if value else []
        if len(parts) == len(slots) and all(_fits(s, p) for s, p in zip(slots, parts, strict=True)):
            ids = {slot: p if slot == "ref" else int(p) for slot, p in zip(slots, parts, strict=True)}
        return cls(action=action, fields=dict(fields or {}), **ids)  # type: ignore[arg-type]

    @property
    def answers_checkin(self) -> bool:
        """A check-in answer: it needs the member row as the round asked them, not a fresh profile,
        so a face may refresh the profile after acknowledging it instead of before."""
        return self.action in _ANSWERS

    def need(self, *slots: str) -> list[int]:
        """The ids this action needs, or `Invalid("action.malformed")` when one is missing."""
        values = [getattr(self, slot) for slot in slots]
        if any(v is None for v in values):
            raise Invalid("action.malformed")
        return values

    def need_ref(self) -> str:
        """The random row id this action needs, or `Invalid("action.malformed")`."""
        if self.ref is None:
            raise Invalid("action.malformed")
        return self.ref


@dataclass(frozen=True)
class Typed:
    """Text typed in the DM with the bot: an answer to the open check-in (a mood or a comment)."""

    text: str


Input = Command | Tap | Typed


async def handle(ctx: Context, actor: Actor, where: Where, done: Input) -> Outcome | None:
    """The one way into the core for what a person did.

    None only for typed text when no check-in is open for the person: each face then says what
    it can do in its own words.

    A refusal of typed text (the round closed, the comment too long) is answered like any other.
    A failure that is not a refusal (the store is down) is raised, because then nothing was
    stored and the face decides: Slack answers its event with a 500 so that Slack re-delivers it
    (an acknowledged answer is a stored answer, DESIGN.md, Reliability); a face that gets no
    retry answers it politely (the console with `handlers.commands.error_outcome`, Teams with its
    turn guard, `bot.teams.agent.PulseAgent.on_turn`).
    """
    match done:
        case Command():
            return await run_verb(ctx, actor, where, done.verb, done.name, done.text)
        case Tap():
            return await _tap(ctx, actor, where, done)
        case Typed(text=text):
            try:
                return await checkins.reply_text(ctx, actor, text)
            except PulseError as refused:
                return await error_outcome(ctx, actor, refused, doing="typed reply")


async def _tap(ctx: Context, actor: Actor, where: Where, tap: Tap) -> Outcome:
    try:
        match tap.action:
            case "checkin.mood":
                rid, n = tap.need("round_id", "score")
                return await checkins.record_answer(ctx, actor, round_id=rid, mood=n)
            case "checkin.driver":
                rid, n = tap.need("round_id", "score")
                return await checkins.record_answer(ctx, actor, round_id=rid, driver_score=n)
            case "checkin.enps":
                rid, n = tap.need("round_id", "score")
                return await checkins.record_answer(ctx, actor, round_id=rid, enps=n)
            case "checkin.focus":
                rid, n = tap.need("round_id", "score")
                return await checkins.record_answer(ctx, actor, round_id=rid, focus_score=n)
            case "commit.start" | "commit.submit" | "commit.skip":
                return await _commit_tap(ctx, actor, tap)
            case "checkin.comment":
                (rid,) = tap.need("round_id")
                return await _comment_form(ctx, actor, rid)
            case "checkin.comment.submit":
                (rid,) = tap.need("round_id")
                return await checkins.record_answer(ctx, actor, round_id=rid, comment=tap.fields.get("comment", ""))
            case "chair.impact":
                (cid,) = tap.need("chair_id")
                return await chairs.start_impact(ctx, actor, chair_id=cid)
            case "chair.impact.submit":
                (cid,) = tap.need("chair_id")
                return await chairs.add_impact(
                    ctx, actor, chair_id=cid, effect=tap.fields.get("effect", ""),
                    who=tap.fields.get("who", ""), note=tap.fields.get("note", ""),
                )
            case "chair.close":
                (cid,) = tap.need("chair_id")
                return await chairs.close_chair(ctx, actor, where, chair_id=cid)
            case "followup.take" | "followup.resolve" | "followup.resolve.submit":
                return await _followup_tap(ctx, actor, tap)
            case "privacy.forget.confirm":
                return await privacy.forget(ctx, actor)
            case "privacy.forget.cancel":
                return await privacy.cancel_forget(ctx, actor)
            case "reply.start" | "reply.submit" | "reply.answer" | "reply.answer.submit" | "reply.stop":
                return await _reply_tap(ctx, actor, tap)
            case _:
                raise Invalid("action.unknown")
    except PulseError as error:
        logger.info("action refused", extra={"action": tap.action, "reason": error.message_id})
        return await error_outcome(ctx, actor, error)
    except Exception as error:  # noqa: BLE001 - logged with its traceback there, answered politely
        return await error_outcome(ctx, actor, error, doing=tap.action)


async def _comment_form(ctx: Context, actor: Actor, round_id: int) -> Outcome:
    # Refuse up front when the round is closed, rather than after the member typed a comment.
    async with ctx.store.session() as session:
        await checkins.answerable(session, ctx, actor, round_id)
    locale = await actor_locale(ctx, actor)
    form = Form(
        title=t("comment.title", locale),
        action="checkin.comment.submit",
        value=str(round_id),
        submit_label=t("comment.submit", locale),
        intro=t("comment.intro", locale),
        fields=(
            Field("comment", t("comment.label", locale), kind="multiline",
                  max_length=checkins.COMMENT_LIMIT, placeholder=t("comment.placeholder", locale)),
        ),
    )
    return Outcome(form=form)


async def _commit_tap(ctx: Context, actor: Actor, tap: Tap) -> Outcome:
    (rid,) = tap.need("round_id")
    match tap.action:
        case "commit.start":
            return await commitments.commit_form(ctx, actor, round_id=rid)
        case "commit.submit":
            return await commitments.commit(ctx, actor, round_id=rid, driver=tap.fields.get("driver", ""),
                                            sentence=tap.fields.get("sentence", ""))
        case _:
            return await commitments.skip(ctx, actor, round_id=rid)


async def _reply_tap(ctx: Context, actor: Actor, tap: Tap) -> Outcome:
    ref, text = tap.need_ref(), tap.fields.get("text", "")
    match tap.action:
        case "reply.start":
            return await replies.reply_form(ctx, actor, comment_id=ref)
        case "reply.submit":
            return await replies.send_reply(ctx, actor, comment_id=ref, text=text)
        case "reply.answer":
            return await replies.answer_form(ctx, actor, thread_id=ref)
        case "reply.answer.submit":
            return await replies.send_answer(ctx, actor, thread_id=ref, text=text)
        case _:
            return await replies.stop(ctx, actor, thread_id=ref)


async def _followup_tap(ctx: Context, actor: Actor, tap: Tap) -> Outcome:
    (fid,) = tap.need("followup_id")
    match tap.action:
        case "followup.take":
            return await followups.take_over(ctx, actor, followup_id=fid)
        case "followup.resolve":
            return await followups.resolve_form(ctx, actor, followup_id=fid)
        case _:
            return await followups.resolve(ctx, actor, followup_id=fid, effect=tap.fields.get("effect", ""),
                                           note=tap.fields.get("note", ""))
