"""Configuration: the environment (pydantic-settings) and `pulsebot.toml`, validated.

Errors name the file, the key and what is allowed, e.g.
`pulsebot.toml: pulse.min_group_size = 2: must be at least 3 (the anonymity floor)`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal, Protocol, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handlers.errors import ConfigError
from handlers.identity import qualify
from storage.db import DEFAULT_URL

# The days a check-in or a meeting prompt may be set on (the clock never asks on a weekend).
Weekday = Literal["mon", "tue", "wed", "thu", "fri"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
PLACEHOLDER_SECRETS = {"changethis", "changeme", "secret", "xxx", ""}
DEMO_SECRET = "pulsebot-demo-secret-not-for-production"
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Zoned(Protocol):
    """Anything with a time zone of its own, or none (a team's config, a stored team)."""

    @property
    def timezone(self) -> str | None: ...  # noqa: D102


class Settings(BaseSettings):
    """The environment. Every name is the upper-case field name (`DATABASE_URL`, ...)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = DEFAULT_URL
    pulsebot_config: str = "pulsebot.toml"
    pulsebot_secret: str | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str | None = None
    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_tenant_id: str | None = None
    pulsebot_teams_emulator: bool = False
    pulsebot_public_url: str | None = None  # the address leaders' dashboard links use

    def secret(self, *, allow_demo: bool = False) -> bytes:
        """The respondent-key secret; refuses a missing, short or guessable one unless in a demo."""
        value = (self.pulsebot_secret or "").strip()
        if allow_demo and (not value or value == DEMO_SECRET):
            return DEMO_SECRET.encode()
        if problem := secret_problem(value):
            raise ConfigError(
                f"PULSEBOT_SECRET {problem}; it keys the pseudonymous respondent ids, so it must be "
                f"random and at least {MIN_SECRET_LENGTH} characters. Make one with: "
                "python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return value.encode()


MIN_SECRET_LENGTH = 32


def secret_problem(value: str) -> str | None:
    """What is wrong with a candidate secret, or None when it will do."""
    if not value:
        return "is not set"
    if value.lower() in PLACEHOLDER_SECRETS or value == DEMO_SECRET:
        return "is a published placeholder (the demo's or an example's)"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is {len(value)} characters long (at least {MIN_SECRET_LENGTH} are needed)"
    if len(set(value)) < 8:
        # "aaaa…" or "abab…" are long but guessable; a random hex string has 16 distinct characters.
        return "repeats too few characters to be random"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_people(refs: list[str]) -> list[str]:
    """Every id must name its platform or have a recognisable shape; the list is kept as written
    (the store keeps the "platform:id" form, `handlers.setup`)."""
    for ref in refs:
        qualify(ref)  # ValueError names the id and how to write it
    return refs


class CheckinConfig(_Strict):
    """When a team's rounds open and how long they stay open."""

    cadence: Literal["weekly", "biweekly", "monthly"] = "weekly"
    weekday: Weekday = "mon"
    time: str = "10:00"
    window_hours: int = Field(default=72, ge=1, le=24 * 14)
    reminder_after_hours: int = Field(default=24, ge=0, le=24 * 14)

    @field_validator("time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be a 24-hour local time like \"10:00\"")
        return value

    @model_validator(mode="after")
    def _reminder_inside_window(self) -> CheckinConfig:
        if self.reminder_after_hours and self.reminder_after_hours >= self.window_hours:
            raise ValueError("reminder_after_hours must be less than window_hours (0 turns reminders off)")
        return self


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone like \"Europe/Madrid\"") from exc
    return value


class TeamConfig(_Strict):
    """One `[[teams]]` entry."""

    name: str = Field(min_length=1, max_length=100)
    slack_channel: str | None = None
    teams_conversation: str | None = None
    leaders: list[str] = []
    members: list[str] = []  # a fixed roster (console, or a platform without a channel roster)
    locale: Literal["es", "en"] | None = None
    timezone: str | None = None
    checkin: CheckinConfig = CheckinConfig()

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _people = field_validator("leaders", "members")(classmethod(lambda cls, v: _check_people(v)))


