"""What every benchmark shares: pulsebot and its baseline measured in alternating pairs (issue 14).

One pair of runs cannot tell a regression from noise on a shared machine: the Slack ack p99 ratio
once moved from 1.19× to 1.78× on unchanged code. So a bench runs pulsebot and its baseline one
after the other, `--pairs` times (at least five), the order alternating (pulsebot first in even
pairs, the baseline first in odd ones), so that a busy moment, a warm cache or a slow turn falls
on both alike. Every figure is printed with its min, median and max on each side and the median
of the pairwise ratios (pulsebot ÷ baseline within one pair); the RESULT line carries medians.

    pairs = Pairs("burst_p99_ms", "steady_p99_ms")
    for i, first in pairs.turns(args.pairs):   # first is "pulsebot" or "baseline"
        ... pairs.add("burst_p99_ms", pulsebot=…, baseline=…)
    pairs.report()                              # the table
    pairs.ratio("burst_p99_ms")                 # median of the pairwise ratios
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field

MIN_PAIRS = 5
SIDES = ("pulsebot", "baseline")


def add_pairs_argument(parser: argparse.ArgumentParser, default: int = 7) -> None:
    """The `--pairs N` flag every bench takes (at least five)."""
    parser.add_argument("--pairs", type=int, default=default,
                        help=f"pulsebot/baseline pairs, order alternating (at least {MIN_PAIRS}; default {default})")


def order(i: int) -> tuple[str, str]:
    """Which side runs first in pair `i`: pulsebot in even pairs, the baseline in odd ones."""
    return SIDES if i % 2 == 0 else (SIDES[1], SIDES[0])


def percentile(values: list[float], q: float) -> float:
    """The `q`th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Figure:
    """One measured quantity: a value per pair on each side (a side may be absent: no baseline)."""

    name: str
    unit: str = ""
    values: dict[str, list[float]] = field(default_factory=lambda: {side: [] for side in SIDES})

    def ratios(self) -> list[float]:
        """pulsebot ÷ baseline, pair by pair."""
        return [p / b for p, b in zip(self.values["pulsebot"], self.values["baseline"], strict=False) if b > 0]

    def median(self, side: str = "pulsebot") -> float:
        """The median of one side's values."""
        return statistics.median(self.values[side])

    def line(self) -> str:
        """`name  pulsebot min/median/max  baseline min/median/max  ratio median (min..max)`."""
        parts = [f"{self.name:<20}"]
        for side in SIDES:
            got = self.values[side]
            if got:
                parts.append(f"{side} {min(got):9.3f} {statistics.median(got):9.3f} {max(got):9.3f}{self.unit}")
        ratios = self.ratios()
        if ratios:
            parts.append(f"ratio median {statistics.median(ratios):5.2f} ({min(ratios):.2f}..{max(ratios):.2f})")
        return "  ".join(parts)


class Pairs:
    """The figures of one bench, collected pair by pair."""

    def __init__(self, *names: str, unit: str = "") -> None:
        self.figures = {name: Figure(name, unit) for name in names}

    @staticmethod
    def turns(pairs: int) -> Iterator[tuple[int, tuple[str, str]]]:
        """`(i, (first, second))` for each pair; refuses fewer than five pairs."""
        if pairs < MIN_PAIRS:
            raise SystemExit(f"--pairs must be at least {MIN_PAIRS} (got {pairs}): fewer cannot tell noise apart")
        for i in range(pairs):
            yield i, order(i)

    def add(self, name: str, *, pulsebot: float | None = None, baseline: float | None = None) -> None:
        """One pair's values of figure `name` (either side may come alone)."""
        figure = self.figures.setdefault(name, Figure(name))
        if pulsebot is not None:
            figure.values["pulsebot"].append(pulsebot)
        if baseline is not None:
            figure.values["baseline"].append(baseline)

    def median(self, name: str, side: str = "pulsebot") -> float:
        """The median of figure `name` on `side`."""
        return self.figures[name].median(side)

    def ratio(self, name: str) -> float:
        """The median of figure `name`'s pairwise ratios (pulsebot ÷ baseline)."""
        return statistics.median(self.figures[name].ratios())

    def report(self) -> None:
        """Print each figure: min, median and max per side, and the median pairwise ratio."""
        print(f"{'figure':<20}  side     min    median       max   (over {self._pairs()} pairs, order alternating)")
        for figure in self.figures.values():
            print(figure.line())

    def _pairs(self) -> int:
        return max((len(v) for f in self.figures.values() for v in f.values.values()), default=0)
