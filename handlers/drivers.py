"""The driver bank: the statements a round asks besides the mood, rotating one per period.

Written from the company's listening questions (DESIGN.md); the texts are catalog ids
`driver.<key>` in es and en.
"""

from __future__ import annotations

BANK: tuple[str, ...] = (
    "belonging",
    "recognition",
    "growth",
    "autonomy",
    "clarity",
    "customer",
    "collaboration",
    "leadership",
    "workload",
)


def driver_for(ordinal: int) -> str:
    """The driver of the period with this ordinal: the bank in order, round and round."""
    return BANK[ordinal % len(BANK)]
