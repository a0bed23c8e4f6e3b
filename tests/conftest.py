"""Shared fixtures: real databases, migrated by Alembic exactly as production is.

``engine`` runs a test on a fresh SQLite file and on this machine's PostgreSQL. The test run makes
its own PostgreSQL database (``launchdeck_test_<random>``) and drops it at the end; each test starts
from empty tables. Set ``LAUNCHDECK_TEST_POSTGRES_URL=off`` to skip the PostgreSQL half. A test
marked ``one_database(reason=...)`` gets the SQLite half only (see ``pytest_generate_tests``).
"""

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from orchestrator.core.actors import Actor
from orchestrator.core.db import make_engine
from orchestrator.core.enums import Source
from orchestrator.core.migrate import upgrade
from orchestrator.core.settings import reset_settings
from tests.support import quick_exit
from tests.support.engines import SharedEngines
from tests.support.fake_slack import fake_slack  # noqa: F401  (fixture shared by the Slack tests)
from tests.support.freezegun_scan import install as fingerprint_modules_cheaply
from tests.support.scheduling import spread_slow_tests, worker_count
from tests.support.seed_snapshot import empty_postgres, seeded_sqlite_copy, snapshot_postgres_seed
from tests.support.slack_clicks import clickable  # noqa: F401  (fixture of the Slack process tests)
from tests.support.ssl_reuse import install as reuse_tls_contexts
from tests.support.unleash import join_starters as join_unleash_starters
from tests.support.unleash import start_in_background as start_unleash_in_background
from tests.support.unleash import (
    stop_unleash,
    unleash_server,  # noqa: F401  (the run's real Unleash server)
)

if TYPE_CHECKING:
    from fastapi import FastAPI

# The suite's own Prefect server: chosen before anything imports prefect, so every thread and
# subprocess of the tests (workers included) talks to it and never to a developer's server. Chosen
# once per run: the first process to import this file (pytest itself, or the controller of
# `pytest -n 2`) picks the home and port, and the xdist workers it starts inherit them, so all of
# them share one server (see the ``prefect_server`` fixture).
if "LAUNCHDECK_TEST_PREFECT_HOME" not in os.environ:
    import socket

    with socket.socket() as _probe:
        _probe.bind(("127.0.0.1", 0))
        _port = int(_probe.getsockname()[1])
    os.environ["LAUNCHDECK_TEST_PREFECT_HOME"] = tempfile.mkdtemp(prefix="launchdeck-prefect-")
    os.environ["LAUNCHDECK_TEST_PREFECT_PORT"] = os.environ.get("LAUNCHDECK_TEST_PREFECT_PORT") or str(_port)
_PREFECT_HOME = Path(os.environ["LAUNCHDECK_TEST_PREFECT_HOME"])
_PREFECT_PORT = int(os.environ["LAUNCHDECK_TEST_PREFECT_PORT"])
os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{_PREFECT_PORT}/api"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
_PREFECT_PID = _PREFECT_HOME / "server.pid"

quick_exit.install()  # first of the exit handlers this run registers, so it runs after them all
fingerprint_modules_cheaply()  # each freeze would sort and hash every name of ~2,400 modules
reuse_tls_contexts()  # each httpx client would parse the whole CA bundle again (tests/support/ssl_reuse.py)

# Rich fixes a console's width when it is made (at import) if COLUMNS is set, as it is in xdist
# workers; CLI tests pass the width they need per call, so none may be fixed beforehand.
os.environ.pop("COLUMNS", None)

SEED_ACTOR = Actor(name="pat@example.com", source=Source.CLI)
_POSTGRES_SEED_RESTORE: dict[str, str] = {}  # per run database: the SQL that puts the seed back