class MeetingConfig(_Strict):
    """One `[[meetings]]` entry: where the empty chair is opened by itself."""

    slack_channel: str | None = None
    teams_conversation: str | None = None
    schedule: str | None = None  # "tue 09:30"
    on_meeting_start: bool = False
    team: str | None = None  # count its chairs in this team's report
    topic: str = Field(default="", max_length=200)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = value.split()
        if len(parts) != 2 or parts[0] not in WEEKDAYS or not _HHMM.match(parts[1]):
            raise ValueError("must be a weekday and a local time like \"tue 09:30\" (mon … fri)")
        return value

    @model_validator(mode="after")
    def _where(self) -> MeetingConfig:
        if not (self.slack_channel or self.teams_conversation):
            raise ValueError("needs slack_channel or teams_conversation")
        return self


class PulseSection(_Strict):
    """The `[pulse]` table."""

    min_group_size: int = 5
    default_locale: Literal["es", "en"] = "es"
    timezone: str = "Europe/Madrid"
    leaders: list[str] = []
    retention_months: int = Field(default=24, ge=1, le=240)  # raw answers older than this are deleted
    # Anonymous replies are relayed in batches of this many minutes: shorter batches make the
    # timing of an author's answer easier to read.
    relay_batch_minutes: int = Field(default=15, ge=1, le=60)
    # A "we don't know" follow-up is due this many days after it is owned, and reminded again
    # after as many more (`handlers.followups`).
    followup_days: int = Field(default=7, ge=1, le=90)

    @field_validator("min_group_size")
    @classmethod
    def _floor(cls, value: int) -> int:
        if value < 3:
            raise ValueError("must be at least 3 (the anonymity floor)")
        return value

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _people = field_validator("leaders")(classmethod(lambda cls, v: _check_people(v)))


class PulseConfig(_Strict):
    """The whole `pulsebot.toml`."""

    pulse: PulseSection = PulseSection()
    teams: list[TeamConfig] = []
    meetings: list[MeetingConfig] = []

    @model_validator(mode="after")
    def _unique_names(self) -> PulseConfig:
        seen: set[str] = set()
        for team in self.teams:
            if team.name in seen:
                raise ValueError(f"team name {team.name!r} appears twice")
            seen.add(team.name)
        for meeting in self.meetings:
            if meeting.team is not None and meeting.team not in seen:
                raise ValueError(f"meetings: team {meeting.team!r} is not one of [[teams]]")
        return self

    def team_timezone(self, team: Zoned | None) -> str:
        """The team's time zone (a `TeamConfig` or a stored team), else the configured default."""
        return (team.timezone if team is not None else None) or self.pulse.timezone

    def team(self, name: str) -> TeamConfig | None:
        """The team called `name`, if any."""
        return next((t for t in self.teams if t.name == name), None)


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _value(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _explain(path: str, data: dict[str, Any], exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p not in ("function-after", "function-plain"))
        key = _key(loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            lines.append(f"{path}: unknown key {key!r}")
        elif err["type"] == "literal_error":
            allowed = err.get("ctx", {}).get("expected", "")
            lines.append(f"{path}: {key} = {_value(data, loc)!r}: allowed values are {allowed}")
        elif loc:
            lines.append(f"{path}: {key} = {_value(data, loc)!r}: {msg}")
        else:
            lines.append(f"{path}: {msg}")
    return "\n".join(lines)


def load_config(path: str | Path, *, must_exist: bool = False) -> PulseConfig:
    """Read and validate a `pulsebot.toml`; a missing optional file gives the defaults."""
    p = Path(path)
    if not p.exists():
        if must_exist:
            raise ConfigError(f"{p}: no such config file (set PULSEBOT_CONFIG or create it)")
        return PulseConfig()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    return parse_config(data, str(p))


def parse_config(data: dict[str, Any], path: str = "pulsebot.toml") -> PulseConfig:
    """Validate already-parsed TOML data."""
    try:
        return PulseConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(path, data, exc)) from None
