"""Starting and finding a local Prefect server: the embedded default of `launchdeck up`, and the
real Prefect API the test suite runs against."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from orchestrator.core.errors import LaunchdeckError


class PrefectUnavailable(LaunchdeckError):
    code = "prefect_unavailable"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api_healthy(api_url: str, *, timeout: float = 2.0, path: str = "/health") -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}{path}", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_healthy(
    api_url: str,
    *,
    deadline_seconds: float,
    process: subprocess.Popen[bytes] | None = None,
    path: str = "/health",
) -> None:
    """Poll a health endpoint until it answers or the deadline passes (a fresh Prefect server
    migrates its database first, which takes 10-20 s on two cores)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if api_healthy(api_url, path=path):
            return
        if process is not None and process.poll() is not None:
            raise PrefectUnavailable(f"{process.args!r} exited with code {process.returncode} before it was ready")
        time.sleep(0.2)
    raise PrefectUnavailable(f"nothing answered at {api_url}{path} within {deadline_seconds:.0f} s")


def default_cache_dir() -> Path:
    """Where launchdeck keeps what it can rebuild (``$XDG_CACHE_HOME/launchdeck``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "launchdeck"


def migrated_database_template(cache_dir: Path) -> Path:
    """An empty Prefect database with every migration applied, made once per Prefect version.

    A new Prefect home starts from a copy of it: the server then answers in about 8 s on two
    cores instead of 20 (its migrations cost 10 s of CPU), which every test run and every fresh
    `launchdeck up` used to pay. Built in a scratch home and moved into place, so a concurrent
    builder or a killed one never leaves a half-migrated template."""
    import prefect

    template = cache_dir / f"prefect-{prefect.__version__}.db"
    if template.exists():
        return template
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
        env = {**os.environ, "PREFECT_HOME": scratch, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        prefect_cli = Path(sys.executable).parent / "prefect"
        subprocess.run(
            [str(prefect_cli), "server", "database", "upgrade", "-y"], env=env, check=True, capture_output=True
        )
        os.replace(Path(scratch) / "prefect.db", template)
    return template


@dataclass
class LocalPrefectServer:
    """`prefect server start` in a child process, with its own PREFECT_HOME (and SQLite database).
    With ``cache_dir``, a home without a database starts from a migrated template kept there."""

    home: Path
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    cache_dir: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, deadline_seconds: float = 180) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        database = self.home / "prefect.db"
        if self.cache_dir is not None and not database.exists():
            shutil.copyfile(migrated_database_template(self.cache_dir), database)
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_URL": self.api_url,
        }
        prefect = Path(sys.executable).parent / "prefect"
        command = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(self.api_url, deadline_seconds=deadline_seconds, process=self.process)
        except PrefectUnavailable:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
