"""TeamsMessenger: the core's outbound port on Teams, through the SDK's proactive messaging.

A member's `conversation_ref` is a serialized `ConversationReference` (service URL, tenant, bot,
user). The personal conversation id lives in `dm_conversation`; when there is none yet (a member
met only through a team roster), the one-to-one conversation is created first and remembered.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, cast

import aiohttp
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ChannelId,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import AuthenticationConstants

from bot.retries import retry_after_of
from bot.teams.cards import CARD_CONTENT_TYPE, render_message
from handlers import conversations
from handlers.context import Context
from handlers.members import upsert_member
from handlers.messages import Message
from handlers.ports import Actor, Recipient, SendError, Sent

logger = logging.getLogger(__name__)

PLATFORM = "teams"
CHANNEL_ID = "msteams"
# Used for a conversation the bot has never heard from, in this run or before (the global endpoint).
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"


def base_conversation(conversation_id: str) -> str:
    """A channel conversation without its thread suffix (`19:…@thread.tacv2;messageid=…`)."""
    return conversation_id.split(";", 1)[0]


def card_activity(message: Message, *, before: Message | None = None) -> Activity:
    """A message activity carrying the message as one Adaptive Card."""
    card = render_message(message, before=before)
    return Activity(
        type=ActivityTypes.message,
        summary=cast(str, (message.fallback or "")[:200] or None),  # None: no summary
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )


def dump_reference(reference: ConversationReference) -> str:
    """A conversation reference as the JSON stored in `Member.conversation_ref`."""
    reference = reference.model_copy(update={"activity_id": None})
    return json.dumps(reference.model_dump(mode="json", by_alias=True, exclude_none=True))


def load_reference(text: str) -> ConversationReference:
    """A stored conversation reference back (raises ValueError when it is not one)."""
    return ConversationReference.model_validate(json.loads(text))


# Answers that refuse the request before it is carried out, so the connector kept nothing and a
# retry cannot make a second card: a 429, and a 412, which Teams asks bots to retry like one
# (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit). A 5xx makes no
# such promise: a gateway's 502 or 504 may come after the activity was stored.
REFUSED = frozenset({412, 429})


def _send_error(exc: BaseException) -> SendError:
    """Map a connector failure to the core's retry rules, saying when surely nothing was posted."""
    if isinstance(exc, aiohttp.ClientResponseError):
        if exc.status in REFUSED:
            retry_after = retry_after_of(exc.headers, default=None)
            reason = "teams.rate_limited" if exc.status == 429 else f"teams.http_{exc.status}"
            return SendError(reason, transient=True, retry_after=retry_after, posted_nothing=True)
        if exc.status >= 500:
            return SendError(f"teams.http_{exc.status}", transient=True)
        # 403: the user blocked or uninstalled the bot; 404: conversation gone. Retrying won't help.
        return SendError(f"teams.http_{exc.status}", transient=False)
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        # No connection, so no request was written: nothing can have been stored.
        return SendError("teams.unreachable", transient=True, posted_nothing=True)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError):
        # A timeout or a dropped connection: the activity may have been stored, only its answer lost.
        return SendError("teams.connection", transient=True)
    return SendError(f"teams.{type(exc).__name__}", transient=False)


def _before_the_card(error: SendError) -> SendError:
    """The same failure, known to have posted nothing: it happened before the card was sent."""
    return SendError(error.reason, transient=error.transient, retry_after=error.retry_after, posted_nothing=True)


