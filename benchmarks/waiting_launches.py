"""Launches waiting at gates: 10, 1,000, 10,000 and 100,000 at once on one Prefect server and one
PostgreSQL. What it shows: nothing is held per waiting launch (no process, no Prefect flow run),
memory stays flat (a worker's, and the sweeping process's), and one full sweep over all of them
stays short (goal, issue #21: at most 1 s at 100,000).

The sweep is the safety net: the worker's pass (`Worker.run_once`: the due-work query, exposure
deliveries, notification dispatch, Prefect events) plus the overdue-reminder scan over every
item's due date. Baseline: the same at 10 launches, in the same run.

    .venv/bin/python -m benchmarks.waiting_launches [--sizes 10,1000,10000,100000] [--passes 7]

Seeding: one launch is made through the real services (kicked off, waiting at its internal gate on
a blocking item and a phase date 30 days out), then copied N-1 times with one INSERT ... SELECT
per table (ids offset, slugs and outbox keys suffixed; set-based, one statement per table, so
100,000 take about a minute, not a day). Their notifications and events count as delivered long
ago (steady state).

Memory: at each size a fresh `launchdeck worker` runs against the database for ``--worker-seconds``
(its passes every 0.5 s, woken by commits too) while the sweeps are timed; its RSS is read at the
end, so every size compares a worker that did the same thing for as long. The sweeping process's
own RSS is read before and after its sweeps at each size.

Needs PostgreSQL on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL); starts a throwaway local
Prefect server (about 20 s) unless PREFECT_API_URL is set, and a real `launchdeck worker`.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, text
from sqlmodel import Session, SQLModel, select

from benchmarks._harness import local_prefect, machine, table, throwaway_postgres
from benchmarks._seed import ACTOR, gated_launch, seed_directory

# Tables holding one launch's rows, copied with it; directory tables (teams, regions) are shared.
LAUNCH_TABLES = (
    "launch",
    "regionrollout",
    "phasedate",
    "phasedatechange",
    "gate",
    "checklistitem",
    "waiver",
    "decision",
    "auditevent",
    "outbox",
)
SUFFIXED = {("launch", "slug"): "-c", ("outbox", "key"): "/c"}  # unique text columns


def template_strides(engine: Engine) -> dict[str, int]:
    """Each launch table's highest id while it holds only the template; copy k offsets ids by k
    times this, so copies never collide with each other or the template."""
    with engine.connect() as connection:
        return {
            name: int(connection.execute(text(f'SELECT coalesce(max(id), 0) FROM "{name}"')).scalar_one())
            for name in LAUNCH_TABLES
        }


def copy_launches(engine: Engine, strides: dict[str, int], first: int, last: int) -> None:
    """Copies ``first``..``last`` (inclusive) of the template launch and everything hanging off it."""
    with engine.begin() as connection:
        for name in LAUNCH_TABLES:
            table_ = SQLModel.metadata.tables[name]
            if strides[name] == 0 or last < first:
                continue
            columns, values = [], []
            for column in table_.columns:
                columns.append(f'"{column.name}"')
                references = {fk.column.table.name for fk in column.foreign_keys} & set(LAUNCH_TABLES)
                if column.primary_key:
                    values.append(f't."{column.name}" + k * {strides[name]}')
                elif references:
                    (target,) = references
                    values.append(f't."{column.name}" + k * {strides[target]}')
                elif (name, column.name) in SUFFIXED:
                    values.append(f"t.\"{column.name}\" || '{SUFFIXED[name, column.name]}' || k")
                else:
                    values.append(f't."{column.name}"')
            conditions = [f"t.id <= {strides[name]}"]
            if name in ("auditevent", "outbox"):
                conditions.append("t.launch_id IS NOT NULL")  # the directory seed's events stay single
            connection.execute(
                text(
                    f'INSERT INTO "{name}" ({", ".join(columns)}) SELECT {", ".join(values)} '
                    f'FROM "{name}" t CROSS JOIN generate_series({first}, {last}) AS k '
                    f"WHERE {' AND '.join(conditions)}"
                )
            )
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT max(id) FROM \"{name}\"))")
            )
        connection.execute(text("UPDATE outbox SET status = 'sent' WHERE status = 'pending'"))
        connection.execute(
            text(
                "INSERT INTO deliverycursor (name, last_outbox_id, updated_at) "
                "SELECT 'prefect-events', max(id), now() FROM outbox "
                "ON CONFLICT (name) DO UPDATE SET last_outbox_id = excluded.last_outbox_id"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> int:
    """Processes whose parent is ``pid`` (a per-launch process would show here)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        count += int(fields[1]) == pid
    return count


def flow_runs() -> int:
    import asyncio

    from prefect.client.orchestration import get_client

    async def count() -> int:
        async with get_client() as client:
            return int(await client.count_flow_runs())

    return asyncio.run(count())