POSTGRES_ADMIN_URL = os.environ.get(
    "LAUNCHDECK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# A test marked ``one_database`` asserts nothing a database could change (rendering, HTTP, Slack
# signing...; tests/ONE_DATABASE.md says why for each), so it runs on SQLite only: its PostgreSQL
# variant is never generated. This variable runs them on both anyway (a nightly or full run).
BOTH_DATABASES = os.environ.get("LAUNCHDECK_TEST_BOTH_DATABASES", "") not in ("", "0")
_ONE_DATABASE_ONLY = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
_ONE_DATABASE_COUNT = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give a ``one_database`` test the SQLite ``engine`` alone, before pytest expands the fixture's
    params (a parametrize mark on ``engine`` takes precedence over them), so no PostgreSQL variant
    is collected, set up or skipped. The mark must say why; a test that parametrizes ``engine``
    itself keeps its own choice."""
    marker = metafunc.definition.get_closest_marker("one_database")
    if marker is None:
        return
    reason = marker.kwargs.get("reason", marker.args[0] if marker.args else "")
    if not isinstance(reason, str) or not reason.strip():
        pytest.fail(f"{metafunc.definition.nodeid}: @pytest.mark.one_database needs reason='...'", pytrace=False)
    if BOTH_DATABASES or "engine" not in metafunc.fixturenames:
        return
    if any("engine" in _argnames(mark) for mark in metafunc.definition.iter_markers("parametrize")):
        return
    metafunc.definition.add_marker(_ONE_DATABASE_ONLY)
    metafunc.config.stash[_ONE_DATABASE_COUNT] = metafunc.config.stash.get(_ONE_DATABASE_COUNT, 0) + 1


def _argnames(mark: pytest.Mark) -> list[str]:
    names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
    return [name.strip() for name in names.split(",")] if isinstance(names, str) else list(names)


def pytest_report_header(config: pytest.Config) -> str:
    if BOTH_DATABASES:
        return "databases: every engine test on SQLite and PostgreSQL (LAUNCHDECK_TEST_BOTH_DATABASES)"
    return "databases: one_database tests on SQLite only (LAUNCHDECK_TEST_BOTH_DATABASES=1 runs them on both)"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    count = config.stash.get(_ONE_DATABASE_COUNT, 0)
    if count:
        terminalreporter.write_line(
            f"one_database: {count} test functions collected on SQLite only, without their PostgreSQL variant (tests/ONE_DATABASE.md)"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests, then the Prefect flow tests, first in each xdist worker's share
    (tests/support/scheduling.py), so the workers run them side by side and finish together. And
    when any collected test needs the Prefect server, start it now, in the background, so it is up
    by the time the first of them asks (instead of that test waiting out the start)."""
    spread_slow_tests(items, worker_count(config))
    if config.option.collectonly:
        return  # listing tests (or warming caches, as scripts/test.sh does) starts no server
    if any("prefect_server" in getattr(item, "fixturenames", ()) for item in items):
        threading.Thread(target=_start_prefect_server, name="prefect-server-start", daemon=True).start()
    if any("unleash_server" in getattr(item, "fixturenames", ()) for item in items):
        start_unleash_in_background()  # Unleash takes 8-30 s to start: overlap it with other tests


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test would dominate run time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file we copy
    return path


def _admin_conninfo() -> str:
    url = make_url(POSTGRES_ADMIN_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if POSTGRES_ADMIN_URL == "off":
        pytest.skip("PostgreSQL tests disabled (LAUNCHDECK_TEST_POSTGRES_URL=off)")
    name = f"launchdeck_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(_admin_conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({exc}); start it or set =off")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    _POSTGRES_SEED_RESTORE[url] = snapshot_postgres_seed(engine, SEED_ACTOR)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_seeded_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """The migrated template with the built-in seed applied (tests/support/seed_snapshot.py)."""
    return seeded_sqlite_copy(sqlite_template, tmp_path_factory.mktemp("sqlite-seeded") / "seeded.db", SEED_ACTOR)


@pytest.fixture(scope="session")
def shared_engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedEngines]:
    """The test process's base engines, whose compiled SQL every test reuses (tests/support/engines.py)."""
    engines = SharedEngines(tmp_path_factory.mktemp("shared-engines"))
    yield engines
    engines.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, shared_engines: SharedEngines
) -> Iterator[Engine]:
    """An empty migrated database; already holding the built-in seed when the test asks for
    ``seeded`` (copied from one seeded once per run, which ``seeded`` then leaves as it is)."""
    wants_seed = "seeded" in request.fixturenames
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_seeded_template") if wants_seed else sqlite_template
        path = tmp_path / "launchdeck.db"
        shutil.copyfile(template, path)
        with shared_engines.sqlite(path) as created:
            yield created
        return
    url = request.getfixturevalue("postgres_url")
    with shared_engines.postgres(url) as created:
        empty_postgres(created, restore=_POSTGRES_SEED_RESTORE[url] if wants_seed else None)
        yield created


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    path = tmp_path / "launchdeck.db"
    shutil.copyfile(sqlite_template, path)
    created = make_engine(f"sqlite:///{path}")
    yield created
    created.dispose()


