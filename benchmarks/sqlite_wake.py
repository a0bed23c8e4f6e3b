"""How a worker on SQLite best hears of a commit: the wake latency (commit to callback) and the
idle cost of each way, on one SQLite file, in one process (a writer thread and a watcher thread).

- ``PRAGMA data_version`` read every 5, 10 or 20 ms on the watcher's own connection (what
  `orchestrator/core/wake.py` does, at 10 ms): no writer takes part.
- A UDP datagram on loopback sent by the writer after its commit, read by a blocking receiver:
  the writer must take part (a hook after every commit, and the address of every worker).
- Polling only (the worker's loop as before #21): a cheap query every 0.5 s.

Idle cost: the CPU time the process spends over ``--idle`` seconds with only the watcher running,
as a share of one core.

    .venv/bin/python -m benchmarks.sqlite_wake [--commits 40] [--idle 5]
"""

import argparse
import random
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import Session

from benchmarks._harness import machine, percentile, table
from orchestrator.core import wake
from orchestrator.core.db import make_engine
from orchestrator.core.migrate import upgrade
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction

Watcher = Callable[[Engine, Callable[[], None], threading.Event], None]


def commit_one(engine: Engine) -> None:
    with Session(engine) as session, transaction(session):
        enqueue(session, key=f"wake-{uuid.uuid4().hex}", topic=Topic.ROLLOUT_READY, launch_id=None, payload={})


def data_version_every(seconds: float) -> Watcher:
    def watch(engine: Engine, heard: Callable[[], None], stop: threading.Event) -> None:
        wake.SQLITE_CHECK_SECONDS = seconds
        wake.listen(engine, on_wake=lambda _topic: heard(), stop=stop)

    return watch


def poll_every(seconds: float) -> Watcher:
    def watch(engine: Engine, heard: Callable[[], None], stop: threading.Event) -> None:
        with engine.connect() as connection:
            seen = connection.execute(text("SELECT max(id) FROM outbox")).scalar()
            connection.commit()
            while not stop.wait(seconds):
                now = connection.execute(text("SELECT max(id) FROM outbox")).scalar()
                connection.commit()
                if now != seen:
                    seen = now
                    heard()

    return watch


def measure(
    engine: Engine, watcher: Watcher, *, commits: int, idle: float, after_commit: Callable[[], object] | None = None
) -> tuple[list[float], float]:
    """Wake latencies (s) over ``commits`` commits at random gaps, and the idle CPU share."""
    heard_at: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=watcher, args=(engine, lambda: heard_at.append(time.perf_counter()), stop))
    thread.start()
    time.sleep(0.5)  # connected, its first wake given
    heard_at.clear()
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    time.sleep(idle)
    idle_share = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    latencies = []
    rng = random.Random(21)
    for _ in range(commits):
        heard_at.clear()
        commit_one(engine)
        committed = time.perf_counter()
        if after_commit is not None:
            after_commit()
        while not heard_at:
            if time.perf_counter() - committed > 5:
                raise SystemExit("no wake within 5 s")
            time.sleep(0.0005)
        latencies.append(heard_at[0] - committed)
        time.sleep(rng.uniform(0.02, 0.52))  # commits land anywhere in a 0.5 s poll's period
    stop.set()
    thread.join()
    return latencies, idle_share


def udp(engine: Engine, *, commits: int, idle: float) -> tuple[list[float], float]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(0.2)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = receiver.getsockname()

    def watch(_engine: Engine, heard: Callable[[], None], stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                receiver.recv(64)
            except TimeoutError:
                continue
            heard()

    try:
        return measure(engine, watch, commits=commits, idle=idle, after_commit=lambda: sender.sendto(b"w", address))
    finally:
        receiver.close()
        sender.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=40)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    path = Path(tempfile.mkdtemp(prefix="bench-sqlite-wake-")) / "launchdeck.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)

    def data_version(ms: int) -> tuple[list[float], float]:
        return measure(engine, data_version_every(ms / 1000), commits=args.commits, idle=args.idle)

    ways: list[tuple[str, str, Callable[[], tuple[list[float], float]]]] = [
        ("data_version every 5 ms", "no", lambda: data_version(5)),
        ("data_version every 10 ms (chosen)", "no", lambda: data_version(10)),
        ("data_version every 20 ms", "no", lambda: data_version(20)),
        ("UDP datagram on loopback after commit", "yes", lambda: udp(engine, commits=args.commits, idle=args.idle)),
        (
            "poll only, every 0.5 s (before #21)",
            "no",
            lambda: measure(engine, poll_every(0.5), commits=args.commits, idle=args.idle),
        ),
    ]
    rows = []
    for label, writers, run in ways:
        latencies, idle_share = run()
        rows.append(
            [
                label,
                f"{statistics.median(latencies) * 1000:.2f} ms",
                f"{percentile(latencies, 95) * 1000:.2f} ms",
                f"{idle_share * 100:.2f}%",
                writers,
            ]
        )
    engine.dispose()
    print(table(["way", "wake latency median", "p95", "idle CPU (one core)", "writers must take part"], rows))


if __name__ == "__main__":
    main()
