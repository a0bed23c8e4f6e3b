"""Dashboard speed at portfolio scale: 200 active launches x 4 regions x 4 phases x 40 items.

Why it matters: leadership opens the portfolio from a Slack link; it must answer at once however
many launches are running, and its cost must not grow per launch (no N+1 queries). Prints p50/p95
of the portfolio and a launch page against /healthz on the same server (ratios), and the SQL
statements each page runs at 20 and at 200 launches.

    .venv/bin/python benchmarks/dashboard.py [--launches 200] [--requests 100] [--postgres]

SQLite (a temporary file) by default; --postgres uses a throwaway database on the PostgreSQL at
127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL to point elsewhere). The data is bulk-inserted
(not through the services) so seeding takes seconds; ~25% of the items are done, each with the
audit event a check-off writes, so the burndown has history to rebuild.
"""

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from api.app import create_app
from flows.server import free_port
from orchestrator.core.actors import Actor
from orchestrator.core.db import make_engine
from orchestrator.core.enums import GateKind, GateStatus, ItemStatus, LaunchStatus, Phase, Role, RolloutState, Source
from orchestrator.core.migrate import upgrade
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Launch, PhaseDate, Region, RegionRollout, Team
from orchestrator.directory.seed import load_seed
from orchestrator.directory.service import apply_seed
from orchestrator.directory.tokens import create_token

REGIONS = ("APAC", "EU", "LATAM", "NA")
ITEMS_PER_PHASE = 40  # per region and phase: 160 per region, 640 per launch
ACTOR = Actor(name="bench@example.com", source=Source.CLI)
NOW = datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=200)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with database(postgres=args.postgres) as url:
        run(url, launches=args.launches, requests=args.requests)


