"""Check-off throughput over HTTP: the real `POST /api/v1/items/{id}/check` (token lookup, row lock,
item change, gate evaluation, AuditEvent and Outbox rows in one PostgreSQL transaction) against a
bare FastAPI endpoint on the same uvicorn settings, driven by the same load generator. The
check-off route is `async def` (served on the event loop), so its baseline is an `async def` bare
route; the plain `def` bare route, the kind most routes are, is a row of its own.

Why it matters: a check-off is the request people make all day. Issue #21's goal: at least 0.6 of
the requests per second of a floor that does a check-off's minimum work on raw asyncpg, served
the same way in the same run (BEGIN, the item and its region locked in one read, the item update,
audit event and outbox row as one statement, COMMIT: `benchmarks/_bare_app.py`, ``/floor``). The
floor runs right after the check-off on the same items (it rewrites them, as the check-off did).
The earlier goal, half a bare endpoint's rate, is still printed.

    .venv/bin/python -m benchmarks.checkoff_throughput [--seconds 5] [--rounds 3] [--concurrency 20]
        [--workers 1] [--generator wrk|raw]

Needs PostgreSQL on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL to change it); makes and drops
its own database. And wrk (`apt-get install -y wrk`): the load generator for both endpoints, a C
program whose cost per request is small next to the server's (benchmarks/_wrk.py says why).
Every request checks off a different item; after each round the script checks that each 2xx
answer left one done item and one audit event.
"""

import argparse
import shutil
import statistics
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from api.app import create_app
from benchmarks._harness import free_port, machine, server_cpu_seconds, table, throwaway_postgres, uvicorn_process
from benchmarks._rawload import HttpRequest, load
from benchmarks._seed import gated_launch, seed_directory
from benchmarks._sql_cost import SqlCost, counting
from benchmarks._wrk import WrkMissing, run_wrk
from orchestrator.core.db import make_engine
from orchestrator.core.enums import ItemStatus
from orchestrator.core.models import AuditEvent, ChecklistItem

LAUNCHES_PER_ROUND = 20
WRK_THREADS = 2
BASELINE = "bare_async"
LABELS = {
    "bare_async": "bare FastAPI endpoint, async route (baseline)",
    "bare": "bare FastAPI endpoint, sync route",
    "read": "reference: bare endpoint + one PostgreSQL read (SQLAlchemy, sync route)",
    "one_trip": "reference: one PostgreSQL round trip (asyncpg, async route)",
    "writes": "reference: a check-off's three writes as one raw SQL statement (asyncpg, 1 round trip, no rules)",
    "writes_tx": "reference: the same statement between BEGIN and COMMIT (3 round trips)",
    "real": "check-off (change + audit + outbox)",
    "floor": "floor: a check-off's minimum work on raw asyncpg (BEGIN, locked read, writes, COMMIT)",
}
FLOOR_ROUND_TRIPS = 4  # BEGIN, the locked read, the writes, COMMIT (its pool skips the reset query)
FLOOR_GOAL = 0.6


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
                with counting() as counted:
                    answer = client.post(
                        f"/api/v1/items/{item_id}/check", json={}, headers={"Authorization": f"Bearer {secret}"}
                    )
                if answer.status_code != 200:
                    raise SystemExit(f"check-off answered {answer.status_code}: {answer.text[:300]}")
                costs.append(counted.cost)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    return costs


