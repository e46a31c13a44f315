"""Report benchmark: ~1M responses (5,000 members, 100 teams, 200 weeks) on SQLite, report vs bare SQL, and scale.

Seeds with raw `executemany` (fast), then prints the median time of a one-team report, of a
whole-company report (a global leader's view) and of the bare `GROUP BY period` mood aggregate
over the same rows (the report's window: the last 12 periods of that team, or of every team)
straight through `sqlite3`, with the ratios; for scale, also that aggregate over every seeded week.
Each report and its bare aggregate run in `--pairs` pairs (bench/pairs.py: order alternating, each
side `--runs` times a pair, its median), so load on the machine hits both; the ratios are the
medians of the pairwise ratios. Seeding ~1M rows takes about a minute, the pairs about a minute.

    .venv/bin/python bench/report_bench.py [--db FILE] [--teams 100] [--members 5000] [--weeks 200] [--pairs 7]

The scale line seeds a second store a tenth the size (the same 50-member teams and weeks, a tenth
of the teams: about 100 k responses) and times the same team's 12-week report in both, in turns:
a report's cost follows the rows it reads, not the size of the store (large store = pulsebot side,
small store = baseline, in pairs like the rest).

Targets: one team ≤ 50 ms, company ≤ 1 s, each ≤ 3× its bare aggregate; scale ratio ≤ 1.2.
Last line: `RESULT team_ms=… company_ms=… team_ratio=… company_ratio=… scale_ratio=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pairs import Pairs, add_pairs_argument  # noqa: E402
from handlers.config import PulseConfig, PulseSection  # noqa: E402
from handlers.context import Context  # noqa: E402
from handlers.drivers import BANK  # noqa: E402
from handlers.reports import build_report  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import IMPACT_EFFECTS  # noqa: E402

FIRST_MONDAY = datetime(2023, 1, 2, tzinfo=UTC)
WINDOW = 12
SCALE_TEAM = "team-005"  # in both stores of the scale line, and answering like most teams


class BenchClock:
    """The bench's clock: always the seeded store's last week."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        """The set time."""
        return self.at


def ts(value: datetime) -> str:
    """The text form SQLAlchemy's SQLite DateTime stores (UTC, naive)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def seed(path: Path, *, teams: int, members: int, weeks: int, rng: random.Random) -> int:
    """Fill the database; returns the number of responses."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA journal_mode=MEMORY")
    db.executemany("INSERT INTO team (id, name) VALUES (?, ?)", ((t, f"team-{t:03d}") for t in range(1, teams + 1)))
    db.executemany(
        "INSERT INTO member (id, platform, user_id, name, locale_chosen, paused) VALUES (?, 'slack', ?, '', 0, 0)",
        ((m, f"U{m:07d}") for m in range(1, members + 1)),
    )
    team_of = {m: 1 + (m - 1) % teams for m in range(1, members + 1)}
    db.executemany("INSERT INTO team_member (team_id, member_id, active) VALUES (?, ?, 1)",
                   ((t, m) for m, t in team_of.items()))
    db.executemany("INSERT INTO leader (team_id, user_ref) VALUES (?, ?)",
                   [(t, f"ULEAD{t:03d}") for t in range(1, teams + 1)] + [(None, "UCEO")])
    roster: dict[int, list[int]] = {t: [] for t in range(1, teams + 1)}
    for m, t in team_of.items():
        roster[t].append(m)
    keys = {m: hashlib.sha256(f"bench:{m}".encode()).hexdigest() for m in roster_members(roster)}
    rounds = []
    for t in range(1, teams + 1):
        for w in range(weeks):
            start = FIRST_MONDAY + timedelta(weeks=w)
            opened = start + timedelta(hours=9)
            rid = (t - 1) * weeks + w + 1
            rounds.append((rid, t, f"{start.isocalendar().year}-W{start.isocalendar().week:02d}", ts(start),
                           ts(opened), ts(opened + timedelta(hours=72)), BANK[w % len(BANK)], int(w % 13 == 0)))
    db.executemany("INSERT INTO round (id, team_id, period, period_start, opened_at, closes_at, driver, enps) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rounds)
    # Some teams answer less: their small periods exercise suppression like a real company.
    rate = {t: (0.08 if t % 25 == 0 else 0.96 + 0.04 * rng.random()) for t in range(1, teams + 1)}
    answered: list[tuple[int, int, bool, str]] = []

    def deliveries() -> Iterator[tuple]:
        for rid, t, _period, _start, opened, _closes, _driver, _enps in rounds:
            for m in roster[t]:
                ok = rng.random() < rate[t]
                status = "failed" if not ok and rng.random() < 0.05 else "sent"
                if ok:
                    answered.append((rid, m, bool(_enps), opened))
                yield (rid, m, status, 1, opened, opened)

    db.executemany("INSERT INTO delivery (round_id, member_id, status, attempts, due_at, sent_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", deliveries())
    mood_bias = {t: rng.uniform(-0.8, 0.8) for t in range(1, teams + 1)}
    words = ("more time for customers", "the release went well", "too many meetings", "great support from the team")

    def responses() -> Iterator[tuple]:
        for rid, m, enps, _opened in answered:
            t = team_of[m]
            mood = min(5, max(1, round(rng.gauss(3.6 + mood_bias[t], 0.9))))
            comment = rng.choice(words) if rng.random() < 0.08 else None
            yield (f"{rng.getrandbits(128):032x}", rid, keys[m], mood, BANK[(rid - 1) % weeks % len(BANK)],
                   min(5, max(1, mood + rng.choice((-1, 0, 0, 1)))),
                   rng.randint(0, 10) if enps else None, comment)

    db.executemany("INSERT INTO response (id, round_id, respondent_key, mood, driver, driver_score, enps, comment) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", responses())
    freeze(db)
    chairs, impacts = [], []
    cid = 0
    for t in range(1, teams + 1):
        for w in range(weeks):
            cid += 1
            opened = FIRST_MONDAY + timedelta(weeks=w, days=1, hours=10)
            chairs.append((cid, "slack", f"C{t:05d}", t, "", "ULEAD", "en", ts(opened), ts(opened + timedelta(hours=1))))
            for _ in range(rng.randint(0, 3)):
                impacts.append((cid, "U1", rng.choice(IMPACT_EFFECTS), "", "", ts(opened)))
    db.executemany("INSERT INTO empty_chair (id, platform, conversation, team_id, topic, opened_by, locale, "
                   "opened_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", chairs)
    db.executemany("INSERT INTO impact (chair_id, author, effect, who, note, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                   impacts)
    db.commit()
    n = db.execute("SELECT COUNT(*) FROM response").fetchone()[0]
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return n


def freeze(db: sqlite3.Connection) -> None:
    """Close every seeded round as `handlers.closing.freeze_round` does, in three set-wise statements."""
    db.execute("UPDATE round SET closed_at = closes_at")
    db.execute("""
        INSERT INTO round_summary (round_id, delivered, answered, failed, uncertain, respondents,
            mood_1, mood_2, mood_3, mood_4, mood_5, driver_n, driver_sum, enps_n, promoters, detractors)
        SELECT r.id, d.delivered, COALESCE(s.n, 0), d.failed, d.uncertain, COALESCE(s.n, 0),
            COALESCE(s.m1, 0), COALESCE(s.m2, 0), COALESCE(s.m3, 0), COALESCE(s.m4, 0), COALESCE(s.m5, 0),
            COALESCE(s.dn, 0), COALESCE(s.ds, 0), COALESCE(s.en, 0), COALESCE(s.pro, 0), COALESCE(s.det, 0)
        FROM round r
        JOIN (SELECT round_id, COUNT(*) AS delivered, COUNT(*) FILTER (WHERE status = 'failed') AS failed,
                     COUNT(*) FILTER (WHERE status = 'uncertain') AS uncertain
              FROM delivery GROUP BY round_id) d ON d.round_id = r.id
        LEFT JOIN (SELECT round_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE mood = 1) AS m1,
                          COUNT(*) FILTER (WHERE mood = 2) AS m2, COUNT(*) FILTER (WHERE mood = 3) AS m3,
                          COUNT(*) FILTER (WHERE mood = 4) AS m4, COUNT(*) FILTER (WHERE mood = 5) AS m5,
                          COUNT(driver_score) AS dn, SUM(driver_score) AS ds, COUNT(enps) AS en,
                          COUNT(*) FILTER (WHERE enps >= 9) AS pro, COUNT(*) FILTER (WHERE enps <= 6) AS det
                   FROM response GROUP BY round_id) s ON s.round_id = r.id""")
    db.execute("INSERT INTO round_comment (id, round_id, comment) SELECT lower(hex(randomblob(16))), round_id, "
               "comment FROM response WHERE comment IS NOT NULL AND comment != '' ORDER BY random()")


def roster_members(roster: dict[int, list[int]]) -> Iterator[int]:
    for ms in roster.values():
        yield from ms


async def add_model_indexes(store: Store) -> None:
    """Create the models' indexes that the migrations do not have yet (say so: the lead adds them)."""
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    def run(conn) -> None:  # noqa: ANN001
        have = {ix["name"] for t in SQLModel.metadata.tables for ix in inspect(conn).get_indexes(t)}
        for table in SQLModel.metadata.sorted_tables:
            for index in table.indexes:
                if index.name not in have:
                    print(f"note: index {index.name} is in the models but not in the migrations; created it")
                    index.create(conn)

    async with store.engine.begin() as conn:
        await conn.run_sync(run)
    await store.dispose()