def sweep_once(engine: Engine) -> tuple[float, float]:
    """One full sweep in this process; returns (worker pass, reminder scan) in seconds."""
    from flows.worker import Worker
    from orchestrator.core.clock import utcnow
    from orchestrator.items.reminders import queue_overdue_reminders

    started = time.perf_counter()
    Worker(name="bench-sweep", publish_events=True).run_once()
    passed = time.perf_counter()
    with Session(engine) as session:
        queue_overdue_reminders(
            session=session,
            now=utcnow(),
            remind_every=timedelta(hours=24),
            escalate_after=timedelta(days=3),
            actor=ACTOR,
        )
    return passed - started, time.perf_counter() - passed


def start_worker(log: Path) -> subprocess.Popen[bytes]:
    """A `launchdeck worker` on the benchmark's database, once it says it is polling."""
    with log.open("ab") as sink:
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "launchdeck"), "worker", "--name", "bench"],
            env={**os.environ, "LAUNCHDECK_WORKER_POLL_SECONDS": "0.5"},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "polling every" not in log.read_text(errors="replace"):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start; see {log}")
        time.sleep(0.1)
    return worker


@dataclass(frozen=True)
class Size:
    launches: int
    worker_pass: float  # seconds, median
    reminders: float  # seconds, median
    rss_before: float  # MB, the sweeping process
    rss_after: float
    worker_rss: float
    worker_children: int
    flow_runs: int

    @property
    def sweep(self) -> float:
        return self.worker_pass + self.reminders


def measure_size(engine: Engine, *, passes: int, worker_seconds: float, log: Path) -> Size:
    """Sweeps timed in this process while a fresh worker runs for ``worker_seconds``."""
    with Session(engine) as session:
        launches = session.exec(select(func.count()).select_from(text("launch"))).one()
    worker = start_worker(log)
    try:
        started = time.monotonic()
        runs_before = flow_runs()
        rss_before = rss_mb(os.getpid())
        for _ in range(2):  # warm: first use of each statement, the events client
            sweep_once(engine)
        measured = [sweep_once(engine) for _ in range(passes)]
        rss_after = rss_mb(os.getpid())
        time.sleep(max(0.0, worker_seconds - (time.monotonic() - started)))
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited; see {log}")
        worker_rss, worker_children = rss_mb(worker.pid), children(worker.pid)
        new_runs = flow_runs() - runs_before
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return Size(
        launches=launches,
        worker_pass=statistics.median(one[0] for one in measured),
        reminders=statistics.median(one[1] for one in measured),
        rss_before=rss_before,
        rss_after=rss_after,
        worker_rss=worker_rss,
        worker_children=worker_children,
        flow_runs=new_runs,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,1000,10000,100000")
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument("--worker-seconds", type=float, default=10.0, help="how long each size's worker runs")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"machine: {machine()}")
    home = Path(tempfile.mkdtemp(prefix="bench-waiting-"))
    rows: list[list[str]] = []
    with local_prefect(home), throwaway_postgres() as url:
        os.environ["LAUNCHDECK_DATABASE_URL"] = url
        from orchestrator.core.db import make_engine
        from orchestrator.core.settings import reset_settings

        reset_settings()
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            seed_directory(session)
            gated_launch(session, slug="waiting", items=3, internal_in_days=30)
        strides = template_strides(engine)
        copy_launches(engine, strides, 1, 0)  # no copies yet; marks the template's intents delivered
        have = 1
        baseline: float | None = None
        for size in sizes:
            if size > have:
                seeding = time.perf_counter()
                copy_launches(engine, strides, have, size - 1)
                print(f"  seeded {size - have:,} launches in {time.perf_counter() - seeding:.1f} s", flush=True)
                have = size
            one = measure_size(
                engine, passes=args.passes, worker_seconds=args.worker_seconds, log=home / f"worker-{size}.log"
            )
            total = one.sweep
            baseline = baseline or total
            rows.append(
                [
                    f"{one.launches:,}",
                    f"{one.worker_pass * 1000:.0f} ms",
                    f"{one.reminders * 1000:.0f} ms",
                    f"{total * 1000:.0f} ms",
                    f"{total / baseline:.2f}",
                    f"{one.rss_before:.0f} -> {one.rss_after:.0f} MB",
                    f"{one.worker_rss:.0f} MB",
                    str(one.worker_children),
                    str(one.flow_runs),
                ]
            )
            print(f"  {one.launches} launches: sweep {total * 1000:.0f} ms", flush=True)
        engine.dispose()
    print(
        f"median of {args.passes} sweeps per size; at each size a fresh `launchdeck worker` (poll 0.5 s, "
        f"woken by commits) ran for {args.worker_seconds:g} s meanwhile"
    )
    header = [
        "launches waiting",
        "worker pass",
        "reminder scan",
        "full sweep",
        "ratio",
        "sweeping process RSS before -> after",
        "worker RSS",
        "worker child processes",
        "Prefect flow runs",
    ]
    print(table(header, rows))
    print(f"goal: full sweep at the largest size at most 1 s: {'met' if rows and total <= 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