def round_ids(session: Session, *, slug: str, count: int) -> list[int]:
    """``count`` fresh blocking items spread over LAUNCHES_PER_ROUND launches and interleaved, so
    consecutive check-offs land in different regions (as on a working day, not one hot row)."""
    per_launch = max(1, count // LAUNCHES_PER_ROUND)
    shares = [gated_launch(session, slug=f"{slug}-{n}", items=per_launch) for n in range(LAUNCHES_PER_ROUND)]
    return [item for group in zip(*shares, strict=True) for item in group]


@dataclass(frozen=True)
class Measured:
    per_second: float
    answered: int  # 2xx answers
    cpu_ms: float  # server CPU per request


def drive(
    base: str, *, path: str, ids: list[int], authorization: str, fresh: bool, args: argparse.Namespace
) -> Measured:
    """POST ``path`` once per id with the chosen generator; refuses to report a round that got
    anything but 2xx answers, or (``fresh``: each id may be used once) ran out of ids."""
    used = server_cpu_seconds(base)
    if args.generator == "wrk":
        ids_file = Path(tempfile.mkstemp(prefix="bench-ids-", suffix=".txt")[1])
        ids_file.write_text("\n".join(map(str, ids)) + "\n")
        result = run_wrk(
            base,
            script="checkoff.lua",
            seconds=args.seconds,
            connections=args.concurrency,
            threads=WRK_THREADS,
            env={"IDS_FILE": str(ids_file), "PATH_FORMAT": path.replace("{}", "%s"), "AUTHORIZATION": authorization},
        )
        ids_file.unlink()
        if fresh and result.exhausted:
            raise SystemExit(f"{path}: wrk ran out of item ids ({len(ids)}); raise --items-per-round")
        if result.non_2xx or result.socket_errors:
            raise SystemExit(f"{path}: {result.non_2xx} non-2xx answers, {result.socket_errors} socket errors")
        rate, answered = result.per_second, result.requests
    else:
        headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})
        requests = [lambda item=item: HttpRequest("POST", path.format(item), headers, b"{}") for item in ids]
        raw = load(base, requests, concurrency=args.concurrency)
        if set(raw.statuses) != {200}:
            raise SystemExit(f"{path}: unexpected answers {raw.statuses}")
        rate, answered = raw.per_second, len(raw.latencies)
    return Measured(per_second=rate, answered=answered, cpu_ms=1000 * (server_cpu_seconds(base) - used) / answered)


