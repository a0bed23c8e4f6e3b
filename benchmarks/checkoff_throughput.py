"""Check-off throughput over HTTP: the real `POST /api/v1/items/{id}/check` (token lookup, row lock,
item change, gate evaluation, AuditEvent and Outbox rows in one PostgreSQL transaction) against a
bare FastAPI endpoint on the same uvicorn settings, driven by the same load generator.

Why it matters: a check-off is the request people make all day; the goal is at least half the
requests per second of an endpoint that does nothing.

    .venv/bin/python -m benchmarks.checkoff_throughput [--requests 600] [--rounds 3] [--concurrency 20]

Needs PostgreSQL on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL to change it); makes and drops
its own database. Servers run in child processes; the load generator is an httpx async client pool
in this process (both share the machine's cores, as they would on a small host).
"""

import argparse
import statistics
import tempfile
from pathlib import Path

import httpx
from sqlmodel import Session

from benchmarks._harness import Request, load, machine, table, throwaway_postgres, uvicorn_process
from benchmarks._seed import gated_launch, seed_directory
from orchestrator.db import make_engine

LAUNCHES_PER_ROUND = 10  # check-offs spread over launches, as on a working day (not one hot row)


def posts(path: str, items: list[int], headers: dict[str, str]) -> list[Request]:
    def one(item_id: int) -> Request:
        async def send(client: httpx.AsyncClient) -> httpx.Response:
            return await client.post(path.format(item_id), json={}, headers=headers)

        return send

    return [one(item_id) for item_id in items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=600, help="check-offs per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    logs = Path(tempfile.mkdtemp(prefix="bench-checkoff-"))
    with throwaway_postgres() as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            token = seed_directory(session)
            per_launch = max(1, args.requests // LAUNCHES_PER_ROUND)
            rounds: list[list[int]] = []
            for round_index in range(args.rounds + 1):  # round 0 warms the servers up
                shares = [
                    gated_launch(session, slug=f"bench-{round_index}-{n}", items=per_launch)
                    for n in range(LAUNCHES_PER_ROUND)
                ]
                rounds.append([item for group in zip(*shares, strict=True) for item in group])
        engine.dispose()
        env = {"LAUNCHDECK_DATABASE_URL": url}
        auth = {"Authorization": f"Bearer {token}"}
        with (
            uvicorn_process("benchmarks._bare_app:create_app", env=env, log=logs / "bare.log") as bare,
            uvicorn_process("api.app:create_app", env=env, log=logs / "api.log") as real,
        ):
            figures: dict[str, list[float]] = {"bare": [], "read": [], "real": []}
            for round_index, items in enumerate(rounds):
                results = {
                    "bare": load(bare, posts("/items/{}/check", items, {}), concurrency=args.concurrency),
                    "read": load(bare, posts("/items/{}/read", items, {}), concurrency=args.concurrency),
                    "real": load(real, posts("/api/v1/items/{}/check", items, auth), concurrency=args.concurrency),
                }
                for kind, result in results.items():
                    if set(result.statuses) != {200}:
                        raise SystemExit(f"{kind}: unexpected answers {result.statuses}; logs in {logs}")
                    if round_index > 0:
                        figures[kind].append(result.per_second)
    bare_rate = statistics.median(figures["bare"])
    rows = [
        ["bare FastAPI endpoint (baseline)", f"{bare_rate:.0f}", "1.00"],
        [
            "bare endpoint + one PostgreSQL read",
            f"{statistics.median(figures['read']):.0f}",
            f"{statistics.median(figures['read']) / bare_rate:.2f}",
        ],
        [
            "check-off (change + audit + outbox)",
            f"{statistics.median(figures['real']):.0f}",
            f"{statistics.median(figures['real']) / bare_rate:.2f}",
        ],
    ]
    print(
        f"{args.rounds} rounds x {len(rounds[-1])} POSTs, {args.concurrency} connections, "
        "uvicorn (1 process) on loopback, PostgreSQL; medians of the rounds"
    )
    print(table(["endpoint", "req/s", "ratio"], rows))
    met = statistics.median(figures["real"]) / bare_rate >= 0.5
    print(f"goal: check-off at least 0.50 of the bare endpoint: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
