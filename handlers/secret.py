"""The secret behind the respondent keys: its fingerprint in the store, and re-keying to a new one.

A store whose answers were keyed with one secret and a process holding another would quietly
split every member in two (old answers unreachable by `/pulse me` and `forget`); so the store
keeps an HMAC of a fixed label under the secret and a process with a different one refuses to start.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.errors import ConfigError
from handlers.members import respondent_key, stable_key
from storage.db import Store
from storage.queries import deliveries, replies
from storage.queries import responses as answers
from storage.queries.meta import add_meta, meta_value, set_meta

logger = logging.getLogger(__name__)

FINGERPRINT_KEY = "secret_fingerprint"
_LABEL = b"pulsebot secret fingerprint v1"


def fingerprint(secret: bytes) -> str:
    """HMAC-SHA256(secret, fixed label): says whether two secrets are the same, reveals neither."""
    return hmac.new(secret, _LABEL, hashlib.sha256).hexdigest()


async def stored_fingerprint(store: Store) -> str | None:
    """The fingerprint the store was keyed with, if any answer or process has set one."""
    async with store.session() as session:
        return await meta_value(session, key=FINGERPRINT_KEY)


KEY_SCHEME_KEY = "key_scheme"
KEY_SCHEME = "per-round-v2"  # respondent keys are HMAC(secret, "round|platform:user")


async def check_secret(store: Store, secret: bytes) -> None:
    """Adopt the secret on a new store; refuse one that differs from the store's.

    A store keyed before keys were per round is re-keyed here once (it needs the secret).
    """
    mine = fingerprint(secret)
    theirs = await stored_fingerprint(store)
    if theirs is None:
        try:
            async with store.session() as session:
                add_meta(session, key=FINGERPRINT_KEY, value=mine)
                await session.commit()
            logger.info("store keyed with this PULSEBOT_SECRET")
            theirs = mine
        except IntegrityError:  # another replica adopted one a moment ago: compare with it
            theirs = await stored_fingerprint(store)
    if theirs != mine:
        raise ConfigError(
            "PULSEBOT_SECRET is not the secret this store's answers are keyed with; with it nobody could "
            "find their own answers. Start with the old secret, or re-key the store: "
            "PULSEBOT_SECRET_OLD=<old> PULSEBOT_SECRET=<new> pulsebot secret rotate"
        )
    await ensure_per_round_keys(store, secret)


async def _asked(session: AsyncSession) -> list[tuple[int, str]]:
    """(round, "platform:user") of every delivery: who could have answered which round."""
    return [(row.round_id, f"{row.platform}:{row.user_id}") for row in await deliveries.asked(session)]


async def ensure_per_round_keys(store: Store, secret: bytes) -> None:
    """Once per store: move answers from the old one-key-per-person scheme to per-round keys."""
    async with store.session() as session:
        if await meta_value(session, key=KEY_SCHEME_KEY) is not None:
            return
        pairs = [{"old": stable_key(secret, who), "new": respondent_key(secret, who, round_id=r)}
                 for r, who in await _asked(session)]
        moved = await answers.rekey_answers(session, pairs=pairs)
        add_meta(session, key=KEY_SCHEME_KEY, value=KEY_SCHEME)
        try:
            await session.commit()
        except IntegrityError:
            return  # another replica did it at the same moment (its updates and ours are the same)
    if moved:
        logger.info("answers re-keyed per round", extra={"answers": moved})


@dataclass(frozen=True)
class Rotation:
    """What `secret rotate` did: answers re-keyed, and answers left under the old key (nobody's now)."""

    rekeyed: int
    unmatched: int
    already: bool = False


async def rotate_secret(store: Store, *, old: bytes, new: bytes) -> Rotation:
    """Re-key every answer from `old` to `new`, in one transaction: one key per delivery (round, member).

    Answers whose key matches no delivery (a member gone without `forget`) cannot be re-keyed, since
    nothing names them; closed rounds' figures are frozen anyway and they belong to nobody. Run
    twice, it does nothing.
    """
    theirs = await stored_fingerprint(store)
    if theirs == fingerprint(new):
        return Rotation(0, 0, already=True)
    if theirs is not None and theirs != fingerprint(old):
        raise ConfigError("PULSEBOT_SECRET_OLD is not the secret this store is keyed with; nothing was changed")
    async with store.session() as session:
        pairs = [{"old": respondent_key(old, who, round_id=r), "new": respondent_key(new, who, round_id=r)}
                 for r, who in await _asked(session)]
        rekeyed = await answers.rekey_answers(session, pairs=pairs)
        await replies.rekey_replies(session, pairs=pairs)  # a comment's author stays reachable
        await set_meta(session, key=FINGERPRINT_KEY, value=fingerprint(new))
        total = await answers.count_answers(session)
        await session.commit()
    logger.info("secret rotated", extra={"rekeyed": rekeyed, "unmatched": total - rekeyed})
    return Rotation(rekeyed, total - rekeyed)
