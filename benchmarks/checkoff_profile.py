"""Where a check-off's server CPU goes: py-spy samples the API process (one uvicorn process, as in
`checkoff_throughput.py`) while wrk drives `POST /api/v1/items/{id}/check` at fresh items, and the
samples (threads holding the GIL, `py-spy --gil`) are summed by the frames they pass through.

Why: the throughput goal is set against a floor on raw asyncpg (`_bare_app.py`, ``/floor``), and
what separates the check-off from it is CPU in this process, not round trips alone.

    .venv/bin/python -m benchmarks.checkoff_profile [--seconds 8] [--floor]

Needs py-spy (`.venv/bin/pip install py-spy`), wrk and PostgreSQL on 127.0.0.1:5432 (makes and
drops its own database). ``--floor`` profiles the floor endpoint instead. Run it under the
benchmark lock (it loads both cores).
"""

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlmodel import Session

from benchmarks._harness import _SERVER_PIDS, machine, throwaway_postgres, uvicorn_process
from benchmarks._seed import gated_launch, seed_directory
from benchmarks._wrk import run_wrk
from orchestrator.core.db import make_engine

WARM_ITEMS = 2000  # the warm-up's own items: the sampled run checks only fresh ones

# Frames worth a line of their own: (label, substring of "function (file)").
BUCKETS = (
    ("uvicorn: HTTP parsing and answer (h11 / httptools protocol)", "uvicorn/protocols/http"),
    ("asyncio event loop itself (select, callbacks)", "asyncio/base_events.py"),
    ("socket sends and receives", "selector_events.py"),
    ("FastAPI: request handling (routing, dependencies, body)", "fastapi/routing.py"),
    ("FastAPI: solve_dependencies", "solve_dependencies"),
    ("Starlette middleware stack", "starlette/middleware"),
    ("launchdeck idempotency middleware", "api/idempotency.py"),
    ("check-off route (_check_off)", "_check_off"),
    ("  token lookup (authenticate)", "authenticate"),
    ("  check_item service", "check_item"),
    ("    locked read (lock_item)", "lock_item"),
    ("    one write statement (change_and_record)", "change_and_record"),
    ("    transaction commit", "commit"),
    ("  answer (_answer: ItemOut, JSON)", "_answer"),
    ("SQLAlchemy: statement execution (_execute_context)", "_execute_context"),
    ("SQLAlchemy: ORM row loading (loading.py)", "orm/loading.py"),
    ("SQLAlchemy: compiled cache lookups (_compile_w_cache)", "_compile_w_cache"),
    ("SQLAlchemy asyncpg adapter (await_ / greenlet switches)", "_concurrency_py3k.py"),
    ("asyncpg protocol", "asyncpg"),
    ("AsyncSession (run_sync, close)", "ext/asyncio/session.py"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--floor", action="store_true", help="profile the floor endpoint instead")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    print(f"machine: {machine()}")
    logs = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    with throwaway_postgres() as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            token = seed_directory(session)
            shares = [gated_launch(session, slug=f"profile-{n}", items=args.items // 20) for n in range(20)]
        engine.dispose()
        ids = [item for group in zip(*shares, strict=True) for item in group]
        factory, path, auth = (
            ("benchmarks._bare_app:create_app", "/items/%s/floor", "")
            if args.floor
            else ("api.app:serving_app", "/api/v1/items/%s/check", f"Bearer {token}")
        )
        warm_file, ids_file = logs / "warm.txt", logs / "ids.txt"
        warm_file.write_text("\n".join(map(str, ids[-WARM_ITEMS:])) + "\n")  # each item checked once
        ids_file.write_text("\n".join(map(str, ids[:-WARM_ITEMS])) + "\n")
        with uvicorn_process(factory, env={"LAUNCHDECK_DATABASE_URL": url}, log=logs / "server.log") as base:
            env = {"IDS_FILE": str(warm_file), "PATH_FORMAT": path, "AUTHORIZATION": auth}
            run_wrk(base, script="checkoff.lua", seconds=2, connections=args.concurrency, threads=2, env=env)
            env["IDS_FILE"] = str(ids_file)
            raw = logs / "profile.txt"
            duration = str(int(args.seconds))
            command = [spy, "record", "--gil", "-r", "200", "-d", duration, "-p", str(_SERVER_PIDS[base])]
            recorder = subprocess.Popen([*command, "-f", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL)
            result = run_wrk(
                base, script="checkoff.lua", seconds=args.seconds, connections=args.concurrency, threads=2, env=env
            )
            recorder.wait(timeout=60)
    if result.exhausted or result.non_2xx:
        raise SystemExit(f"wrk ran out of items ({result.exhausted}) or got {result.non_2xx} non-2xx answers")
    print(f"{'floor' if args.floor else 'check-off'}: {result.per_second:.0f} req/s while sampled; stacks in {raw}")
    summarize(raw)


def summarize(raw: Path) -> None:
    """Share of samples passing through each bucket's frames (py-spy's raw format: one line per
    distinct stack, frames joined by ';', then the count)."""
    totals: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        weight = int(count)
        samples += weight
        leaves[stack.rpartition(";")[2]] += weight
        for label, needle in BUCKETS:
            if needle in stack:
                totals[label] += weight
    print(f"{samples} samples")
    for label, _needle in BUCKETS:
        print(f"| {label} | {100 * totals[label] / max(samples, 1):.1f}% |")
    print("functions with the most samples of their own:")
    for leaf, hits in leaves.most_common(15):
        print(f"  {100 * hits / samples:4.1f}% {leaf}")


if __name__ == "__main__":
    main()
