"""wrk (Debian's `wrk` package), the load generator for throughput: written in C, it keeps the
client's cost per request far below the server's, so a bare endpoint is measured at the server's
own limit. Scripts live in ``benchmarks/wrk/``; each prints one JSON line from its ``done()``."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "wrk"


class WrkMissing(SystemExit):
    def __init__(self) -> None:
        super().__init__("wrk is not installed: `apt-get install -y wrk` (Debian), or pass --generator raw")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    exhausted: int  # times a thread ran out of fresh ids and started over

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def run_wrk(
    base: str, *, script: str, seconds: float, connections: int, threads: int, env: dict[str, str]
) -> WrkResult:
    """``wrk`` against ``base`` with ``benchmarks/wrk/<script>``; ``env`` reaches the script."""
    executable = shutil.which("wrk")
    if executable is None:
        raise WrkMissing()
    command = [
        executable,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds:g}s",
        "--timeout=30s",
        f"--script={SCRIPTS / script}",
        base,
    ]
    finished = subprocess.run(
        command, env={**os.environ, **env, "WRK_THREADS": str(threads)}, capture_output=True, text=True, check=False
    )
    summary = next((line for line in finished.stdout.splitlines() if line.startswith("{")), None)
    if finished.returncode != 0 or summary is None:
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stderr.strip() or finished.stdout.strip()}")
    figures = json.loads(summary)
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        non_2xx=figures["non_2xx"],
        socket_errors=figures["socket_errors"],
        exhausted=figures["exhausted"],
    )
