"""How much of a benchmark figure is the load generator's: the same bare FastAPI endpoint driven by
wrk (C), by `benchmarks/_rawload.py` and by an httpx async client pool (what the benchmarks used
before), in the same run. Baseline: wrk.

Why it matters: on 2 cores the generator and the server share the machine; a generator that costs
more per request than the endpoint caps the baseline and flatters every ratio against it.

    .venv/bin/python -m benchmarks.load_generators [--seconds 5] [--rounds 10]

Needs wrk (`apt-get install -y wrk`) and PostgreSQL on 127.0.0.1:5432 (the bare app opens a pool).
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks._harness import machine, percentile, table, throwaway_postgres, uvicorn_process
from benchmarks._rawload import HttpRequest, load
from benchmarks._wrk import run_wrk

CONNECTIONS = 20
BURST = 50


async def _httpx_closed_loop(base: str, count: int) -> float:
    """``count`` POSTs through CONNECTIONS kept-alive httpx connections; requests per second."""
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        await asyncio.gather(*(client.get("/healthz") for _ in range(CONNECTIONS)))
        pending = iter(range(count))

        async def drain() -> None:
            for item in pending:
                (await client.post(f"/items/{item}/check", json={})).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(drain() for _ in range(CONNECTIONS)))
        return count / (time.perf_counter() - started)


async def _httpx_burst(base: str) -> list[float]:
    """BURST simultaneous GET /healthz on fresh kept-alive connections; each one's latency."""
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        await asyncio.gather(*(client.get("/healthz") for _ in range(BURST)))

        async def one() -> float:
            started = time.perf_counter()
            (await client.get("/healthz")).raise_for_status()
            return time.perf_counter() - started

        return list(await asyncio.gather(*(one() for _ in range(BURST))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the wrk run")
    parser.add_argument("--rounds", type=int, default=10, help="bursts of 50 per generator")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    logs = Path(tempfile.mkdtemp(prefix="bench-generators-"))
    ids = Path(logs / "ids.txt")
    ids.write_text("\n".join(str(n) for n in range(1, 100_001)) + "\n")
    with (
        throwaway_postgres() as url,
        uvicorn_process(
            "benchmarks._bare_app:create_app", env={"LAUNCHDECK_DATABASE_URL": url}, log=logs / "bare.log"
        ) as base,
    ):
        wrk = run_wrk(
            base,
            script="checkoff.lua",
            seconds=args.seconds,
            connections=CONNECTIONS,
            threads=2,
            env={"IDS_FILE": str(ids), "PATH_FORMAT": "/items/%s/check", "AUTHORIZATION": ""},
        )
        count = max(1000, int(wrk.per_second * args.seconds))
        post = {"Content-Type": "application/json"}
        posts = [lambda n=n: HttpRequest("POST", f"/items/{n}/check", post, b"{}") for n in range(count)]
        raw = load(base, posts, concurrency=CONNECTIONS)
        pooled = asyncio.run(_httpx_closed_loop(base, max(1000, count // 5)))
        raw_bursts: list[float] = []
        httpx_bursts: list[float] = []
        for _ in range(args.rounds + 1):  # the first round of each warms up
            burst = load(base, [lambda: HttpRequest("GET", "/healthz") for _ in range(BURST)], concurrency=BURST)
            raw_bursts += burst.latencies
            httpx_bursts += asyncio.run(_httpx_burst(base))
        raw_bursts, httpx_bursts = raw_bursts[BURST:], httpx_bursts[BURST:]
    print(f"bare FastAPI endpoint, uvicorn (1 process); closed loop at {CONNECTIONS} connections")
    rates = [("wrk (baseline)", wrk.per_second), ("_rawload", raw.per_second), ("httpx pool", pooled)]
    rows = [[name, f"{rate:.0f}", f"{rate / wrk.per_second:.2f}"] for name, rate in rates]
    print(table(["generator", "req/s", "ratio to wrk"], rows))
    print()
    print(f"{args.rounds} bursts of {BURST} simultaneous GET /healthz")
    rows = [
        [name, f"{percentile(values, 50) * 1000:.0f} ms", f"{percentile(values, 99) * 1000:.0f} ms"]
        for name, values in (("_rawload", raw_bursts), ("httpx pool", httpx_bursts))
    ]
    print(table(["generator", "p50", "p99"], rows))


if __name__ == "__main__":
    main()
