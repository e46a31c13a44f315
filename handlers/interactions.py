"""Taps, form submits and replies typed in the DM, neutral: faces pass `action` and `value` through untouched."""

from __future__ import annotations

import logging

from handlers import chairs, checkins, privacy
from handlers.commands import error_outcome
from handlers.context import Context
from handlers.errors import Invalid, PulseError
from handlers.i18n import t
from handlers.members import actor_locale
from handlers.messages import Field, Form, Outcome
from handlers.ports import Actor, Where

logger = logging.getLogger(__name__)


def _ids(value: str, parts: int) -> list[int]:
    try:
        numbers = [int(p) for p in value.split(":")]
    except ValueError:
        raise Invalid("action.malformed") from None
    if len(numbers) != parts:
        raise Invalid("action.malformed")
    return numbers


async def dispatch(
    ctx: Context,
    actor: Actor,
    where: Where,
    *,
    action: str,
    value: str,
    fields: dict[str, str] | None = None,
) -> Outcome:
    """Handle one tap or form submit; refusals (closed round, bad payload) and failures come back as replies."""
    fields = fields or {}
    try:
        match action:
            case "checkin.mood":
                rid, n = _ids(value, 2)
                return await checkins.record_answer(ctx, actor, round_id=rid, mood=n)
            case "checkin.driver":
                rid, n = _ids(value, 2)
                return await checkins.record_answer(ctx, actor, round_id=rid, driver_score=n)
            case "checkin.enps":
                rid, n = _ids(value, 2)
                return await checkins.record_answer(ctx, actor, round_id=rid, enps=n)
            case "checkin.comment":
                (rid,) = _ids(value, 1)
                return await _comment_form(ctx, actor, rid)
            case "checkin.comment.submit":
                (rid,) = _ids(value, 1)
                outcome = await checkins.record_answer(ctx, actor, round_id=rid, comment=fields.get("comment", ""))
                return outcome
            case "chair.impact":
                (cid,) = _ids(value, 1)
                return await chairs.start_impact(ctx, actor, chair_id=cid)
            case "chair.impact.submit":
                (cid,) = _ids(value, 1)
                return await chairs.add_impact(
                    ctx, actor, chair_id=cid, effect=fields.get("effect", ""),
                    who=fields.get("who", ""), note=fields.get("note", ""),
                )
            case "chair.close":
                (cid,) = _ids(value, 1)
                return await chairs.close_chair(ctx, actor, where, chair_id=cid)
            case "privacy.forget.confirm":
                return await privacy.forget(ctx, actor)
            case "privacy.forget.cancel":
                return await privacy.cancel_forget(ctx, actor)
            case _:
                raise Invalid("action.unknown")
    except PulseError as error:
        logger.info("action refused", extra={"action": action, "reason": error.message_id})
        return await error_outcome(ctx, actor, error)
    except Exception as error:  # noqa: BLE001 - logged with its traceback there, answered politely
        return await error_outcome(ctx, actor, error, doing=action)


async def typed_reply(ctx: Context, actor: Actor, text: str) -> Outcome | None:
    """Text typed in the DM (`checkins.reply_text`): None when no round is open for the actor;
    a refusal or a failure comes back as a reply, like a command's or a tap's."""
    try:
        return await checkins.reply_text(ctx, actor, text)
    except Exception as error:  # noqa: BLE001 - a refusal or a failure, both answered
        return await error_outcome(ctx, actor, error, doing="typed reply")


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
