"""What every Slack listener shares: who acted (with their Slack profile) and doing an `Outcome`.

An `Outcome` is the core's neutral answer; here it becomes Web API calls: an ephemeral reply
(response_url for commands, chat.postEphemeral for taps in channels), an in-place update
(chat.update, or the response_url of an ephemeral message), a modal (views.open), visible posts,
edits of earlier cards and DMs. Charts with a PNG go to the actor's DM (files_upload_v2).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack.background import Background
from bot.slack.blocks import render_message, render_modal
from bot.slack.heavy import HeavyLane
from bot.slack.messenger import SlackMessenger
from bot.slack.translate import Tapped, origin_of
from handlers import chairs
from handlers.commands import run_command
from handlers.context import Context
from handlers.i18n import t
from handlers.members import actor_locale, refresh_member
from handlers.messages import Chart, Message, Notice, Outcome, Post
from handlers.ports import Actor, SendError, Where

logger = logging.getLogger(__name__)

PROFILE_TTL = 3600.0
# How long a request that stores an answer waits for users.info (Slack wants its answer in 3 s).
PROFILE_WAIT = 0.5
NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}


@dataclass
class Profiles:
    """users.info (with include_locale), cached an hour: locale and time zone come from Slack."""

    ttl: float = PROFILE_TTL
    size: int = 5000
    _cache: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = field(default_factory=OrderedDict)
    # One users.info per person at a time: a caller that stops waiting (`SlackRuntime.known_actor`)
    # leaves it running, and the next caller joins it instead of asking again.
    _pending: dict[tuple[str, str], asyncio.Task[dict[str, Any] | None]] = field(default_factory=dict)

    async def get(self, client: AsyncWebClient, team_id: str, user_id: str) -> dict[str, Any] | None:
        """The user object, or None when Slack would not say."""
        key = (team_id, user_id)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        lookup = self._pending.get(key)
        if lookup is None:
            lookup = asyncio.create_task(self._look_up(client, key), name="slack-users-info")
            self._pending[key] = lookup
            lookup.add_done_callback(lambda _: self._pending.pop(key, None))
        # Shielded: a caller cancelled by its own timeout does not cancel the lookup for the others.
        return await asyncio.shield(lookup)

    async def _look_up(self, client: AsyncWebClient, key: tuple[str, str]) -> dict[str, Any] | None:
        team_id, user_id = key
        try:
            user = (await client.users_info(user=user_id, include_locale=True))["user"]
        except SlackApiError as exc:
            logger.warning("users.info failed", extra={"user": user_id, "error": exc.response.get("error")})
            return None
        self._cache[key] = (time.monotonic(), user)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return user


def actor_from_profile(user_id: str, team_id: str, name: str, profile: dict[str, Any] | None) -> Actor:
    """An Actor with the Slack profile's name, locale and time zone when known."""
    profile = profile or {}
    real = (profile.get("profile") or {}).get("real_name") or profile.get("real_name") or ""
    return Actor(
        platform="slack",
        user_id=user_id,
        workspace=team_id,
        name=str(real or name or profile.get("name") or "")[:200],
        locale=profile.get("locale"),
        timezone=profile.get("tz"),
    )


def _charts(message: Message | None) -> list[Chart]:
    return [b for b in (message.blocks if message else ()) if isinstance(b, Chart) and b.png]


