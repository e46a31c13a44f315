"""Check-in tap acks of `pulsebot serve` next to the fair floor (`bench/floor_app.py`), in pairs (issue 14).

Run from the repository root: `.venv/bin/python bench/tap_ack_bench.py [--pairs 5] [--seconds 4]`.

The floor is a bare slack-bolt app that stores one row (aiosqlite, WAL, synchronous=NORMAL) and
then acks: the least any app can do once an ack means stored. Both get the same signed check-in
taps (block_actions on the DMs a real round sent through pulsebot's outbox, against the fake Slack
Web API): a steady `--rate` per second for `--seconds`, then a burst of `--burst` at once, taking
turns in `--pairs` pairs with the order alternating, so that other load on the machine falls on
both alike. With `--command-rate R`, slash commands from slack_ack_bench's mix (one in fifty a
leader's /team-pulse) arrive alongside at R per second; only the taps are measured. Latency is
request sent → response read. Before the pairs every member taps once on each side, not measured
(a member's first tap in a process also keeps their profile, once). Each pair prints both sides'
p50/p99 and the load average; the summary gives min/median/max and the median of the pairwise
p99 ratios.
CPU per tap is each server's own CPU time (Linux /proc) over a turn and the work behind its acks
(the card redrawn, the profile kept), divided by its taps: the figure least moved by other load.
Last line: `RESULT tap_p99_ratio=… tap_p50_ratio=… cpu_ratio=… burst_taps_per_s=… floor_burst_taps_per_s=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.pairs import percentile as pct  # noqa: E402
from bench.processes import free_port, spawn, stop, wait_healthy  # noqa: E402
from bench.slack_ack_bench import (  # noqa: E402
    SECRET,
    TOKEN,
    Requests,
    first_taps,
    quiet,
    seed,
    signed,
    write_config,
)

SIDES = ("pulsebot", "floor")


async def post(http: aiohttp.ClientSession, url: str, body: str, out: list[float] | None, errors: list[int]) -> None:
    headers = signed(body, "application/x-www-form-urlencoded")
    start = time.perf_counter()
    try:
        async with http.post(url + "/slack/events", data=body.encode(), headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                errors.append(resp.status)
    except aiohttp.ClientError:
        errors.append(-1)
    if out is not None:
        out.append(time.perf_counter() - start)


async def steady(url: str, requests: Requests, rate: float, seconds: float, command_rate: float) -> tuple[list[float], list[int]]:
    """Taps at `rate` per second (measured) and commands at `command_rate` (not measured)."""
    out: list[float] = []
    errors: list[int] = []
    tasks: list[asyncio.Task[None]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def paced(n: int, per_s: float, make: object, measured: bool) -> None:
            start = time.perf_counter()
            for i in range(n):
                delay = start + i / per_s - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = make()  # type: ignore[operator]
                tasks.append(asyncio.create_task(post(http, url, body, out if measured else None, errors)))

        pacers = [paced(int(rate * seconds), rate, requests._tap, True)]
        if command_rate > 0:
            pacers.append(paced(int(command_rate * seconds), command_rate, requests._command, False))
        await asyncio.gather(*pacers)
        await asyncio.gather(*tasks)
    return out, errors


async def burst(url: str, requests: Requests, n: int) -> tuple[list[float], list[int], float]:
    """`n` taps at once; also taps per second until the last ack."""
    out: list[float] = []
    errors: list[int] = []
    bodies = [requests._tap() for _ in range(n)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        start = time.perf_counter()
        await asyncio.gather(*(post(http, url, b, out, errors) for b in bodies))
        elapsed = time.perf_counter() - start
    return out, errors, n / elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def spread(name: str, values: list[float], unit: str) -> str:
    return (f"  {name:<28} min={min(values):8.2f}{unit} median={statistics.median(values):8.2f}{unit} "
            f"max={max(values):8.2f}{unit}")


async def main(args: argparse.Namespace) -> int:
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            fake, fake_url = spawn([python, str(ROOT / "bench" / "slack_ack_bench.py"), "--role", "fake",
                                    "--members", str(args.members)], env, read_line=True)
            procs.append(fake)
            api_url = fake_url + "/api/"
            env.update({
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "PULSEBOT_CONFIG": str(write_config(Path(tmp))),
                "PULSEBOT_SECRET": "bench-secret-0123456789abcdef-0123456789", "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url, "BENCH_MEMBERS": str(args.members),
            })
            env.pop("SLACK_APP_TOKEN", None)
            taps = await seed(env, api_url)
            ports = {"pulsebot": free_port(), "floor": free_port()}
            pulse, _ = spawn([python, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(ports["pulsebot"])],
                             env)
            floor, _ = spawn([python, str(ROOT / "bench" / "floor_app.py"), "--port", str(ports["floor"]),
                              "--db", f"{tmp}/floor.db", "--signing-secret", SECRET, "--token", TOKEN,
                              "--api-url", api_url], env)
            procs += [pulse, floor]
            urls = {side: f"http://127.0.0.1:{port}" for side, port in ports.items()}
            await wait_healthy(urls["pulsebot"], pulse)
            await wait_healthy(urls["floor"], floor)
            async with aiohttp.ClientSession() as http:
                for side in SIDES:  # every member once: pulsebot keeps a profile on a member's first tap
                    await first_taps(http, urls[side], api_url, taps, args.rate)
            for side in SIDES:  # warm-up: imports, caches, connections
                await burst(urls[side], Requests(api_url, taps, 1), 40)
                await steady(urls[side], Requests(api_url, taps, 2), args.rate, 2.0, args.command_rate)
            await quiet(fake_url)
            pids = {"pulsebot": pulse.pid, "floor": floor.pid}
            figures: dict[str, dict[str, list[float]]] = {
                f: {s: [] for s in SIDES} for f in ("p50_ms", "p99_ms", "burst_p99_ms", "burst_taps_per_s",
                                                   "cpu_ms_per_tap")}
            non200 = 0
            print(f"load average before: {load()}")
            for pair in range(args.pairs):
                for side in SIDES if pair % 2 == 0 else SIDES[::-1]:
                    await quiet(fake_url)  # each turn meets a server done with the previous turn's work
                    cpu_before = cpu_seconds(pids[side])
                    got, errors = await steady(urls[side], Requests(api_url, taps, 100 + pair), args.rate,
                                               args.seconds, args.command_rate)
                    await quiet(fake_url)
                    bgot, berrors, per_s = await burst(urls[side], Requests(api_url, taps, 200 + pair), args.burst)
                    await quiet(fake_url)  # the work behind the acks counts too (the card redrawn, the profile)
                    figures["cpu_ms_per_tap"][side].append(
                        (cpu_seconds(pids[side]) - cpu_before) * 1000 / (len(got) + len(bgot)))
                    non200 += len(errors) + len(berrors) if side == "pulsebot" else 0
                    ms = [v * 1000 for v in got]
                    figures["p50_ms"][side].append(pct(ms, 50))
                    figures["p99_ms"][side].append(pct(ms, 99))
                    figures["burst_p99_ms"][side].append(pct([v * 1000 for v in bgot], 99))
                    figures["burst_taps_per_s"][side].append(per_s)
                print(f"pair {pair + 1}: " + "  ".join(
                    f"{s} p50={figures['p50_ms'][s][-1]:.1f}ms p99={figures['p99_ms'][s][-1]:.1f}ms "
                    f"burst {figures['burst_taps_per_s'][s][-1]:.0f} taps/s cpu {figures['cpu_ms_per_tap'][s][-1]:.2f}ms/tap"
                    for s in SIDES)
                    + f"  load {load()}", flush=True)
            for name, unit in (("p50_ms", "ms"), ("p99_ms", "ms"), ("burst_p99_ms", "ms"),
                               ("burst_taps_per_s", "/s"), ("cpu_ms_per_tap", "ms")):
                print(name)
                for side in SIDES:
                    print(spread(side, figures[name][side], unit))

            def ratio(name: str) -> float:
                return statistics.median(p / f for p, f in zip(figures[name]["pulsebot"], figures[name]["floor"],
                                                               strict=True))

            for name in ("p50_ms", "p99_ms", "burst_p99_ms", "cpu_ms_per_tap"):
                pairs = [p / f for p, f in zip(figures[name]["pulsebot"], figures[name]["floor"], strict=True)]
                print(f"{name} pairwise ratios: " + " ".join(f"{r:.2f}" for r in pairs))
            print(f"pulsebot non-200 answers: {non200}; load average after: {load()}")
            print(f"RESULT tap_p99_ratio={ratio('p99_ms'):.2f} tap_p50_ratio={ratio('p50_ms'):.2f} "
                  f"cpu_ratio={ratio('cpu_ms_per_tap'):.2f} "
                  f"burst_taps_per_s={statistics.median(figures['burst_taps_per_s']['pulsebot']):.0f} "
                  f"floor_burst_taps_per_s={statistics.median(figures['burst_taps_per_s']['floor']):.0f}")
            return 0
    finally:
        stop(procs)


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=200)
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--rate", type=float, default=100.0, help="check-in taps per second in the steady turns")
    p.add_argument("--seconds", type=float, default=4.0, help="length of each steady turn")
    p.add_argument("--burst", type=int, default=100, help="taps at once after each steady turn")
    p.add_argument("--command-rate", type=float, default=0.0, help="slash commands per second alongside")
    raise SystemExit(asyncio.run(main(p.parse_args())))


if __name__ == "__main__":
    cli()