BARE = """
SELECT r.period, AVG(s.mood), COUNT(s.mood)
FROM response s JOIN round r ON r.id = s.round_id
WHERE r.id IN (SELECT id FROM round WHERE {where} ORDER BY period_start DESC LIMIT {limit})
GROUP BY r.period
"""


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the page cache and the statement caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def paired(pairs: Pairs, name: str, report: Callable[[], Awaitable[object]],
                 bare: Callable[[], Awaitable[object]], args: argparse.Namespace) -> None:
    """Figure `name`: the report (pulsebot) and its bare aggregate (baseline), `args.pairs` pairs.

    Within a pair each side runs `args.runs` times and gives its median; which side goes first
    alternates (bench/pairs.py), so a busy moment on the machine slows both sides alike and the
    ratio holds still even when the absolute times move.
    """
    await report()  # warm the page cache and the statement caches
    await bare()
    sides = {"pulsebot": report, "baseline": bare}
    gc.collect()
    for _i, order in pairs.turns(args.pairs):
        got = {}
        for side in order:
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                await sides[side]()
                times.append((time.perf_counter() - t0) * 1000)
            got[side] = statistics.median(times)
        pairs.add(name, **got)


def sql(raw: sqlite3.Connection, query: str, *params: object) -> Callable[[], Awaitable[object]]:
    """The bare aggregate as a coroutine function, so `paired` times both sides alike."""
    async def run() -> object:
        return raw.execute(query, params).fetchall()

    return run


