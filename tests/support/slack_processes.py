"""Real API server processes for the Slack durability test (tests/api/test_slack_durability.py):
started with ``python -m cli.serving`` (as ``launchdeck serve`` serves) on a test database, and
a variant of the app whose click processor stalls after a few clicks, so a SIGKILL is sure to find
acknowledged clicks not yet applied (some pending, some claimed mid-way) however fast the machine.
And real `launchdeck slack-applier` processes (tests/cli/test_slack_applier_cmd.py)."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlmodel import Session

from api.app import create_app
from api.slack_work import SlackWork
from flows.server import free_port
from orchestrator.core.inbox import Claimed
from tests.support.flows import wait_for
from tests.support.processes import LAUNCHDECK
from tests.support.slack_http import SECRET

ROOT = Path(__file__).resolve().parents[2]
APPLY_FIRST = "LAUNCHDECK_TEST_APPLY_FIRST"  # clicks the stalling app applies before it stalls


class _StallingWork(SlackWork):
    """Applies the first ``APPLY_FIRST`` claimed clicks, then holds every later claim forever (the
    process is killed while holding them, so their leases must run out)."""

    def __init__(self) -> None:
        super().__init__()
        self._left = int(os.environ.get(APPLY_FIRST, "0"))
        self._count = threading.Lock()
        self._never = threading.Event()

    def _apply(self, session: Session, row: Claimed, owner: str) -> None:
        with self._count:
            self._left -= 1
            stall = self._left < 0
        if stall:
            self._never.wait()
        super()._apply(session, row, owner)


def stalling_app() -> FastAPI:
    app = create_app()
    app.state.slack_work = _StallingWork()
    return app


def start_api(database_url: str, factory: str, log: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """Serve ``factory`` in a process of its own on ``database_url``; returns it and its base URL
    once /healthz answers (failing with its log if it exits first)."""
    port = free_port()
    environment = {
        **os.environ,
        "LAUNCHDECK_DATABASE_URL": database_url,
        "LAUNCHDECK_SLACK_SIGNING_SECRET": SECRET,
        **env,
    }
    command = [sys.executable, "-m", "cli.serving", factory, "--port", str(port), "--log-level", "warning"]
    with log.open("ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(answering, timeout=60, interval=0.05)
    return process, base


def start_applier(database_url: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`launchdeck slack-applier` on ``database_url`` in a process of its own, returned once it
    says it runs (failing with its log if it exits first)."""
    process = spawn_applier(database_url, log, **env)
    applier_running(process, log)
    return process


def spawn_applier(database_url: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`launchdeck slack-applier` started, not waited for (start several at once: each takes
    seconds to import on a loaded machine); ``applier_running`` waits."""
    environment = {**os.environ, "LAUNCHDECK_DATABASE_URL": database_url, "LAUNCHDECK_SLACK_SIGNING_SECRET": SECRET}
    with log.open("ab") as sink:
        return subprocess.Popen(
            [LAUNCHDECK, "slack-applier"], cwd=ROOT, env={**environment, **env}, stdout=sink, stderr=subprocess.STDOUT
        )


def applier_running(process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``process`` says it runs (its threads and listener started)."""

    def running() -> bool:
        assert process.poll() is None, log.read_text()[-3000:]
        return f"slack-applier {process.pid}:" in log.read_text()

    wait_for(running, timeout=60, interval=0.05)
