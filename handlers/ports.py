"""Ports: what the core needs from the outside world, as Protocols a face or a test implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from handlers.identity import person_ref
from handlers.messages import Message


@dataclass(frozen=True)
class Actor:
    """Who acted: a platform user as the face knows them.

    `user_id` is the platform's id (Slack `U…`, Teams `29:…`, a console name); `aad_id` is the
    Entra object id on Teams. `locale` and `timezone` are the platform's hints, if any.
    """

    platform: str
    user_id: str
    workspace: str = ""
    name: str = ""
    locale: str | None = None
    timezone: str | None = None
    aad_id: str | None = None

    @property
    def key(self) -> str:
        """The stable identity used for the respondent key and the member row."""
        return f"{self.platform}:{self.user_id}"

    def ids(self) -> set[str]:
        """Every "platform:id" naming this person (as leaders are stored): the platform's user id,
        and on Teams the Entra object id too. Never a bare id: a Teams sender whose id equals a
        Slack leader's is not that leader."""
        out = {person_ref(self.platform, self.user_id)} if self.user_id else set()
        if self.platform == "teams" and self.aad_id:
            out.add(person_ref("teams", self.aad_id))
        return out


@dataclass(frozen=True)
class Where:
    """The conversation a command or tap came from."""

    conversation: str = ""
    kind: str = "dm"  # "dm", "channel", "group", "meeting"
    name: str = ""


@dataclass(frozen=True)
class Recipient:
    """Everything a Messenger needs to reach one member directly."""

    platform: str
    user_id: str
    workspace: str = ""
    dm_conversation: str | None = None
    conversation_ref: str | None = None  # a platform's serialized reference (Teams), JSON text


@dataclass(frozen=True)
class Sent:
    """Where a message landed: the conversation and the platform's message reference."""

    conversation: str
    ref: str


class SendError(Exception):
    """A send failed. `transient` ones are retried with backoff; others mark the delivery failed.

    `posted_nothing` says the platform surely kept nothing: it refused the request (a 429) or the
    request never left (the connection was refused), so a retry cannot make a second copy. Left
    False when unsure (a timeout, a dropped connection, most 5xx): the message may have landed.
    """

    def __init__(
        self, reason: str, *, transient: bool, retry_after: float | None = None, posted_nothing: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after
        self.posted_nothing = posted_nothing


class Messenger(Protocol):
    """A face's outbound side: how the core reaches people and channels without a platform SDK."""

    platform: str
    # Whether `find_direct` can tell a message that landed from one that did not. False where the
    # platform cannot list a chat (Teams' Bot Connector): callers then never call `find_direct`,
    # and a send whose answer was lost is "maybe delivered", never sent again.
    can_look: bool

    async def send_direct(self, *, to: Recipient, message: Message, delivery_key: str) -> Sent:
        """Send a direct message; `delivery_key` travels with it so a lost answer can be checked."""
        ...

    async def find_direct(self, *, to: Recipient, delivery_key: str) -> Sent | None:
        """Look for a direct message already sent with this key (after a timeout or a crash).

        Only where `can_look`; a SendError means "cannot tell", never "absent".
        """
        ...

    async def post(self, *, conversation: str, message: Message, thread_ref: str | None = None) -> Sent:
        """Post a visible message in a channel or chat."""
        ...

    async def update(self, *, conversation: str, ref: str, message: Message) -> None:
        """Replace an earlier message in place."""
        ...


class Clock(Protocol):
    """Now, as an aware UTC datetime. Tests move a clock instead of sleeping."""

    def now(self) -> datetime:
        """The current time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)
