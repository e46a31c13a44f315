"""Helper processes that run only on cores the server leaves idle, and all on one core (issue 14).

The server answers buttons; its helpers (the report worker, the courier) do work nobody waits on
to the millisecond. Linux's `SCHED_IDLE` says exactly that: the kernel runs such a process only
where no ordinary one wants the core, counts a core it holds as idle when it places a waking
server, and takes the core back the moment the server wakes. A niceness only weighs the
shares, so a waking ack could still queue behind a helper's slice (bench/tap_ack_bench.py on a
2-core machine, two runs each: tap ack p99 1.25 and 1.32× the floor with a `SCHED_IDLE` courier,
1.48 and 1.91× at niceness +5, 1.45 and 1.67× at +19). Where there is no `SCHED_IDLE` (macOS)
the helper is niced instead.

A core taken back still costs the server: the helper ran there meanwhile, and the server finds
its caches full of the helper's data. So the helpers also keep to one core, the last one this
process may use, when it may use two or more; the server keeps them all. With the leader asking
for reports back to back while members tap (bench/team_pulse_bench.py, 2 cores), the taps slower
than the floor's p99 gathered in the moments the worker or the courier was busy (a tap sent in
the 20 ms after a report was asked for was slow four times as often as any other); the tap ack
p99 ratio of three runs was 1.09, 1.43 and 1.59 with the helpers going from core to core, and
1.16, 1.32 and 1.24 with them on one.
"""

from __future__ import annotations

import os


def yield_to_the_server(niceness: int) -> None:
    """Put this process below every ordinary one (`SCHED_IDLE`, else `niceness` added), on one core."""
    keep_to_one_core()
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except OSError:  # a sandbox that forbids it: a niceness still helps
            pass
    os.nice(niceness)


def keep_to_one_core() -> None:
    """Run this process only on the last core it may use, if it may use more than one (Linux)."""
    if not hasattr(os, "sched_getaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1:
        try:
            os.sched_setaffinity(0, {cores[-1]})
        except OSError:  # a sandbox that forbids it: the scheduling class above still holds
            pass
