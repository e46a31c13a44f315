"""Carrying out a handler's `Outcome` on Teams: replies, cards refreshed in place, posts, edits, DMs.

Teams has no ephemeral messages, so a reply meant only for the person who acted goes to their
personal chat when they acted in a channel, group or meeting chat; a tapped card is refreshed
for the person who tapped through the `adaptiveCard/action` invoke response (Universal Actions),
and for everyone else by updating the message.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, Attachment, InvokeResponse
from microsoft_agents.hosting.core import TurnContext

from bot.teams.activities import actor_of
from bot.teams.cards import CARD_CONTENT_TYPE, render_form, render_message
from bot.teams.messenger import TeamsMessenger, base_conversation, card_activity, dump_reference
from handlers.chairs import remember_card
from handlers.context import Context
from handlers.i18n import t
from handlers.members import find_member, recipient, upsert_member
from handlers.messages import Form, Message, Outcome, plain_text
from handlers.ports import Actor, SendError, Where

logger = logging.getLogger(__name__)

CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"


def _form_activity(form: Form, locale: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        summary=form.title[:200] or None,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=render_form(form, locale=locale))],
    )


async def _send_private(ctx: Context, messenger: TeamsMessenger, context: TurnContext, activity_key: str,
                        message: Message) -> bool:
    """Send to the actor's personal chat (created if needed); False when Teams refused."""
    activity = context.activity
    actor: Actor = actor_of(activity)
    await upsert_member(ctx, actor, conversation_ref=dump_reference(activity.get_conversation_reference()))
    async with ctx.store.session() as session:
        member = await find_member(session, actor)
    if member is None:
        return False
    try:
        await messenger.send_direct(to=recipient(member), message=message, delivery_key=activity_key)
    except SendError as error:
        logger.warning("private reply not delivered", extra={"reason": error.reason})
        return False
    return True


async def _side_effects(ctx: Context, messenger: TeamsMessenger, context: TurnContext, outcome: Outcome) -> None:
    """Posts (remembering chair cards) and edits of earlier cards."""
    for post in outcome.posts:
        sent = await messenger.post(
            conversation=_post_conversation(context), message=post.message, thread_ref=post.thread_ref
        )
        if post.chair_id is not None:
            await remember_card(ctx, chair_id=post.chair_id, conversation=sent.conversation, ref=sent.ref)
    for edit in outcome.edits:
        try:
            await messenger.update(conversation=edit.conversation, ref=edit.ref, message=edit.message)
        except SendError as error:
            # The answer is saved; only the shared card stays stale until the next change.
            logger.warning("card not updated", extra={"reason": error.reason, "ref": edit.ref})


def _post_conversation(context: TurnContext) -> str:
    return base_conversation(context.activity.conversation.id)


async def deliver(
    ctx: Context,
    messenger: TeamsMessenger,
    context: TurnContext,
    outcome: Outcome,
    where: Where,
    *,
    tapped: str | None = None,
    report: bool = False,
) -> None:
    """Carry out an outcome after a typed command, a typed answer, an Action.Submit or an event."""
    activity = context.activity
    personal = where.kind == "dm"
    key = f"reply-{activity.id}"
    # A tapped card redrawn in place already shows what the reply would say.
    in_place = outcome.update is not None and tapped is not None
    if outcome.reply is not None and not in_place:
        if personal:
            await context.send_activity(card_activity(outcome.reply))
        else:
            delivered = await _send_private(ctx, messenger, context, key, outcome.reply)
            if report:
                note = "teams.report_sent_privately" if delivered else "teams.open_personal_chat"
                await context.send_activity(t(note, outcome.reply.locale))
    if outcome.update is not None:
        if tapped:
            update = card_activity(outcome.update)
            update.id = tapped
            await context.update_activity(update)
        else:
            await context.send_activity(card_activity(outcome.update))
    if outcome.form is not None:
        locale = outcome.reply.locale if outcome.reply else ctx.config.pulse.default_locale
        # In a channel the form is as open as the card it came from (anyone may add an impact).
        await context.send_activity(_form_activity(outcome.form, locale))
    await _side_effects(ctx, messenger, context, outcome)


def _invoke_body(card: dict[str, Any] | None, text: str) -> dict[str, Any]:
    if card is not None:
        return {"statusCode": 200, "type": CARD_RESPONSE, "value": card}
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text}


async def _respond(context: TurnContext, body: Any, status: int = HTTPStatus.OK) -> None:
    response = InvokeResponse(status=int(status), body=body)
    await context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=response.model_dump(by_alias=True, exclude_none=True))
    )


async def invoke_status(context: TurnContext, status: int) -> None:
    """Answer an invoke pulsebot does not handle."""
    await _respond(context, None, status)


async def invoke_error(context: TurnContext, text: str, *, status: int = 200) -> None:
    """Answer an `adaptiveCard/action` with a message instead of a card (the card stays as it was)."""
    if status >= 400:
        body = {"statusCode": status, "type": "application/vnd.microsoft.error",
                "value": {"code": "BadRequest", "message": text}}
        await _respond(context, body)
        return
    await _respond(context, _invoke_body(None, text))


async def answer_invoke(
    ctx: Context, messenger: TeamsMessenger, context: TurnContext, outcome: Outcome, where: Where
) -> None:
    """Answer an Action.Execute: the refreshed card (with any reply on top) for the one who tapped."""
    tapped = context.activity.reply_to_id
    card: dict[str, Any] | None = None
    if outcome.form is not None:
        locale = outcome.reply.locale if outcome.reply else ctx.config.pulse.default_locale
        card = render_form(outcome.form, locale=locale)
    elif outcome.update is not None:
        # The refreshed card already says what was kept; the reply would repeat it.
        card = render_message(outcome.update)
    else:
        same = next((e for e in outcome.edits if tapped and e.ref == tapped), None)
        if same is not None:
            card = render_message(same.message, before=outcome.reply)
    text = plain_text(outcome.reply) if outcome.reply is not None else ""
    await _side_effects(ctx, messenger, context, outcome)
    await _respond(context, _invoke_body(card, text))