@pytest.fixture
def flow_db(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Point the flows' own engine (flows.resources, built from settings) at the test database."""
    from flows import resources as runtime  # imported here: most tests never load Prefect

    monkeypatch.setenv("LAUNCHDECK_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    reset_settings()
    runtime.reset()
    yield engine
    runtime.reset()
    reset_settings()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as opened:
        yield opened


@pytest.fixture
def actor() -> Actor:
    return SEED_ACTOR


@pytest.fixture
def seeded(session: Session) -> Session:
    """A session on a database holding the built-in teams and regions, as ``apply_seed`` by
    ``actor`` writes them (the ``engine`` fixture copies them in: tests/support/seed_snapshot.py)."""
    return session


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips when PostgreSQL is off
    name = f"launchdeck_blank_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A working directory whose default database is its own launchdeck.db."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAUNCHDECK_DATABASE_URL", raising=False)
    monkeypatch.delenv("LAUNCHDECK_SEED_FILE", raising=False)
    monkeypatch.delenv("LAUNCHDECK_CHECKLISTS_DIR", raising=False)
    reset_settings()
    yield tmp_path
    reset_settings()


@pytest.fixture(scope="session")
def prefect_server() -> str:
    """A real `prefect server start` for the whole run, started by the first xdist worker that
    wants it (at collection, see ``pytest_collection_modifyitems``); the others find it answering
    and use it. It outlives the worker that started it and is stopped when the whole run ends
    (``pytest_unconfigure``)."""
    return _start_prefect_server()


def _start_prefect_server() -> str:
    from flows.server import LocalPrefectServer, api_healthy, default_cache_dir

    server = LocalPrefectServer(
        home=_PREFECT_HOME, port=_PREFECT_PORT, log_path=_PREFECT_HOME / "server.log", cache_dir=default_cache_dir()
    )
    with (_PREFECT_HOME / "start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one starter; the rest wait here, then find it healthy
        if not api_healthy(server.api_url):
            server.start(deadline_seconds=240)
            assert server.process is not None
            _PREFECT_PID.write_text(str(server.process.pid))
    return server.api_url


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.support.api import join_stopped_servers

    stuck = join_stopped_servers()
    if stuck:
        print(f"\n{stuck} test API server(s) had not finished shutting down after 5 s; left to the process exit")


def pytest_unconfigure(config: pytest.Config) -> None:
    """At the very end of the run (in pytest itself, or the controller of `-n`), stop the shared
    Prefect server if one was started, and remove its home; the same for the run's Unleash and its
    database."""
    join_unleash_starters()  # in every process: none may exit halfway through starting it
    if hasattr(config, "workerinput"):
        quick_exit.session_finished()  # its results are with the controller: skip the teardown
        return  # an xdist worker: the controller outlives it
    stop_unleash()
    if _PREFECT_PID.exists():
        # Its data goes with its home, so a graceful shutdown (which took Prefect up to twenty
        # seconds) would buy nothing.
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(_PREFECT_PID.read_text()), signal.SIGKILL)
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def reusable_app() -> "FastAPI":
    """The app ``api_server`` serves, built once per test process: FastAPI builds an app's routes
    on its first request (60-190 ms here), which every API test paid again for an app of its own.
    Each test serves it afresh (``start_afresh``): its own database, empty caches, no Slack work."""
    from api.app import create_app

    return create_app()


@pytest.fixture
def api_server(engine: Engine, reusable_app: "FastAPI") -> Iterator[str]:
    """The real FastAPI app served by uvicorn on a free loopback port, on the test database.
    Yields the base URL; requests go over real HTTP. A test that swaps ``api.app.create_app`` (to
    put fakes into the app's dependencies) gets an app of its own from it instead."""
    import api.app
    from tests.support.api import served

    factory = api.app.create_app
    if (factory.__module__, factory.__qualname__) == ("api.app", "create_app"):  # not swapped by the test
        app = reusable_app
        api.app.start_afresh(app, engine=engine)
    else:
        app = factory(engine=engine)
    work = app.state.slack_work
    with served(app, wait_for_stop=False) as base:
        yield base
        # What a stopping server may still write is the Slack clicks it acknowledged: carry them out
        # now, so nothing of this test reaches the next one's (shared PostgreSQL) database while
        # uvicorn takes its time to stop in the background.
        work.stop()


@pytest.fixture
def tokens(seeded: Session, actor: Actor) -> dict[str, str]:
    """One API token per role, each belonging to the member ``<role>@example.com`` of the
    directory (the member token's member is in the marketing team): votes count for a person."""
    from orchestrator.core.enums import Role
    from orchestrator.directory.seed import MemberSeed
    from orchestrator.directory.service import upsert_member
    from orchestrator.directory.tokens import create_token

    made = {}
    for role in Role:
        team = "marketing" if role == Role.MEMBER else None
        email = f"{role.value}@example.com"
        person = MemberSeed(email=email, name=f"{role.value.title()} Person", team=team, role=role)
        upsert_member(session=seeded, seed=person, actor=actor)
        _token, secret = create_token(
            session=seeded, name=f"{role.value}-bot", role=role, team_key=team, member_email=email, actor=actor
        )
        made[role.value] = secret
    return made
