"""What the benchmark scripts share: a throwaway PostgreSQL database, uvicorn in its own process,
server CPU time, and percentiles (the load generators are in `_rawload` and `_wrk`).

Servers run in a child process so the load generator never shares the server's GIL; the baseline
app and the real app are started by the same function, so they get the same uvicorn settings.
"""

import math
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("LAUNCHDECK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def machine() -> str:
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    return f"{cores} cores, Python {sys.version.split()[0]}, 1-min load average at start {load:.1f}"


@contextmanager
def throwaway_database(prefix: str = "launchdeck_bench") -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the benchmark server, dropped (connections and all)
    afterwards; its SQLAlchemy URL with the admin URL's driver."""
    admin = make_url(ADMIN_URL)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    from orchestrator.core.db import make_engine
    from orchestrator.core.migrate import upgrade

    with throwaway_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


def free_port() -> int:
    from flows.server import free_port as pick

    return pick()


@contextmanager
def local_prefect(home: Path, *, on_postgres: bool = False) -> Iterator[None]:
    """A local Prefect server for one benchmark run (about 20 s to start), unless PREFECT_API_URL
    already names one; PREFECT_API_URL and PREFECT_HOME point at it for this process and its
    children, and it is stopped afterwards.

    ``on_postgres`` backs it with a throwaway PostgreSQL database instead of its default SQLite
    file: with several workers starting flow runs at once, SQLite's single writer stalls the
    server for seconds (database locked, retried), which would measure Prefect's SQLite, not us."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from flows.server import LocalPrefectServer

    with ExitStack() as stack:
        if on_postgres:
            url = make_url(stack.enter_context(throwaway_database("prefect_bench")))
            asyncpg = url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
            os.environ["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = (
                asyncpg  # a server setting; clients talk to PREFECT_API_URL
            )
            stack.callback(os.environ.pop, "PREFECT_SERVER_DATABASE_CONNECTION_URL", None)
        server = LocalPrefectServer(home=home / "prefect", port=free_port(), log_path=home / "server.log")
        server.start()
        stack.callback(server.stop)  # stopped before its database is dropped
        os.environ.update(
            PREFECT_API_URL=server.api_url, PREFECT_HOME=str(server.home), PREFECT_LOGGING_LEVEL="WARNING"
        )
        yield


_SERVER_PIDS: dict[str, int] = {}


def server_cpu_seconds(base: str) -> float:
    """CPU time (user + system) the server at ``base`` has used so far, from /proc (Linux).

    Requests per second move with whatever else the shared machine runs; the server's CPU time
    per request moves much less, so it says where a difference comes from."""
    return sum(_cpu_ticks(pid) for pid in _with_children(_SERVER_PIDS[base])) / os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def _with_children(pid: int) -> list[int]:
    """The server and its worker processes (``--workers N``), from /proc's children lists."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found.extend(_with_children(int(child)))
    return found


@contextmanager
def uvicorn_process(factory: str, *, env: dict[str, str], log: Path, workers: int = 1) -> Iterator[str]:
    """``factory`` served on a free loopback port the way `launchdeck serve` serves the API
    (`cli/serving.py`: uvicorn, default loop and HTTP parser, TCP_NODELAY; one process unless
    ``workers``, like `serve --workers`); yields the base URL once /healthz answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "cli.serving",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    with log.open("ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    _SERVER_PIDS[base] = process.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{factory} exited with {process.returncode}; see {log}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not answer /healthz within 60 s; see {log}")
            time.sleep(0.1)
        yield base
    finally:
        _SERVER_PIDS.pop(base, None)
        stop_process(process, grace_seconds=20)


def stop_process(process: subprocess.Popen[bytes], *, grace_seconds: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``grace_seconds``: a benchmark never
    leaves a server or worker behind, even one stuck in its shutdown."""
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, ready to paste into BENCHMARKS.md."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
