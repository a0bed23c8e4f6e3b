"""`launchdeck slack-applier`: the process that applies recorded Slack clicks, so the API process
only verifies, records and acknowledges them (``LAUNCHDECK_SLACK_APPLIER=process``, issue #21).

Why a process of its own: a check-off is mostly Python holding the GIL, and on threads of the API
process it took the CPU from the event loop answering Slack: 50 clicks at once on a busy machine
were answered 4-5x slower than /healthz at p99. Here the work runs in another interpreter, at a
lower CPU priority (``--nice``), so the acknowledging loop wins the CPU when both want it. It runs
the API's own processors (``SlackWork``: the same claims, handlers and exactly-once marks), woken
by the commit that recorded a click and sweeping every ``LAUNCHDECK_SLACK_INTERACTION_POLL_SECONDS``
besides. Any number may run, beside API processes still applying clicks themselves: the claims
keep each click applied once.
"""

import os
import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from cli.context import engine_from_settings
from cli.errors import friendly_errors
from cli.logs import show_launchdeck_logs
from orchestrator.core.migrate import ensure_schema_current
from orchestrator.core.settings import get_settings

console = Console(soft_wrap=True)
NICE = 10  # how much lower than the API the applier runs (BENCHMARKS.md, "Slack interaction ...")
THREADS = 2  # as api.slack_work.WORKERS (imported only when the command runs: the CLI starts fast)


@friendly_errors
def slack_applier(
    threads: Annotated[int, typer.Option(min=1, max=16, help="Threads applying clicks.")] = THREADS,
    nice: Annotated[
        int, typer.Option(min=0, max=19, help="How much to lower this process's CPU priority (os.nice).")
    ] = NICE,
    listen: Annotated[
        bool | None,
        typer.Option(help="Wake on the commit that records a click (default LAUNCHDECK_WORKER_LISTEN)."),
    ] = None,
) -> None:
    """Apply the Slack clicks the API recorded (run it with LAUNCHDECK_SLACK_APPLIER=process on the API).

    Stops on SIGTERM or Ctrl-C after applying what is pending (for up to 30 s)."""
    if nice:
        os.nice(nice)  # first: threads inherit the priority of the thread that starts them (Linux)
    from api.slack_work import FollowUps, SlackWork
    from notifications.inbound.follow_ups import WebhookResponder, view_opener_from_settings

    settings = get_settings()
    engine = engine_from_settings()
    ensure_schema_current(engine)
    show_launchdeck_logs()
    opener, responder = view_opener_from_settings(settings), WebhookResponder()
    work = SlackWork(workers=threads)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    woken = settings.worker_listen if listen is None else listen
    work.start(engine=engine, follow_ups=FollowUps(lambda: opener, lambda: responder), listen=woken)
    how = "woken by commits, " if woken else ""
    console.print(
        f"slack-applier {os.getpid()}: {threads} thread(s), nice +{nice}, {how}sweeping every {work.poll_seconds:g}s"
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        left = work.stop()
        engine.dispose()
    console.print(f"slack-applier {os.getpid()} stopped" + (f" ({left} thread(s) still busy)" if left else ""))
