"""The dashboard's change marker as the audit table grows: the portfolio cache reads it on every
request, cache hit or not (api/portfolio_cache.py), and the audit table only ever grows.

Why it matters: the marker used to count every audit event, a cost that rises with each
check-off ever made; it now looks at a window of the newest ids (orchestrator/dashboard.py,
``change_marker``). This prints both at 10 thousand, 100 thousand and a million events, on SQLite
and PostgreSQL, as ratios to the whole-table count at the smallest size in the same run.

    .venv/bin/python -m benchmarks.change_marker [--repeat 30] [--largest 1000000]

PostgreSQL: a throwaway database on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL to change it).
The events are bulk-inserted in SQL; each timing is the median of ``--repeat`` reads in a new
session (a pooled connection, as the app reads it).
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

from sqlalchemy import Engine, func, text
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from benchmarks._harness import machine, table, throwaway_postgres
from orchestrator.core.db import make_engine
from orchestrator.core.migrate import upgrade
from orchestrator.core.models import AuditEvent
from orchestrator.reporting.portfolio import change_marker

_NUMBERS = {
    "sqlite": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :count) SELECT x FROM n",
    "postgresql": "SELECT x FROM generate_series(1, :count) AS n(x)",
}


def whole_table_count(*, session: Session) -> tuple[int, int]:
    """The marker as it was: every event counted."""
    count, newest = session.execute(select_columns(func.count(col(AuditEvent.id)), func.max(col(AuditEvent.id)))).one()
    return int(count), int(newest or 0)


def add_events(engine: Engine, count: int) -> None:
    numbers = _NUMBERS[engine.dialect.name]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO auditevent (entity, entity_id, action, actor, source, at) "
                f"SELECT 'item', x, 'item.checked', 'bench', 'api', CURRENT_TIMESTAMP FROM ({numbers}) AS numbers"
            ),
            {"count": count},
        )
        connection.execute(text("ANALYZE auditevent" if engine.dialect.name == "postgresql" else "ANALYZE"))


def median_ms(engine: Engine, read: Callable[..., tuple[int, int]], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        with Session(engine) as session:
            started = time.perf_counter()
            read(session=session)
            timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings)


def measure(engine: Engine, sizes: list[int], repeat: int) -> list[tuple[int, float, float]]:
    upgrade(engine)
    rows, total = [], 0
    for size in sizes:
        add_events(engine, size - total)
        total = size
        rows.append((size, median_ms(engine, whole_table_count, repeat), median_ms(engine, change_marker, repeat)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--largest", type=int, default=1_000_000)
    args = parser.parse_args()
    sizes = [size for size in (10_000, 100_000, 1_000_000) if size < args.largest] + [args.largest]
    print(f"machine: {machine()}")
    results: dict[str, list[tuple[int, float, float]]] = {}
    with tempfile.TemporaryDirectory() as directory:
        sqlite = make_engine(f"sqlite:///{directory}/marker.db")
        results["SQLite"] = measure(sqlite, sizes, args.repeat)
        sqlite.dispose()
    with throwaway_postgres() as url:
        postgres = make_engine(url)
        results["PostgreSQL"] = measure(postgres, sizes, args.repeat)
        postgres.dispose()
    rows = []
    for backend, measured in results.items():
        baseline = measured[0][1]
        for size, whole, window in measured:
            rows.append(
                [
                    backend,
                    f"{size:,}",
                    f"{whole:.2f} ({whole / baseline:.1f}x)",
                    f"{window:.2f} ({window / baseline:.1f}x)",
                ]
            )
    print(f"median of {args.repeat} reads, ms (ratio to the whole-table count at {sizes[0]:,} events, same backend)")
    print(table(["backend", "audit events", "whole-table count (before)", "window marker (now)"], rows))


if __name__ == "__main__":
    main()
