"""The Slack side of one request: how `handlers.surface.carry_out` reaches Slack.

A reply goes only to the person who acted: to the response_url when the request has one (a
slash command, an ephemeral message tapped), to the DM in a DM, else chat.postEphemeral. The
tapped card is redrawn with chat.update, or through its response_url when it was ephemeral.
Posts and edits go through the face's messenger (rate-limited per workspace); a chart's PNG is
uploaded to the person's DM (files_upload_v2); a form is a modal (views.open with the request's
trigger_id). The rules of what is drawn and in which order live in `carry_out`, not here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import render_message, render_modal
from bot.slack.runtime import SlackRuntime
from bot.slack.translate import Tapped, origin_of
from handlers.members import actor_locale
from handlers.messages import Chart, Edit, Form, Message, Post
from handlers.ports import Actor, SendError, Sent, Where

logger = logging.getLogger(__name__)

NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}


@dataclass
class SlackSurface:
    """One Slack request (a command, a tap, a modal submit, a DM) as a `handlers.surface.Surface`."""

    rt: SlackRuntime
    client: AsyncWebClient
    actor: Actor
    where: Where
    respond_url: str = ""
    card: Tapped | None = None  # the message that was tapped, when there is one
    trigger_id: str = ""

    @property
    def personal(self) -> bool:
        """A DM with the bot."""
        return self.where.kind == "dm"

    @property
    def tapped(self) -> tuple[str, str] | None:
        """The tapped card, when it is a message chat.update can reach (not an ephemeral one)."""
        if self.card is None or self.card.ephemeral or not self.card.ts:
            return None
        return self.card.channel, self.card.ts

    async def reply(self, message: Message) -> None:
        """Only to the actor: the response_url when there is one, the DM in a DM, else ephemeral."""
        rendered = render_message(message)
        card = self.card
        url = self.respond_url or (card.response_url if card and card.ephemeral else "")
        try:
            if url:
                await self.rt.respond(url, response_type="ephemeral", replace_original=False, **rendered)
            elif self.personal or not self.where.conversation:
                await self.rt.messenger.post(conversation=self.actor.user_id, message=message,
                                             workspace=self.actor.workspace)
            else:
                await self.rt.web(self.client, "chat_postEphemeral", channel=self.where.conversation,
                                  user=self.actor.user_id, **rendered)
        except (SlackApiError, SlackRequestError, SendError) as exc:
            logger.warning("reply failed", extra={"error": str(exc)})

    async def redraw(self, message: Message) -> bool:
        """chat.update of the tapped message, or its response_url when it was ephemeral."""
        card = self.card
        if card is None:
            return False
        rendered = render_message(message)
        try:
            if card.ephemeral or not card.ts:
                if not card.response_url:
                    return False
                await self.rt.respond(card.response_url, replace_original=True, **rendered)
            else:
                await self.rt.web(self.client, "chat_update", channel=card.channel, ts=card.ts, **rendered)
        except (SlackApiError, SlackRequestError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
            logger.warning("update failed", extra={"error": error})
            return False
        return True

    async def post(self, post: Post) -> Sent | None:
        """A visible message in the request's conversation; a bot not in the channel says so."""
        try:
            return await self.rt.messenger.post(conversation=post.conversation or self.where.conversation,
                                                message=post.message,
                                                thread_ref=post.thread_ref, workspace=self.actor.workspace)
        except SendError as exc:
            logger.warning("post failed", extra={"error": exc.reason})
            if exc.reason in NOT_IN_CHANNEL:
                await self.reply(await self.rt.say(self.actor, "slack.not_in_channel"))
            return None

    async def edit(self, edit: Edit) -> None:
        """chat.update of an earlier card (through the messenger's per-workspace gate)."""
        try:
            await self.rt.messenger.update(conversation=edit.conversation, ref=edit.ref, message=edit.message,
                                           workspace=self.actor.workspace)
        except SendError as exc:
            logger.warning("card edit failed", extra={"error": exc.reason})

    async def open_form(self, form: Form) -> None:
        """A modal, opened with the request's trigger_id (it expires 3 s after the request)."""
        if not self.trigger_id:
            logger.warning("form without a trigger id", extra={"action": form.action})
            return
        locale = await actor_locale(self.rt.ctx, self.actor)
        view = render_modal(form, locale=locale, origin=origin_of(self.card or Tapped(), self.where))
        try:
            await self.client.views_open(trigger_id=self.trigger_id, view=view)
        except SlackApiError as exc:
            logger.warning("views.open failed", extra={"error": exc.response.get("error")})

    async def send_file(self, chart: Chart) -> None:
        """The chart's PNG, uploaded to the actor's DM."""
        assert chart.png is not None
        try:
            await self.rt.messenger.upload_png(user_id=self.actor.user_id, png=chart.png, title=chart.title,
                                               alt_text=chart.alt_text, workspace=self.actor.workspace)
        except SendError as exc:
            logger.warning("chart upload failed", extra={"error": exc.reason})