def nothing_lost(engine: Engine, ids: list[int], answered: int, in_flight: int) -> None:
    """Every 2xx check-off is in the database as a done item with exactly one audit event. wrk stops
    counting at its deadline with up to one request per connection still in flight, which the
    server completes: up to ``in_flight`` more items may be done than were counted. Both counts
    come from one statement (one snapshot): those check-offs may commit between two reads."""
    done = (
        select(func.count())
        .select_from(ChecklistItem)
        .where(col(ChecklistItem.id).in_(ids), ChecklistItem.status == ItemStatus.DONE)
        .scalar_subquery()
    )
    events = (
        select(func.count())
        .select_from(AuditEvent)
        .where(col(AuditEvent.entity_id).in_(ids), AuditEvent.entity == "item", AuditEvent.action == "item.checked")
        .scalar_subquery()
    )
    with Session(engine) as session:
        done_count, event_count = session.exec(select(done, events)).one()
    if done_count != event_count or not answered <= done_count <= answered + in_flight:
        raise SystemExit(f"{answered} check-offs answered 2xx, {done_count} items done, {event_count} audit events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of a round (wrk)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=20, help="connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for both servers")
    parser.add_argument("--items-per-round", type=int, default=8000, help="fresh items seeded per round")
    parser.add_argument(
        "--generator",
        choices=("wrk", "raw"),
        default="wrk",
        help="wrk (default), or benchmarks/_rawload.py (sends each item once; no --seconds)",
    )
    args = parser.parse_args()
    if args.generator == "wrk" and shutil.which("wrk") is None:
        raise WrkMissing()
    print(f"machine: {machine()}")
    logs = Path(tempfile.mkdtemp(prefix="bench-checkoff-"))
    with throwaway_postgres() as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            token = seed_directory(session)
            counted = gated_launch(session, slug="bench-counted", items=3)
            # round 0 warms the servers up and is not counted
            rounds = [
                round_ids(session, slug=f"bench-{index}", count=args.items_per_round)
                for index in range(args.rounds + 1)
            ]
        typical, _, last = sql_per_checkoff(engine, token, counted)
        env = {"LAUNCHDECK_DATABASE_URL": url}
        authorization = f"Bearer {token}"
        with (
            uvicorn_process(
                "benchmarks._bare_app:create_app", env=env, log=logs / "bare.log", workers=args.workers
            ) as bare,
            uvicorn_process("api.app:serving_app", env=env, log=logs / "api.log", workers=args.workers) as real,
        ):
            figures: dict[str, list[Measured]] = {kind: [] for kind in LABELS}
            for round_index, ids in enumerate(rounds):
                for kind, base, path, auth in (
                    ("bare_async", bare, "/items/{}/check-async", ""),
                    ("bare", bare, "/items/{}/check", ""),
                    ("read", bare, "/items/{}/read", ""),
                    ("one_trip", bare, "/items/{}/one-round-trip", ""),
                    ("writes", bare, "/items/{}/writes", ""),
                    ("writes_tx", bare, "/items/{}/writes-in-transaction", ""),
                    ("real", real, "/api/v1/items/{}/check", authorization),
                    ("floor", bare, "/items/{}/floor", ""),
                ):
                    measured = drive(base, path=path, ids=ids, authorization=auth, fresh=kind == "real", args=args)
                    if kind == "real":
                        nothing_lost(engine, ids, measured.answered, in_flight=args.concurrency)
                    if round_index > 0:
                        figures[kind].append(measured)
        engine.dispose()
    bare_rate = statistics.median(m.per_second for m in figures[BASELINE])
    floor_rate = statistics.median(m.per_second for m in figures["floor"])
    rows = []
    for kind, label in LABELS.items():
        rate = statistics.median(m.per_second for m in figures[kind])
        cpu = statistics.median(m.cpu_ms for m in figures[kind])
        rows.append([label, f"{rate:.0f}", f"{rate / bare_rate:.2f}", f"{rate / floor_rate:.2f}", f"{cpu:.2f}"])
    generator = f"wrk, {WRK_THREADS} threads, {args.seconds:g} s" if args.generator == "wrk" else "_rawload"
    print(
        f"{args.rounds} rounds, {args.concurrency} connections ({generator}), "
        f"uvicorn ({args.workers} process(es) each) on loopback, PostgreSQL; medians of the rounds"
    )
    print(table(["endpoint", "req/s", "ratio to bare async", "ratio to floor", "server CPU ms per request"], rows))
    print(
        "per round, check-off / floor req/s: "
        + ", ".join(
            f"{real.per_second:.0f} / {floor.per_second:.0f} = {real.per_second / floor.per_second:.2f}"
            for real, floor in zip(figures["real"], figures["floor"], strict=True)
        )
    )
    print(
        f"SQL per check-off: {typical.statements} statements, {typical.transactions} transaction(s), "
        f"{typical.checkouts} pool checkout(s) = {typical.round_trips} PostgreSQL round trips; "
        f"the check-off that passes the gate: {last.statements} statements, {last.round_trips} round trips"
    )
    print(f"floor: {FLOOR_ROUND_TRIPS} round trips per request")
    print("every 2xx check-off is one done item with one audit event: checked after each round")
    real_rate = statistics.median(m.per_second for m in figures["real"])
    ratio = real_rate / floor_rate
    verdict = "met" if ratio >= FLOOR_GOAL else "NOT met"
    print(f"goal (issue #21): check-off at least {FLOOR_GOAL:.2f} of the floor: {verdict} ({ratio:.2f})")
    sync_rate = statistics.median(m.per_second for m in figures["bare"])
    for name, rate in (("async (like for like)", bare_rate), ("sync", sync_rate)):
        ratio = real_rate / rate
        verdict = "met" if ratio >= 0.5 else "NOT met"
        print(f"goal: check-off at least 0.50 of the bare endpoint, {name}: {verdict} ({ratio:.2f})")


if __name__ == "__main__":
    main()