class TeamsMessenger:
    """`handlers.ports.Messenger` for Teams."""

    platform = PLATFORM
    can_look = False  # the Bot Connector cannot list a chat's messages (see find_direct)

    def __init__(self, ctx: Context, adapter: CloudAdapter, bot_app_id: str) -> None:
        self._ctx = ctx
        self._adapter = adapter
        self._app_id = bot_app_id
        # What the bot learnt from inbound activities: conversation → reference. A cache of the
        # store's `conversation_ref` rows (see `remember`), plus personal chats seen this run.
        self._refs: dict[str, ConversationReference] = {}
        self._created: dict[str, str] = {}  # user id → personal conversation created this run

    # -- what the bot learns from inbound traffic ----------------------------------------------
    async def remember(self, reference: ConversationReference) -> None:
        """Keep a conversation's service URL, tenant and bot account for later posts.

        Channels, group and meeting chats are also written to the store, so a restarted process
        can still post there (a scheduled chair, an edit of a chair card) before anyone speaks.
        Personal chats are not: `Member.conversation_ref` already keeps those.
        """
        conversation = base_conversation(reference.conversation.id)
        # Only what posting needs. The sender (and their locale) is not, and a stored name would
        # outlive that person's `/pulse forget`; the request id changes with every activity.
        known = ConversationReference(
            channel_id=reference.channel_id or ChannelId(CHANNEL_ID),
            service_url=reference.service_url,
            agent=reference.agent,
            conversation=reference.conversation.model_copy(update={"id": conversation}),
        )
        if self._refs.get(conversation) == known:
            return  # the common case: nothing new, no write
        self._refs[conversation] = known
        if reference.conversation.conversation_type == "personal":
            return
        try:
            await conversations.remember(
                self._ctx, platform=PLATFORM, conversation=conversation, reference=dump_reference(known)
            )
        except Exception:
            # Only a cache for later posts: the turn itself goes on. Forgetting the in-memory copy
            # makes the next activity from this conversation try the write again.
            self._refs.pop(conversation, None)
            logger.warning("conversation reference not stored", exc_info=True, extra={"conversation": conversation})

    async def _known(self, conversation: str) -> ConversationReference | None:
        """The reference learnt for this conversation: from memory, else from the store."""
        if (known := self._refs.get(conversation)) is not None:
            return known
        try:
            stored = await conversations.lookup(self._ctx, platform=PLATFORM, conversation=conversation)
        except ValueError:
            return None  # an id the store cannot hold was never remembered
        if stored is None:
            return None
        try:
            known = load_reference(stored)
        except ValueError:
            logger.warning("stored conversation reference unreadable", extra={"conversation": conversation})
            return None
        self._refs[conversation] = known
        return known

    async def _reference_for(self, conversation: str) -> ConversationReference:
        known = await self._known(base_conversation(conversation))
        if known is not None:
            return known.model_copy(
                update={"conversation": known.conversation.model_copy(update={"id": conversation})}
            )
        # Never heard of, not even before a restart: guess from any conversation this run knows.
        any_ref = next(iter(self._refs.values()), None)
        return ConversationReference(
            channel_id=ChannelId(CHANNEL_ID),
            service_url=any_ref.service_url if any_ref else DEFAULT_SERVICE_URL,
            agent=any_ref.agent if any_ref else ChannelAccount(id=f"28:{self._app_id}"),
            conversation=ConversationAccount(
                id=conversation, tenant_id=any_ref.conversation.tenant_id if any_ref else None
            ),
        )

    # -- the port ------------------------------------------------------------------------------
    async def _continue(self, reference: ConversationReference, act: Any) -> Any:
        result: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            # The continuation event has a random id, which the SDK would turn into a
            # replyToId; only a real thread root may be one.
            context.activity.id = reference.activity_id
            try:
                result["value"] = await act(context)
            except Exception as exc:  # the adapter's turn-error hook would swallow it
                result["error"] = exc

        continuation = reference.get_continuation_activity()
        try:
            await self._adapter.continue_conversation(self._app_id, continuation, callback)
        except Exception as exc:
            result["error"] = exc
        if (failure := result.get("error")) is not None:
            error = _send_error(failure)
            logger.warning("teams call failed", extra={"reason": error.reason, "transient": error.transient})
            raise error from failure
        return result.get("value")

    async def _create_personal(self, reference: ConversationReference, user_id: str) -> str:
        tenant = reference.conversation.tenant_id
        params = ConversationParameters(
            is_group=False,
            bot=reference.agent,
            members=[ChannelAccount(id=user_id)],
            tenant_id=cast(str, tenant),  # typed str by the SDK, None accepted (and left out)
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created: dict[str, str] = {}

        async def callback(context: TurnContext) -> None:
            created["id"] = context.activity.conversation.id

        try:
            # The conversation is created before the callback runs: a failure raises here.
            await self._adapter.create_conversation(
                self._app_id,
                CHANNEL_ID,
                reference.service_url,
                AuthenticationConstants.AGENTS_SDK_SCOPE,
                params,
                callback,
            )
        except Exception as exc:
            # Only the chat was being created, no card in it yet: a retry cannot double anything.
            raise _before_the_card(_send_error(exc)) from exc
        if "id" not in created:
            raise SendError("teams.create_failed", transient=True, posted_nothing=True)
        conversation = created["id"]
        self._created[user_id] = conversation
        # Remember it so the next round reuses the conversation instead of creating it again.
        await upsert_member(self._ctx, Actor(platform=PLATFORM, user_id=user_id), dm_conversation=conversation)
        logger.info("personal conversation created", extra={"user": user_id})
        return conversation

    async def send_direct(self, *, to: Recipient, message: Message, delivery_key: str) -> Sent:
        """Send a card in the member's personal chat, creating that chat when none is known."""
        if not to.conversation_ref:
            raise SendError("teams.no_reference", transient=False)
        try:
            reference = load_reference(to.conversation_ref)
        except ValueError as exc:
            raise SendError("teams.bad_reference", transient=False) from exc
        conversation = to.dm_conversation or self._created.get(to.user_id)
        if not conversation:
            conversation = await self._create_personal(reference, to.user_id)
        reference = reference.model_copy(
            update={
                "conversation": ConversationAccount(
                    id=conversation, conversation_type="personal", tenant_id=reference.conversation.tenant_id
                ),
                "user": reference.user or ChannelAccount(id=to.user_id),
            }
        )
        activity = card_activity(message)
        # The key travels in channelData for whoever reads the transcript; Teams offers no way
        # to look a message up by it (see find_direct), so a lost answer is "maybe delivered".
        activity.channel_data = {"pulsebot": {"delivery": delivery_key}}

        async def act(context: TurnContext) -> str:
            response = await context.send_activity(activity)
            return response.id or ""

        ref = await self._continue(reference, act)
        return Sent(conversation=conversation, ref=ref)

    async def find_direct(self, *, to: Recipient, delivery_key: str) -> Sent | None:
        """Cannot tell, ever: the Bot Connector API has no way to list or search a chat's messages.

        (Reading chat history needs Microsoft Graph and ChatMessage.Read.Chat consent, which
        pulsebot does not ask for.) `can_look` is False, so callers do not ask; one that does gets
        "cannot tell" (a SendError), never a None that would read as "not there" and send again.
        """
        raise SendError("teams.cannot_look", transient=False)

    async def post(self, *, conversation: str, message: Message, thread_ref: str | None = None) -> Sent:
        """Post a card in a channel, group or meeting chat (in a thread when `thread_ref`)."""
        reference = await self._reference_for(conversation)
        if thread_ref:
            reference = reference.model_copy(update={"activity_id": thread_ref})
        activity = card_activity(message)

        async def act(context: TurnContext) -> str:
            response = await context.send_activity(activity)
            return response.id or ""

        ref = await self._continue(reference, act)
        return Sent(conversation=conversation, ref=ref)

    async def update(self, *, conversation: str, ref: str, message: Message) -> None:
        """Replace an earlier card in place (a chair's tally, a check-in after an answer)."""
        reference = await self._reference_for(conversation)
        activity = card_activity(message)
        activity.id = ref

        async def act(context: TurnContext) -> None:
            await context.update_activity(activity)

        await self._continue(reference, act)