@dataclass
class SlackRuntime:
    """The shared services of the listeners, built once by `build_slack`."""

    ctx: Context
    messenger: SlackMessenger
    profiles: Profiles = field(default_factory=Profiles)
    # Re-reads one team's roster from its channel (set by the face; member_joined_channel uses it).
    roster_sync: Callable[[str], Awaitable[int | None]] | None = None
    # One pooled HTTP session for response_url posts (set by the face's start()).
    http: aiohttp.ClientSession | None = None
    background: Background = field(default_factory=Background)
    heavy: HeavyLane | None = None  # the leader's report runs here (see bot/slack/heavy.py)

    async def run_command(self, actor: Actor, where: Where, command: str, text: str) -> Outcome:
        """`handlers.commands.run_command`, with /team-pulse on the heavy lane."""
        if command == "team-pulse" and self.heavy is not None:
            return await self.heavy.run_command(actor, where, command, text)
        return await run_command(self.ctx, actor, where, command, text)

    def later(self, job: Callable[[], Awaitable[None]], *, at_once: bool = False) -> None:
        """Run `job` after the current request is acked (the face's work queue); `at_once` when it
        has a deadline of its own and must not wait behind the queue (a modal's trigger_id)."""
        self.background.submit(job, at_once=at_once)

    def webhook(self, url: str) -> AsyncWebhookClient:
        """A response_url client on the shared session."""
        return AsyncWebhookClient(url, session=self.http)

    async def actor(self, client: AsyncWebClient, user_id: str, team_id: str, name: str = "") -> Actor:
        """Who acted, with locale and time zone from their Slack profile."""
        profile = await self.profiles.get(client, team_id, user_id)
        return actor_from_profile(user_id, team_id, name, profile)

    async def known_actor(self, client: AsyncWebClient, user_id: str, team_id: str) -> tuple[Actor, bool]:
        """Who acted, for a request that stores something before Slack gets its answer:
        (actor, whether it carries their Slack profile).

        Answers are stored before the 200 (DESIGN.md, Reliability), so users.info may hold that
        request only `PROFILE_WAIT` seconds: a slow Slack, or a 429 there (the client waits out
        Retry-After), would otherwise keep it past Slack's 3 s. Late, the answer is stored with
        the ids only (no name either, so the payload's handle never replaces the real name), the
        lookup goes on, and `refresh_profile` brings the profile to the member after the 200.
        """
        try:
            profile = await asyncio.wait_for(self.profiles.get(client, team_id, user_id), PROFILE_WAIT)
        except TimeoutError:
            logger.info("slack profile late; stored without it", extra={"user": user_id})
            profile = None
        except Exception as exc:  # noqa: BLE001 - the profile is optional, the answer is not
            logger.warning("users.info failed", extra={"user": user_id, "error": repr(exc)})
            profile = None
        if profile is None:
            return Actor(platform="slack", user_id=user_id, workspace=team_id), False
        return actor_from_profile(user_id, team_id, "", profile), True

    async def refresh_profile(self, client: AsyncWebClient, actor: Actor) -> None:
        """After the response: read the Slack profile (users.info, then cached) and refresh the
        member's name, locale and time zone; never brings back a member who was forgotten meanwhile."""
        fresh = await self.actor(client, actor.user_id, actor.workspace)
        await refresh_member(self.ctx, fresh)

    async def say(self, actor: Actor, msg_id: str, level: str = "warning", **kwargs: Any) -> Message:
        """A one-line notice of the face's own, in the actor's language."""
        locale = await actor_locale(self.ctx, actor)
        text = t(msg_id, locale, **kwargs)
        return Message((Notice(text, level),), fallback=text, locale=locale)  # type: ignore[arg-type]

    async def apply(
        self,
        outcome: Outcome,
        *,
        client: AsyncWebClient,
        actor: Actor,
        where: Where,
        respond_url: str = "",
        tapped: Tapped | None = None,
        trigger_id: str = "",
    ) -> None:
        """Do everything an Outcome asks, in an order that keeps the visible state right."""
        edited = {(e.conversation, e.ref) for e in outcome.edits}
        updated = False
        if outcome.update is not None and tapped is not None:
            if (tapped.channel, tapped.ts) in edited and not tapped.ephemeral:
                updated = True  # the edit below redraws the same card: once is enough
            else:
                updated = await self._update(client, tapped, outcome.update)
        for edit in outcome.edits:
            try:
                await self.messenger.update(conversation=edit.conversation, ref=edit.ref, message=edit.message,
                                            workspace=actor.workspace)
            except SendError as exc:
                logger.warning("card edit failed", extra={"error": exc.reason})
        reply = outcome.reply
        if reply is not None and not (updated and where.kind == "dm"):
            # In a DM the updated card already says what was kept; a reply would repeat it.
            await self._reply(client, actor, where, reply, respond_url, tapped)
        for chart in _charts(reply) + _charts(outcome.update):
            await self._chart(actor, chart)
        for post in outcome.posts:
            await self._post(client, actor, where, post, respond_url, tapped)
        for member_key, message in outcome.direct:
            platform, _, user_id = member_key.partition(":")
            if platform == "slack" and user_id:
                try:
                    await self.messenger.post(conversation=user_id, message=message, workspace=actor.workspace)
                except SendError as exc:
                    logger.warning("direct message failed", extra={"error": exc.reason})
        if outcome.form is not None:
            await self._form(client, actor, where, outcome, tapped, trigger_id)

    async def _update(self, client: AsyncWebClient, tapped: Tapped, message: Message) -> bool:
        rendered = render_message(message)
        try:
            if tapped.ephemeral or not tapped.ts:
                if not tapped.response_url:
                    return False
                await self.webhook(tapped.response_url).send(replace_original=True, **rendered)
            else:
                await client.chat_update(channel=tapped.channel, ts=tapped.ts, **rendered)
        except SlackApiError as exc:
            logger.warning("update failed", extra={"error": exc.response.get("error")})
            return False
        return True

    async def apply_reply(self, client: AsyncWebClient, actor: Actor, where: Where, reply: Message,
                          respond_url: str = "") -> None:
        """Answer only the actor (the response_url when there is one)."""
        await self._reply(client, actor, where, reply, respond_url, None)

    async def _reply(self, client: AsyncWebClient, actor: Actor, where: Where, reply: Message,
                     respond_url: str, tapped: Tapped | None) -> None:
        rendered = render_message(reply)
        url = respond_url or (tapped.response_url if tapped and tapped.ephemeral else "")
        try:
            if url:
                await self.webhook(url).send(response_type="ephemeral", replace_original=False, **rendered)
            elif where.kind == "dm" or not where.conversation:
                await self.messenger.post(conversation=actor.user_id, message=reply, workspace=actor.workspace)
            else:
                await client.chat_postEphemeral(channel=where.conversation, user=actor.user_id, **rendered)
        except (SlackApiError, SendError) as exc:
            logger.warning("reply failed", extra={"error": str(exc)})

    async def _chart(self, actor: Actor, chart: Chart) -> None:
        assert chart.png is not None
        try:
            await self.messenger.upload_png(user_id=actor.user_id, png=chart.png, title=chart.title,
                                            alt_text=chart.alt_text, workspace=actor.workspace)
        except SendError as exc:
            logger.warning("chart upload failed", extra={"error": exc.reason})

    async def _post(self, client: AsyncWebClient, actor: Actor, where: Where, post: Post,
                    respond_url: str, tapped: Tapped | None) -> None:
        try:
            sent = await self.messenger.post(conversation=where.conversation, message=post.message,
                                             thread_ref=post.thread_ref, workspace=actor.workspace)
        except SendError as exc:
            logger.warning("post failed", extra={"error": exc.reason})
            if exc.reason in NOT_IN_CHANNEL:
                await self._reply(client, actor, where, await self.say(actor, "slack.not_in_channel"),
                                  respond_url, tapped)
            return
        if post.chair_id is not None:
            await chairs.remember_card(self.ctx, chair_id=post.chair_id, conversation=sent.conversation, ref=sent.ref)

    async def _form(self, client: AsyncWebClient, actor: Actor, where: Where, outcome: Outcome,
                    tapped: Tapped | None, trigger_id: str) -> None:
        assert outcome.form is not None
        if not trigger_id:
            logger.warning("form without a trigger id", extra={"action": outcome.form.action})
            return
        locale = await actor_locale(self.ctx, actor)
        view = render_modal(outcome.form, locale=locale, origin=origin_of(tapped or Tapped(), where))
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            logger.warning("views.open failed", extra={"error": exc.response.get("error")})
