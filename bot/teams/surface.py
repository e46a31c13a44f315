"""Drawing an `Outcome` on Teams: `handlers.surface.carry_out` decides, these surfaces only draw.

Teams has no ephemeral messages, so a reply meant only for the person who acted goes to their
personal chat when they acted in a channel, group or meeting chat. A turn from a message (a typed
command or answer, an Action.Submit, an event) is a `MessageSurface`; an `adaptiveCard/action`
invoke (Universal Actions) is an `InvokeSurface`, whose redraw is the invoke's answer card, with
the reply riding on top of it, for the person who tapped.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, cast

from microsoft_agents.activity import Activity, ActivityTypes, Attachment, InvokeResponse
from microsoft_agents.hosting.core import TurnContext

from bot.teams.activities import actor_of
from bot.teams.cards import CARD_CONTENT_TYPE, render_form, render_message
from bot.teams.messenger import TeamsMessenger, base_conversation, card_activity, dump_reference
from handlers.context import Context
from handlers.i18n import t
from handlers.members import find_member, recipient, upsert_member
from handlers.messages import Chart, Edit, Form, Message, Outcome, Post, plain_text
from handlers.ports import SendError, Sent, Where

logger = logging.getLogger(__name__)

CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"


def form_locale(ctx: Context, outcome: Outcome) -> str:
    """The language a form's own labels are drawn in: the reply's, else the default."""
    return outcome.reply.locale if outcome.reply else ctx.config.pulse.default_locale


class _Turn:
    """What both surfaces share: the turn, posts in its conversation, edits of earlier cards."""

    def __init__(self, ctx: Context, messenger: TeamsMessenger, context: TurnContext, where: Where,
                 *, locale: str) -> None:
        self.ctx, self.messenger, self.context, self.where, self.locale = ctx, messenger, context, where, locale

    @property
    def personal(self) -> bool:
        return self.where.kind == "dm"

    @property
    def conversation(self) -> str:
        return base_conversation(self.context.activity.conversation.id)

    async def post(self, post: Post) -> Sent | None:
        return await self.messenger.post(conversation=post.conversation or self.conversation, message=post.message,
                                         thread_ref=post.thread_ref)

    async def edit(self, edit: Edit) -> None:
        try:
            await self.messenger.update(conversation=edit.conversation, ref=edit.ref, message=edit.message)
        except SendError as error:
            # The answer is saved; only the shared card stays stale until the next change.
            logger.warning("card not updated", extra={"reason": error.reason, "ref": edit.ref})

    async def send_file(self, chart: Chart) -> None:
        """Nothing to send: a Teams card carries its chart as an image."""


class MessageSurface(_Turn):
    """A turn from a message: replies in the personal chat (or privately), cards sent or updated."""

    def __init__(self, ctx: Context, messenger: TeamsMessenger, context: TurnContext, where: Where,
                 *, locale: str, tapped: str | None = None, report: bool = False) -> None:
        super().__init__(ctx, messenger, context, where, locale=locale)
        self._tapped, self._report = tapped, report

    @property
    def tapped(self) -> tuple[str, str] | None:
        """The card an Action.Submit came from, if any."""
        return (self.conversation, self._tapped) if self._tapped else None

    async def reply(self, message: Message) -> None:
        """In the personal chat, or privately there when the person acted elsewhere."""
        if self.personal:
            await self.context.send_activity(card_activity(message))
            return
        delivered = await self._send_private(message)
        if self._report:
            # Replies outside the personal chat go there anyway; team-pulse says so in the channel.
            note = "teams.report_sent_privately" if delivered else "teams.open_personal_chat"
            await self.context.send_activity(t(note, message.locale))

    async def redraw(self, message: Message) -> bool:
        """Update the tapped card in place (or send the card when nothing was tapped)."""
        if self._tapped is None:
            # No card was tapped: the update is a new card, and the reply still goes out.
            await self.context.send_activity(card_activity(message))
            return False
        update = card_activity(message)
        update.id = self._tapped
        await self.context.update_activity(update)
        return True

    async def open_form(self, form: Form) -> None:
        """Send the form as a card in the conversation."""
        # In a channel the form is as open as the card it came from (anyone may add an impact).
        await self.context.send_activity(Activity(
            type=ActivityTypes.message,
            summary=cast(str, form.title[:200] or None),  # None: no summary
            attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=render_form(form, locale=self.locale))],
        ))

    async def _send_private(self, message: Message) -> bool:
        """Send to the actor's personal chat (created if needed); False when Teams refused."""
        activity = self.context.activity
        actor = actor_of(activity)
        await upsert_member(self.ctx, actor, conversation_ref=dump_reference(activity.get_conversation_reference()))
        async with self.ctx.store.session() as session:
            member = await find_member(session, actor)
        if member is None:
            return False
        try:
            await self.messenger.send_direct(to=recipient(member), message=message,
                                             delivery_key=f"reply-{activity.id}")
        except SendError as error:
            logger.warning("private reply not delivered", extra={"reason": error.reason})
            return False
        return True


class InvokeSurface(_Turn):
    """An Action.Execute: the answer card is the redraw (or the form), the reply rides on top."""

    def __init__(self, ctx: Context, messenger: TeamsMessenger, context: TurnContext, where: Where,
                 *, locale: str) -> None:
        super().__init__(ctx, messenger, context, where, locale=locale)
        self._card: Message | None = None
        self._reply: Message | None = None
        self._form: Form | None = None

    @property
    def tapped(self) -> tuple[str, str] | None:
        """The card the invoke came from."""
        ref = self.context.activity.reply_to_id
        return (self.conversation, ref) if ref else None

    async def reply(self, message: Message) -> None:
        """Kept for the answer: on top of the card, or as the answer's text."""
        self._reply = message

    async def redraw(self, message: Message) -> bool:
        """The answer card for the one who tapped; outside the personal chat, everyone's copy too."""
        self._card = message
        if not self.personal and self.tapped is not None:
            conversation, ref = self.tapped
            await self.edit(Edit(conversation=conversation, ref=ref, message=message))
        return True

    async def open_form(self, form: Form) -> None:
        """Kept for the answer: the form replaces the card for the one who tapped."""
        self._form = form

    async def answer(self) -> None:
        """Send the invoke's answer, once everything else is drawn."""
        if self._form is not None:
            await respond(self.context, _body(render_form(self._form, locale=self.locale), ""))
        elif self._card is not None:
            await respond(self.context, _body(render_message(self._card, before=self._reply), ""))
        else:
            await respond(self.context, _body(None, plain_text(self._reply) if self._reply else ""))


def _body(card: dict[str, Any] | None, text: str) -> dict[str, Any]:
    if card is not None:
        return {"statusCode": 200, "type": CARD_RESPONSE, "value": card}
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text}


async def respond(context: TurnContext, body: Any, status: int = HTTPStatus.OK) -> None:
    """Send an invoke response."""
    response = InvokeResponse(status=int(status), body=body)
    await context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=response.model_dump(by_alias=True, exclude_none=True))
    )


async def invoke_error(context: TurnContext, text: str, *, status: int = 200) -> None:
    """Answer an `adaptiveCard/action` with a message instead of a card (the card stays as it was)."""
    if status >= 400:
        body = {"statusCode": status, "type": "application/vnd.microsoft.error",
                "value": {"code": "BadRequest", "message": text}}
        await respond(context, body)
        return
    await respond(context, _body(None, text))
