"""`launchdeck worker` and `launchdeck up`: the processes that run launches.

Prefect is imported only inside these commands, so the rest of the CLI starts fast.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from sqlmodel import select

from cli.context import cli_actor, engine_from_settings
from cli.errors import friendly_errors
from cli.logs import show_launchdeck_logs
from orchestrator.core.db import session_scope
from orchestrator.core.errors import ConfigError
from orchestrator.core.migrate import ensure_schema_current, upgrade
from orchestrator.core.models import Team
from orchestrator.core.settings import get_settings
from orchestrator.directory.seed import load_seed
from orchestrator.directory.service import apply_seed

if TYPE_CHECKING:
    from flows.server import LocalPrefectServer

console = Console(soft_wrap=True)
STATE_DIR = Path(".launchdeck")


def _require_prefect_api() -> str:
    from flows.server import PrefectUnavailable, api_healthy

    api_url = os.environ.get("PREFECT_API_URL")
    if not api_url:
        raise ConfigError(
            "environment",
            [
                "PREFECT_API_URL is not set: start everything with `launchdeck up`, or run "
                "`prefect server start` and export PREFECT_API_URL=http://127.0.0.1:4200/api"
            ],
        )
    if not api_healthy(api_url):
        raise PrefectUnavailable(f"no Prefect API answers at {api_url}; is the server running?")
    return api_url


@friendly_errors
def worker(
    poll_seconds: Annotated[
        float | None, typer.Option(help="Seconds between looks for due work (default LAUNCHDECK_WORKER_POLL_SECONDS).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Do one pass and exit (cron, debugging).")] = False,
    name: Annotated[str | None, typer.Option(help="Worker name in leases and logs (default host-pid).")] = None,
) -> None:
    """Run launches: start region flows when work is due, deliver exposure changes, publish events.

    Run several against PostgreSQL to scale out; they share the work safely."""
    api_url = _require_prefect_api()
    settings = get_settings()
    engine = engine_from_settings()
    ensure_schema_current(engine)
    engine.dispose()

    from flows.worker import Worker, default_worker_name, drain_events

    show_launchdeck_logs()  # after Prefect's logging setup (the import above), which it must outlast
    runner = Worker(
        poll_seconds=poll_seconds or settings.worker_poll_seconds,
        lease_seconds=settings.worker_lease_seconds,
        name=name or default_worker_name(),
        wake_on_commit=settings.worker_listen,
    )

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        runner.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    woken = ", woken by commits" if runner.wake_on_commit else ""
    console.print(f"worker {runner.name} using Prefect at {api_url}; polling every {runner.poll_seconds:g}s{woken}")
    try:
        if once:
            started = runner.run_once()
            console.print(f"started {started} region flow(s)")
        else:
            runner.run_forever()
    finally:
        drain_events()
    console.print(f"worker {runner.name} stopped")


@friendly_errors
def up(
    port: Annotated[int, typer.Option(help="Port of the local Prefect server (UI and API).")] = 4200,
    api_port: Annotated[int, typer.Option(help="Port of the launchdeck API.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Also create the sample launch and walk it forward.")] = False,
) -> None:
    """Start the embedded stack on this machine: a local Prefect server (SQLite), a worker, the
    API, and (with --demo) the sample launch. Ctrl-C stops everything."""
    from flows.server import wait_until_healthy

    _prepare_database()
    STATE_DIR.mkdir(exist_ok=True)
    server = _prefect_server(port)
    env = {
        **os.environ,
        "PREFECT_API_URL": server.api_url,
        "PREFECT_HOME": str(server.home),
        "LAUNCHDECK_SLACK_APPLIER": _applier_mode(),
    }
    launchdeck = str(Path(sys.executable).parent / "launchdeck")
    children = _start_children(launchdeck, env=env, api_port=api_port)

    def _terminate(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # same orderly shutdown as Ctrl-C

    signal.signal(signal.SIGTERM, _terminate)
    api_url = f"http://127.0.0.1:{api_port}"
    try:
        wait_until_healthy(api_url, deadline_seconds=60, process=children[-1], path="/healthz")
        _print_banner(api_url=api_url, prefect_ui=server.ui_url)
        if demo:
            subprocess.run([launchdeck, "demo"], env=env, check=False)
            console.print("demo finished; the stack keeps running until Ctrl-C")
        while all(child.poll() is None for child in children):
            time.sleep(1)
        console.print("[red]a child process stopped; see the logs in .launchdeck/[/]")
    except KeyboardInterrupt:
        console.print("stopping ...")
    finally:
        _stop_children(children)
        server.stop()


def _prepare_database() -> None:
    """Bring the schema up to date; a fresh database gets the directory, as `init` would load it."""
    engine = engine_from_settings()
    upgrade(engine)
    with session_scope(engine) as session:
        if session.exec(select(Team.id)).first() is None:
            apply_seed(session=session, config=load_seed(get_settings().seed_file), actor=cli_actor())
    engine.dispose()


def _prefect_server(port: int) -> "LocalPrefectServer":
    """The local Prefect server on ``port``: the one already answering there, or a new one."""
    from flows.server import LocalPrefectServer, api_healthy, default_cache_dir

    server = LocalPrefectServer(
        home=STATE_DIR / "prefect", port=port, log_path=STATE_DIR / "prefect-server.log", cache_dir=default_cache_dir()
    )
    if api_healthy(server.api_url):
        console.print(f"using the Prefect server already running at {server.ui_url}")
    else:
        console.print(f"starting Prefect server on {server.ui_url} (first start migrates its database) ...")
        server.start()
    return server


def _applier_mode() -> str:
    """Who applies Slack clicks under `up`: LAUNCHDECK_SLACK_APPLIER when set (environment or
    .env), else a `launchdeck slack-applier` child, so the API only records and acknowledges them."""
    settings = get_settings()
    return settings.slack_applier if "slack_applier" in settings.model_fields_set else "process"


def _start_children(launchdeck: str, *, env: dict[str, str], api_port: int) -> list[subprocess.Popen[bytes]]:
    """A worker, the Slack applier (``LAUNCHDECK_SLACK_APPLIER=process``) and the API, each
    logging to its own file under STATE_DIR; the API comes last."""
    children: list[subprocess.Popen[bytes]] = []
    with (STATE_DIR / "worker.log").open("ab") as worker_log:
        children.append(subprocess.Popen([launchdeck, "worker"], env=env, stdout=worker_log, stderr=subprocess.STDOUT))
    if env["LAUNCHDECK_SLACK_APPLIER"] == "process":
        with (STATE_DIR / "slack-applier.log").open("ab") as applier_log:
            children.append(
                subprocess.Popen([launchdeck, "slack-applier"], env=env, stdout=applier_log, stderr=subprocess.STDOUT)
            )
    with (STATE_DIR / "api.log").open("ab") as api_log:
        children.append(
            subprocess.Popen(
                [launchdeck, "serve", "--port", str(api_port)], env=env, stdout=api_log, stderr=subprocess.STDOUT
            )
        )
    return children


def _print_banner(*, api_url: str, prefect_ui: str) -> None:
    console.print(f"[green]up[/]  API docs:   {api_url}/docs")
    console.print(f"      Dashboard:  {api_url}/dashboard/   (sign in with an API token)")
    console.print("      API token:  `launchdeck tokens create --role prodops --name you`")
    console.print(f"      Prefect UI: {prefect_ui}   (flow runs: {prefect_ui}/runs)")
    from notifications.delivery.factory import uses_console  # here: slack_sdk only when serving

    console.print(f"      database: {get_settings().database_url}   logs: {STATE_DIR}/")
    if uses_console(get_settings()):
        messages = f"{api_url}/dashboard/messages"
        console.print(f"      Slack:      not connected; messages shown at {messages} and in {STATE_DIR}/worker.log")
    if _applier_mode() == "process":
        console.print(f"      Slack clicks: applied by `launchdeck slack-applier` (log: {STATE_DIR}/slack-applier.log)")
    console.print("      worker: running; stop everything with Ctrl-C")


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    """Ask every child still running to stop, then wait for each (killing one that hangs)."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
