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
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine, event
from sqlmodel import Session

from api.app import create_app
from benchmarks._harness import (
    Request,
    free_port,
    load,
    machine,
    server_cpu_seconds,
    table,
    throwaway_postgres,
    uvicorn_process,
)
from benchmarks._seed import gated_launch, seed_directory
from orchestrator.db import make_engine

LAUNCHES_PER_ROUND = 10  # check-offs spread over launches, as on a working day (not one hot row)


@dataclass(frozen=True)
class SqlCost:
    """What one request asked of the database. Round trips on PostgreSQL (psycopg sends BEGIN on
    its own) = statements + one ping per pool checkout + BEGIN and COMMIT per transaction."""

    statements: int
    transactions: int
    checkouts: int

    @property
    def round_trips(self) -> int:
        return self.statements + self.checkouts + 2 * self.transactions


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every statement, COMMIT/ROLLBACK and pool checkout on ``engine`` while open (SQLAlchemy
    events; sign-in included), as a list of markers."""
    seen: list[str] = []

    def statement(*_args: Any) -> None:
        seen.append("statement")

    def commit(*_args: Any) -> None:
        seen.append("transaction")

    def checkout(*_args: Any) -> None:
        seen.append("checkout")

    hooks: list[tuple[Any, str, Callable[..., None]]] = [
        (engine, "before_cursor_execute", statement),
        (engine, "commit", commit),
        (engine, "rollback", commit),
        (engine.pool, "checkout", checkout),
    ]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield seen
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


def sql_per_checkoff(engine: Engine, secret: str, items: list[int]) -> list[SqlCost]:
    """Check ``items`` off one by one through the real app served in this process, counting
    what each request asked of the database."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine=engine), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    costs = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            while not server.started:
                if not thread.is_alive():
                    raise SystemExit("the in-process server did not start")
                thread.join(timeout=0.1)
            for item_id in items:
                with counting(engine) as seen:
                    answer = client.post(
                        f"/api/v1/items/{item_id}/check", json={}, headers={"Authorization": f"Bearer {secret}"}
                    )
                if answer.status_code != 200:
                    raise SystemExit(f"check-off answered {answer.status_code}: {answer.text[:300]}")
                costs.append(SqlCost(*(seen.count(kind) for kind in ("statement", "transaction", "checkout"))))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    return costs


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
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for both servers")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    logs = Path(tempfile.mkdtemp(prefix="bench-checkoff-"))
    with throwaway_postgres() as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            token = seed_directory(session)
            counted = gated_launch(session, slug="bench-counted", items=3)
            per_launch = max(1, args.requests // LAUNCHES_PER_ROUND)
            rounds: list[list[int]] = []
            for round_index in range(args.rounds + 1):  # round 0 warms the servers up
                shares = [
                    gated_launch(session, slug=f"bench-{round_index}-{n}", items=per_launch)
                    for n in range(LAUNCHES_PER_ROUND)
                ]
                rounds.append([item for group in zip(*shares, strict=True) for item in group])
        typical, _, last = sql_per_checkoff(engine, token, counted)
        engine.dispose()
        env = {"LAUNCHDECK_DATABASE_URL": url}
        auth = {"Authorization": f"Bearer {token}"}
        with (
            uvicorn_process(
                "benchmarks._bare_app:create_app", env=env, log=logs / "bare.log", workers=args.workers
            ) as bare,
            uvicorn_process("api.app:serving_app", env=env, log=logs / "api.log", workers=args.workers) as real,
        ):
            figures: dict[str, list[float]] = {"bare": [], "read": [], "real": []}
            cpu: dict[str, list[float]] = {"bare": [], "read": [], "real": []}
            for round_index, items in enumerate(rounds):
                for kind, base, path, headers in (
                    ("bare", bare, "/items/{}/check", {}),
                    ("read", bare, "/items/{}/read", {}),
                    ("real", real, "/api/v1/items/{}/check", auth),
                ):
                    used = server_cpu_seconds(base)
                    result = load(base, posts(path, items, headers), concurrency=args.concurrency)
                    used = server_cpu_seconds(base) - used
                    if set(result.statuses) != {200}:
                        raise SystemExit(f"{kind}: unexpected answers {result.statuses}; logs in {logs}")
                    if round_index > 0:
                        figures[kind].append(result.per_second)
                        cpu[kind].append(1000 * used / len(items))
    bare_rate = statistics.median(figures["bare"])
    labels = {
        "bare": "bare FastAPI endpoint (baseline)",
        "read": "bare endpoint + one PostgreSQL read",
        "real": "check-off (change + audit + outbox)",
    }
    rows = [
        [
            label,
            f"{statistics.median(figures[kind]):.0f}",
            f"{statistics.median(figures[kind]) / bare_rate:.2f}",
            f"{statistics.median(cpu[kind]):.2f}",
        ]
        for kind, label in labels.items()
    ]
    print(
        f"{args.rounds} rounds x {len(rounds[-1])} POSTs, {args.concurrency} connections, "
        f"uvicorn ({args.workers} process(es) each) on loopback, PostgreSQL; medians of the rounds"
    )
    print(table(["endpoint", "req/s", "ratio", "server CPU ms per request"], rows))
    print(
        f"SQL per check-off: {typical.statements} statements, {typical.transactions} transaction(s), "
        f"{typical.checkouts} pool checkout(s) = {typical.round_trips} PostgreSQL round trips; "
        f"the check-off that passes the gate: {last.statements} statements, {last.round_trips} round trips"
    )
    met = statistics.median(figures["real"]) / bare_rate >= 0.5
    print(f"goal: check-off at least 0.50 of the bare endpoint: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