async def open_store(path: Path, *, teams: int, members: int, weeks: int) -> Store:
    """The store at `path`, migrated and seeded if it is new."""
    fresh = not path.exists()
    store = Store(f"sqlite+aiosqlite:///{path}")
    await upgrade(store)
    await store.dispose()  # seeding writes through its own connection
    if fresh:
        t0 = time.perf_counter()
        n = seed(path, teams=teams, members=members, weeks=weeks, rng=random.Random(7))
        print(f"seeded {n:,} responses ({members:,} members, {teams} teams, {weeks} weeks) "
              f"in {time.perf_counter() - t0:.1f} s")
    await add_model_indexes(store)
    return store


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="reuse or create this SQLite file (default: a temporary one)")
    ap.add_argument("--teams", type=int, default=100)
    ap.add_argument("--members", type=int, default=5000)
    ap.add_argument("--weeks", type=int, default=200)
    ap.add_argument("--runs", type=int, default=21, help="runs of each side within a pair (their median)")
    add_pairs_argument(ap)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="pulsebot-bench-")
    path = Path(args.db) if args.db else Path(tmp.name) / "bench.db"
    store = await open_store(path, teams=args.teams, members=args.members, weeks=args.weeks)
    small_path = path.with_name(f"{path.stem}-tenth{path.suffix}")
    small_store = await open_store(small_path, teams=max(1, args.teams // 10), members=max(1, args.members // 10),
                                   weeks=args.weeks)
    now = FIRST_MONDAY + timedelta(weeks=args.weeks - 1, days=4)

    def context(on: Store) -> Context:
        return Context(store=on, config=PulseConfig(pulse=PulseSection(min_group_size=5)),
                       secret=b"bench-secret-0123456789", clock=BenchClock(now))

    ctx = context(store)
    team = "team-042"
    raw = sqlite3.connect(path)
    team_sql = BARE.format(where="team_id = (SELECT id FROM team WHERE name = ?)", limit=WINDOW)
    company_sql = BARE.format(where="1 = 1", limit=WINDOW * args.teams)
    pairs = Pairs("team_ms", "company_ms", "scale_ms", unit="ms")
    await paired(pairs, "team_ms", lambda: build_report(ctx, teams=[team], weeks=WINDOW),
                 sql(raw, team_sql, team), args)
    await paired(pairs, "company_ms", lambda: build_report(ctx, teams=None, weeks=WINDOW), sql(raw, company_sql), args)
    team_ms, bare_team = pairs.median("team_ms"), pairs.median("team_ms", "baseline")
    company_ms, bare_company = pairs.median("company_ms"), pairs.median("company_ms", "baseline")
    report = await build_report(ctx, teams=None, weeks=WINDOW)
    suppressed = sum(1 for r in report.teams for p in r.periods if p.mood.__class__.__name__ == "Suppressed")
    shown_teams = len(report.teams)

    # For scale: the same aggregate over every seeded week (the team's, then the company's rows).
    whole_team = median_ms(lambda: raw.execute(
        BARE.format(where="team_id = (SELECT id FROM team WHERE name = ?)", limit=args.weeks), (team,)
    ).fetchall(), args.runs)
    whole = median_ms(lambda: raw.execute("SELECT r.period, AVG(s.mood), COUNT(s.mood) FROM response s "
                                          "JOIN round r ON r.id = s.round_id GROUP BY r.period").fetchall(), 3)
    raw.close()
    sizes = []
    for p in (small_path, path):
        with sqlite3.connect(p) as db:
            sizes.append(db.execute("SELECT COUNT(*) FROM response").fetchone()[0])
    del report  # the company report's objects would only slow the collector during the scale runs
    # Scale: the same team's report in the large store (pulsebot side) and in the small one (baseline).
    small = context(small_store)
    await paired(pairs, "scale_ms", lambda: build_report(ctx, teams=[SCALE_TEAM], weeks=WINDOW),
                 lambda: build_report(small, teams=[SCALE_TEAM], weeks=WINDOW), args)
    small_ms, large_ms = pairs.median("scale_ms", "baseline"), pairs.median("scale_ms")
    await small_store.dispose()
    await store.dispose()

    pairs.report()
    team_ratio, company_ratio = pairs.ratio("team_ms"), pairs.ratio("company_ms")
    print(f"report window: last {WINDOW} periods; {shown_teams} teams, {suppressed} suppressed team-periods")
    print(f"one-team report   {team_ms:8.2f} ms   bare GROUP BY period {bare_team:7.2f} ms   ratio {team_ratio:5.2f}"
          f"   (target ≤ 50 ms, ≤ 3×)")
    print(f"company report    {company_ms:8.2f} ms   bare GROUP BY period {bare_company:7.2f} ms   "
          f"ratio {company_ratio:5.2f}   (target ≤ 1000 ms, ≤ 3×)")
    print(f"for scale, bare GROUP BY period over all {args.weeks} seeded weeks: one team {whole_team:.2f} ms "
          f"(report/bare {team_ms / whole_team:.2f}), every team {whole:.1f} ms (report/bare {company_ms / whole:.2f})")
    scale_ratio = pairs.ratio("scale_ms")
    print(f"scale: {SCALE_TEAM}'s {WINDOW}-week report with {sizes[0]:,} responses in the store {small_ms:.2f} ms, "
          f"with {sizes[1]:,} {large_ms:.2f} ms   ratio {scale_ratio:5.2f}   (target ≤ 1.2)")
    print(f"RESULT team_ms={team_ms:.2f} company_ms={company_ms:.2f} "
          f"team_ratio={team_ratio:.2f} company_ratio={company_ratio:.2f} scale_ratio={scale_ratio:.2f}")
    tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