@contextmanager
def database(*, postgres: bool) -> Iterator[str]:
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        return
    admin_url = os.environ.get("LAUNCHDECK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"launchdeck_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url: str, *, launches: int, requests: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        apply_seed(session=session, config=load_seed(None), actor=ACTOR)
        _token, secret = create_token(session=session, name="bench", role=Role.LEADERSHIP, actor=ACTOR)
    started = time.perf_counter()
    first = min(20, launches)
    seed_launches(engine, start=0, count=first)
    counts = {first: count_queries(engine, secret)}
    seed_launches(engine, start=first, count=launches - first)
    settle(engine)
    counts[launches] = count_queries(engine, secret)
    print(
        f"seeded {launches} launches x {len(REGIONS)} regions x 4 phases x {ITEMS_PER_PHASE} items "
        f"({launches * len(REGIONS) * ITEMS_PER_PHASE * 4} items) on {engine.dialect.name} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    engine.dispose()
    print("\nSQL statements per page (sign-in check included)")
    print("| launches | portfolio | launch page |\n| --- | --- | --- |")
    for size, (portfolio, launch) in counts.items():
        print(f"| {size} | {portfolio} | {launch} |")
    pages = {
        "/healthz (baseline)": "/healthz",
        f"portfolio ({launches} launches)": "/dashboard/",
        f"launch page ({len(REGIONS) * 4 * ITEMS_PER_PHASE} items)": "/dashboard/launches/bench-0001",
    }
    timings = time_pages(url, secret, requests=requests, pages=pages, env={})
    cold = time_pages(
        url,
        secret,
        requests=requests,
        pages={"portfolio, reuse off (recomputed every request)": "/dashboard/"},
        env={"LAUNCHDECK_DASHBOARD_CACHE_SECONDS": "0"},
    )
    base = percentile(timings["/healthz (baseline)"], 95)
    print(f"\n{requests} sequential requests per page, one uvicorn process (launchdeck serve)")
    print("| page | p50 | p95 | p95 ratio to baseline |\n| --- | --- | --- | --- |")
    for name, samples in {**timings, **cold}.items():
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {p95 / base:.1f} |")


def settle(engine: Engine) -> None:
    """Bring a freshly bulk-loaded database to the state a running one is in: planner statistics,
    and on PostgreSQL the visibility map that autovacuum keeps, without which index-only scans
    fetch every heap row (measured: the per-region counts take 45-67 ms just after the load,
    22 ms once vacuumed)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def seed_launches(engine: Engine, *, start: int, count: int) -> None:
    """Launches, rollouts, phase dates, gates and items as bulk inserts, one transaction per launch batch."""
    rng = random.Random(start)
    with Session(engine) as session:
        regions = {code: region_id for code, region_id in session.execute(select(col(Region.code), col(Region.id)))}
        teams = [team_id for (team_id,) in session.execute(select(col(Team.id)).order_by(col(Team.id)))]
        for number in range(start, start + count):
            launch_id = session.execute(
                insert(Launch).returning(col(Launch.id)),
                [
                    {
                        "slug": f"bench-{number:04d}",
                        "name": f"Bench launch {number}",
                        "tier": 1 + number % 3,
                        "status": LaunchStatus.ACTIVE,
                        "owner": "owner@example.com",
                        "flags": [],
                        "ramp_plan": {},
                        "created_at": NOW - timedelta(days=30),
                        "updated_at": NOW,
                    }
                ],
            ).scalar_one()
            for code in REGIONS:
                rollout_id = session.execute(
                    insert(RegionRollout).returning(col(RegionRollout.id)),
                    [
                        {
                            "launch_id": launch_id,
                            "region_id": regions[code],
                            "state": RolloutState.GATED,
                            "phase": Phase.INTERNAL,
                            "updated_at": NOW,
                        }
                    ],
                ).scalar_one()
                items: list[dict[str, Any]] = []
                for index, phase in enumerate(Phase.ordered()):
                    at = NOW + timedelta(days=7 + 21 * index + number % 10)
                    slip = timedelta(days=rng.choice((0, 0, 0, 3, 9)))
                    session.execute(
                        insert(PhaseDate),
                        [{"rollout_id": rollout_id, "phase": phase, "baseline_at": at, "current_at": at + slip}],
                    )
                    session.execute(
                        insert(Gate),
                        [
                            {
                                "rollout_id": rollout_id,
                                "phase": phase,
                                "kind": kind,
                                "status": GateStatus.OPEN if index == 0 else GateStatus.PENDING,
                                "approvers": [],
                                "version": 1,
                            }
                            for kind in (GateKind.CHECKLIST, GateKind.TIME)
                        ],
                    )
                    for key in range(ITEMS_PER_PHASE):
                        done = (index == 0 and rng.random() < 0.6) or rng.random() < 0.1
                        items.append(
                            {
                                "launch_id": launch_id,
                                "rollout_id": rollout_id,
                                "phase": phase,
                                "key": f"item_{key}",
                                "title": f"Item {key} for {phase.value}",
                                "description": "",
                                "owner_team_id": teams[key % len(teams)],
                                "due_at": at - timedelta(days=rng.randint(-2, 14)),
                                "blocking": key % 3 != 0,
                                "evidence_required": False,
                                "depends_on": [],
                                "status": ItemStatus.DONE if done else ItemStatus.TODO,
                                "checked_by": "someone@example.com" if done else None,
                                "checked_at": NOW - timedelta(days=rng.randint(0, 20)) if done else None,
                                "reminders_sent": 0,
                                "version": 2 if done else 1,
                                "updated_at": NOW,
                            }
                        )
                ids = session.execute(
                    insert(ChecklistItem).returning(col(ChecklistItem.id), col(ChecklistItem.checked_at)), items
                )
                events = [
                    {
                        "launch_id": launch_id,
                        "entity": "item",
                        "entity_id": item_id,
                        "action": "item.checked",
                        "actor": "someone@example.com",
                        "source": Source.SLACK,
                        "before": {"status": "todo"},
                        "after": {"status": "done"},
                        "at": checked_at,
                    }
                    for item_id, checked_at in ids
                    if checked_at is not None
                ]
                if events:
                    session.execute(insert(AuditEvent), events)
            session.commit()


@contextmanager
def serving_in_process(engine: Engine) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine=engine), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_answering(base)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def count_queries(engine: Engine, secret: str) -> tuple[int, int]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with serving_in_process(engine) as base, signed_in(base, secret) as client:
        sizes = []
        for path in ("/dashboard/", "/dashboard/launches/bench-0001"):
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                answer = client.get(path)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert answer.status_code == 200, answer.text[:500]
            sizes.append(len(statements))
    return sizes[0], sizes[1]


@contextmanager
def signed_in(base: str, secret: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/login")  # the form sets the CSRF cookie its field is signed against
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None, "the sign-in form has no CSRF field"
        answer = client.post("/login", data={"token": secret, "csrf": csrf.group(1)})
        assert answer.status_code == 303, answer.text[:500]
        yield client


def time_pages(
    url: str, secret: str, *, requests: int, pages: dict[str, str], env: dict[str, str]
) -> dict[str, list[float]]:
    """Time the pages against a separate `launchdeck serve` process, so the client's own Python
    does not share the server's interpreter."""
    port = free_port()
    env = {**os.environ, **env, "LAUNCHDECK_DATABASE_URL": url}
    launchdeck = str(Path(sys.executable).parent / "launchdeck")
    server = subprocess.Popen(
        [launchdeck, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_answering(base)
        with signed_in(base, secret) as client:
            timings: dict[str, list[float]] = {}
            for name, path in pages.items():
                for _ in range(5):  # warm up: templates compiled, connections pooled
                    client.get(path)
                samples = []
                for _ in range(requests):
                    began = time.perf_counter()
                    answer = client.get(path)
                    samples.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 200, answer.text[:300]
                timings[name] = samples
            return timings
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_answering(base: str, deadline_seconds: float = 60) -> None:
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the API at {base} did not answer within {deadline_seconds:g} s")
        time.sleep(0.1)


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


if __name__ == "__main__":
    main()
