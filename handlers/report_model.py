"""What a leader report holds: periods, figures and alerts as frozen dataclasses, for `handlers.reports` to build.

A withheld figure is a `Suppressed`, which holds no number; an open round's mood is a `Pending`
(phased release). Renderers (`handlers.report_render`, the digest) read only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class Suppressed:
    """A withheld figure: fewer than the min group size answered. It holds no number on purpose."""


SUPPRESSED = Suppressed()


@dataclass(frozen=True)
class Pending(Suppressed):
    """An open round's answer figures: withheld until it closes at `closes` (phased release)."""

    closes: datetime


@dataclass(frozen=True)
class Mood:
    """Mood of one period: mean of the 1–5 answers and how many chose each value."""

    mean: float
    distribution: tuple[int, int, int, int, int]
    respondents: int


@dataclass(frozen=True)
class Score:
    """A driver's mean (1–5, agree): of one period, or over the window's periods that passed the rule."""

    mean: float
    respondents: int


@dataclass(frozen=True)
class Enps:
    """eNPS = % promoters (9–10) − % detractors (0–6), in points from −100 to 100."""

    score: float
    promoters: float
    passives: float
    detractors: float
    respondents: int


@dataclass(frozen=True)
class Period:
    """One round of a team: participation (never suppressed); its mood, driver score and eNPS (guarded)."""

    period: str
    start: datetime
    open: bool
    driver: str
    delivered: int
    answered: int
    failed: int
    respondents: int
    mood: Mood | Suppressed
    mood_delta: float | None = None  # None when this or the previous period's mood is withheld
    participation_delta: float | None = None
    # Check-ins whose answer was lost where the platform cannot look (Teams): most likely arrived,
    # so they count as delivered in participation, and apart from `failed`: never sent again.
    maybe_delivered: int = 0
    # The round's own driver score and eNPS, each guarded on its own count (a `Pending` while open);
    # `enps` is None when the round did not ask it.
    driver_score: Score | Suppressed = SUPPRESSED
    enps: Enps | Suppressed | None = None

    @property
    def participation(self) -> float | None:
        """Answered / delivered, None when nothing was delivered."""
        return self.answered / self.delivered if self.delivered else None


@dataclass(frozen=True)
class Chairs:
    """The empty chair in the team's meetings over the window."""

    opened: int = 0
    with_impact: int = 0
    better: int = 0
    worse: int = 0
    no_change: int = 0
    unknown: int = 0  # "we don't know": each one is an open follow-up question

    @property
    def share_with_impact(self) -> float | None:
        """Chairs with at least one impact / chairs opened."""
        return self.with_impact / self.opened if self.opened else None


@dataclass(frozen=True)
class ClientPeriod:
    """The client connection of one period, side by side: does keeping the client in the room go
    with feeling closer to the client?

    `customer` is the period's "customer" driver score, guarded like every answer (a `Pending`
    while its round is open, `SUPPRESSED` below the threshold), and None when the round asked
    another driver. The chair figures are not answers (impacts are posted openly in a channel):
    chairs opened from this period's start to the next one's, how many got a client impact, and
    the follow-ups of "we don't know" impacts resolved in that span.
    """

    period: str
    customer: Score | Suppressed | None
    chairs_opened: int = 0
    chairs_with_impact: int = 0
    followups_resolved: int = 0

    @property
    def share_with_impact(self) -> float | None:
        """Chairs of the period with at least one client impact / chairs opened in it."""
        return self.chairs_with_impact / self.chairs_opened if self.chairs_opened else None


@dataclass(frozen=True)
class Followups:
    """The team's "we don't know" follow-ups: open and overdue now; resolved in the window, and the
    median days from the question to its answer (None when none was resolved). Not answers: the
    questions were asked openly in a channel."""

    open: int = 0
    overdue: int = 0
    resolved: int = 0
    median_days: float | None = None


@dataclass(frozen=True)
class CommitmentPeriod:
    """A closed round's commitment beside its follow-up: "did things improve on <focus>?".

    `status` is "set" (with `focus`, a driver, and the leader's `sentence` as written), "skipped"
    (a leader chose to skip and nobody committed) or "none" (nobody committed, or the round had
    too few answers to ask). `followup` is the next round's answer to the follow-up question,
    guarded like every answer (a `Pending` while that round is open, `SUPPRESSED` below the
    threshold); None when there is no commitment or no next round yet.
    """

    period: str
    status: Literal["set", "skipped", "none"]
    focus: str | None = None
    sentence: str | None = None
    followup_period: str | None = None
    followup: Score | Suppressed | None = None


@dataclass(frozen=True)
class Alert:
    """Something a leader should look at: `mood_drop` (value vs baseline) or `low_participation`."""

    kind: Literal["mood_drop", "low_participation"]
    period: str
    value: float
    baseline: float | None = None


@dataclass(frozen=True)
class TeamReport:
    """One team's report: periods oldest first."""

    team: str
    weeks: int
    min_group_size: int
    periods: tuple[Period, ...] = ()
    drivers: tuple[tuple[str, Score | Suppressed], ...] = ()
    enps: Enps | Suppressed | None = None  # None: not asked in the window
    comments: tuple[str, ...] = ()
    # The frozen comments' random ids, in the order of `comments`: what a leader's "Reply" carries
    # (`handlers.replies`). Never in the JSON or CSV report.
    comment_ids: tuple[str, ...] = ()
    chairs: Chairs = field(default_factory=Chairs)
    alerts: tuple[Alert, ...] = ()
    client: tuple[ClientPeriod, ...] = ()  # one per period, in the same order
    followups: Followups = field(default_factory=Followups)
    commitments: tuple[CommitmentPeriod, ...] = ()  # one per closed period, oldest first

    @property
    def latest(self) -> Period | None:
        """The most recent period, if any."""
        return self.periods[-1] if self.periods else None

    @property
    def trend(self) -> tuple[float | None, ...]:
        """One mood point per period; None where withheld."""
        return tuple(p.mood.mean if isinstance(p.mood, Mood) else None for p in self.periods)

    @property
    def failed_deliveries(self) -> int:
        """Check-ins that could not be delivered in the window (operators should look)."""
        return sum(p.failed for p in self.periods)

    @property
    def maybe_delivered(self) -> int:
        """Check-ins that maybe arrived (their answer was lost and Teams cannot look); not re-sent."""
        return sum(p.maybe_delivered for p in self.periods)


@dataclass(frozen=True)
class CompanyReport:
    """The reports of several teams (every team for a global leader or the operator)."""

    generated_at: datetime
    weeks: int
    min_group_size: int
    teams: tuple[TeamReport, ...]

    def team(self, name: str) -> TeamReport | None:
        """The report of the team called `name`."""
        return next((r for r in self.teams if r.team == name), None)
