"""What every Slack listener shares: who acted (with their Slack profile), the way into the core
(`handle`, heavy commands on the worker process), and the queue of work after the ack.

An `Outcome` becomes Web API calls through `bot.slack.surface.SlackSurface` and
`handlers.surface.carry_out`.
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
from bot.slack.courier import Courier
from bot.slack.heavy import HeavyLane
from bot.slack.messenger import SlackMessenger
from handlers.context import Context
from handlers.i18n import t
from handlers.inputs import Command, Input, handle
from handlers.members import actor_locale, refresh_member
from handlers.messages import Message, Notice, Outcome
from handlers.ports import Actor, Where

logger = logging.getLogger(__name__)

PROFILE_TTL = 3600.0
# How long a request that stores an answer waits for users.info (Slack wants its answer in 3 s).
PROFILE_WAIT = 0.5


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

    def cached(self, team_id: str, user_id: str) -> dict[str, Any] | None:
        """The user object if it is in the cache and fresh; never asks Slack."""
        hit = self._cache.get((team_id, user_id))
        return hit[1] if hit is not None and time.monotonic() - hit[0] < self.ttl else None

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
    # The calls that only show what is stored are made in a process of its own (bot/slack/courier.py).
    courier: Courier = field(default_factory=lambda: Courier(enabled=False))
    # The profiles (and DMs) this process already kept on their member rows, by workspace and user:
    # a tap whose Slack profile is the one kept last time skips even the read (issue 14).
    kept: OrderedDict[tuple[str, str], tuple[str, str | None, str | None, str | None]] = field(
        default_factory=OrderedDict)

    async def handle(self, actor: Actor, where: Where, done: Input) -> Outcome | None:
        """`handlers.inputs.handle`, with heavy commands (`Command.heavy`) on the heavy lane."""
        if isinstance(done, Command) and done.heavy and self.heavy is not None:
            return await self.heavy.run(actor, where, done)
        return await handle(self.ctx, actor, where, done)

    def later(self, job: Callable[[], Awaitable[None]], *, at_once: bool = False) -> None:
        """Run `job` after the current request is acked (the face's work queue); `at_once` when it
        has a deadline of its own and must not wait behind the queue (a modal's trigger_id)."""
        self.background.submit(job, at_once=at_once)

    async def web(self, client: AsyncWebClient, method: str, **args: Any) -> None:
        """`client.<method>(**args)` for a call that only shows what is stored: by the courier when
        it is ready (it starts on first use), else here. Raises `SlackApiError` either way."""
        if self.courier.taking():
            await self.courier.call(client, method, **args)
        else:
            await getattr(client, method)(**args)

    async def respond(self, url: str, **args: Any) -> None:
        """A post to a response_url (by the courier when it is ready); a refusal is logged."""
        if self.courier.taking():
            status = await self.courier.respond(url, **args)
        else:
            status = (await AsyncWebhookClient(url, session=self.http).send(**args)).status_code
        if status != 200:
            logger.warning("response_url post refused", extra={"status": status})

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

    def actor_now(self, user_id: str, team_id: str) -> tuple[Actor, bool]:
        """Who acted, without waiting for Slack: (actor, whether it carries their profile), the
        profile only when it is cached. For a request that needs no profile before its answer (a
        check-in answer is stored under the member's ids); `refresh_profile` after the 200."""
        profile = self.profiles.cached(team_id, user_id)
        if profile is None:
            return Actor(platform="slack", user_id=user_id, workspace=team_id), False
        return actor_from_profile(user_id, team_id, "", profile), True

    async def refresh_profile(self, client: AsyncWebClient, actor: Actor, *, dm_conversation: str | None = None,
                              profiled: bool = False) -> None:
        """After the response: refresh the member's name, locale and time zone (and the DM they
        wrote from) from the Slack profile: `actor`'s when it carries it (`profiled`), else read
        now (users.info, then cached). Writes only what changed; never brings back a member who
        was forgotten meanwhile."""
        fresh = actor if profiled else await self.actor(client, actor.user_id, actor.workspace)
        key, seen = (fresh.workspace, fresh.user_id), (fresh.name, fresh.locale, fresh.timezone, dm_conversation)
        if self.kept.get(key) == seen:
            return  # kept by this process already; a change in Slack comes with a new profile
        if await refresh_member(self.ctx, fresh, dm_conversation=dm_conversation):
            self.kept[key] = seen
            self.kept.move_to_end(key)
            while len(self.kept) > self.profiles.size:
                self.kept.popitem(last=False)

    async def say(self, actor: Actor, msg_id: str, level: str = "warning", **kwargs: Any) -> Message:
        """A one-line notice of the face's own, in the actor's language."""
        locale = await actor_locale(self.ctx, actor)
        text = t(msg_id, locale, **kwargs)
        return Message((Notice(text, level),), fallback=text, locale=locale)  # type: ignore[arg-type]
