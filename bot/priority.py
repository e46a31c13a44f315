"""Helper processes that run only on cores the server leaves idle (issue 14).

The server answers buttons; its helpers (the report worker, the courier) do work nobody waits on
to the millisecond. Linux's `SCHED_IDLE` says exactly that: the kernel runs such a process only
where no ordinary one wants the core, counts a core it holds as idle when it places a waking
server, and takes the core back the moment the server wakes. A niceness only weighs the
shares, so a waking ack could still queue behind a helper's slice (bench/tap_ack_bench.py on a
2-core machine, two runs each: tap ack p99 1.25 and 1.32× the floor with a `SCHED_IDLE` courier,
1.48 and 1.91× at niceness +5, 1.45 and 1.67× at +19). Where there is no `SCHED_IDLE` (macOS)
the helper is niced instead.
"""

from __future__ import annotations

import os


def yield_to_the_server(niceness: int) -> None:
    """Put this process below every ordinary one: `SCHED_IDLE`, else `niceness` added."""
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except OSError:  # a sandbox that forbids it: a niceness still helps
            pass
    os.nice(niceness)
