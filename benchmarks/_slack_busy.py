"""`slack_ack --busy`: the Slack acknowledgement on a busy machine, by who applies the clicks (issue #21).

For each number of CPU burners (processes spinning `while True: pass` at normal priority, started
after the servers, killed at the end of every configuration whatever happens) and each applier
variant, a fresh API process (and, for the process variants, a `launchdeck slack-applier` beside
it) answers rounds of 50 GET /healthz at once (the baseline, measured with the same burners in
the same minute) and 50 Done clicks at once spread over ten launches, each round waiting until
its 50 check-offs are in the database. Variants:

- ``api``: the API process's own threads apply the clicks (LAUNCHDECK_SLACK_APPLIER=api, the code
  before), sharing its GIL and its CPU share with the event loop that acknowledges;
- ``process``: a `launchdeck slack-applier` at nice +10 applies them (LAUNCHDECK_SLACK_APPLIER=process);
- ``process-nice0``: the same process at normal priority, to tell what the priority adds;
- ``process-2api``: ``process`` with two API processes (`launchdeck serve --workers 2`), whose
  /healthz is then the baseline too. Not in the default set (``--variants`` names it).

Configurations run interleaved (every variant at one burner count, then the next count), for
``--passes`` passes, so drift in the machine's other load spreads over all of them.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from benchmarks._harness import percentile, stop_process, table, uvicorn_process
from benchmarks._rawload import LoadResult, RequestFactory, load
from benchmarks._seed import gated_launch

LAUNCHDECK = str(Path(sys.executable).parent / "launchdeck")
# name: (LAUNCHDECK_SLACK_APPLIER, applier's nice, API processes)
VARIANTS: dict[str, tuple[str, int | None, int]] = {
    "api": ("api", None, 1),
    "process": ("process", 10, 1),
    "process-nice0": ("process", 0, 1),
    "process-2api": ("process", 10, 2),
}
DEFAULT_VARIANTS = ("api", "process", "process-nice0")
SPREAD = 10


@dataclass
class Outcome:
    variant: str
    burners: int
    load: float
    health: list[float]
    clicks: list[float]
    applied: list[float]


@contextmanager
def burners(count: int) -> Iterator[None]:
    """``count`` processes spinning on a core each, killed (SIGKILL) on the way out."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for process in spinning:
            process.kill()
        for process in spinning:
            process.wait(timeout=10)


@contextmanager
def applier_process(env: dict[str, str], log: Path, nice: int) -> Iterator[None]:
    """`launchdeck slack-applier --nice N`, once it says it runs; stopped (SIGTERM) afterwards."""
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [LAUNCHDECK, "slack-applier", "--nice", str(nice)],
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while f"slack-applier {process.pid}:" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the applier did not start; see {log}")
            time.sleep(0.05)
        yield
    finally:
        stop_process(process, grace_seconds=30)


def spread_items(engine: Engine, *, prefix: str, rounds: int, clicks: int) -> list[list[int]]:
    """For each round, ``clicks`` items over ten launches, interleaved as a busy day sends them."""
    sets = []
    with Session(engine, expire_on_commit=False) as session:
        for n in range(rounds):
            shares = [gated_launch(session, slug=f"{prefix}-{n}-{k}", items=clicks // SPREAD) for k in range(SPREAD)]
            sets.append([item for group in zip(*shares, strict=True) for item in group])
    return sets


def run_config(
    *,
    variant: str,
    burner_count: int,
    items: list[list[int]],
    env: dict[str, str],
    logs: Path,
    round_of: Callable[[str, list[int]], tuple[LoadResult, float]],
    health: Callable[[int], RequestFactory],
    app: str,
) -> Outcome:
    """One configuration: its servers and burners up, round 0 to warm up, then the counted rounds."""
    mode, nice, workers = VARIANTS[variant]
    env = {**env, "LAUNCHDECK_SLACK_APPLIER": mode}
    outcome = Outcome(variant, burner_count, 0.0, [], [], [])
    with ExitStack() as stack:
        base = stack.enter_context(uvicorn_process(app, env=env, log=logs / "api.log", workers=workers))
        if nice is not None:
            stack.enter_context(applier_process(env, logs / "applier.log", nice))
        stack.enter_context(burners(burner_count))
        outcome.load = os.getloadavg()[0]
        for index, clicked in enumerate(items):
            health_result = load(base, [health(n) for n in range(len(clicked))], concurrency=len(clicked))
            click_result, applied = round_of(base, clicked)
            for result in (health_result, click_result):
                if set(result.statuses) != {200}:
                    raise SystemExit(f"{variant}: answers {result.statuses}; see {logs}")
            if index > 0:
                outcome.health.extend(health_result.latencies)
                outcome.clicks.extend(click_result.latencies)
                outcome.applied.append(applied)
    return outcome


def report(outcomes: list[Outcome], *, rounds: int, clicks: int) -> None:
    rows = []
    for outcome in outcomes:
        h50, h99 = percentile(outcome.health, 50), percentile(outcome.health, 99)
        c50, c99 = percentile(outcome.clicks, 50), percentile(outcome.clicks, 99)
        rows.append(
            [
                outcome.variant,
                str(outcome.burners),
                f"{outcome.load:.1f}",
                f"{h50 * 1000:.0f} / {h99 * 1000:.0f} ms",
                f"{c50 * 1000:.0f} / {c99 * 1000:.0f} ms",
                f"{c50 / h50:.2f} / **{c99 / h99:.2f}**",
                f"{percentile(outcome.applied, 50) * 1000:.0f} ms",
            ]
        )
    print(f"{rounds} rounds x {clicks} concurrent requests per configuration (spread over {SPREAD} launches)")
    header = ["applier", "burners", "load", "/healthz p50 / p99", "click p50 / p99", "ratio p50 / p99", "all applied"]
    print(table(header, rows))
    for outcome in outcomes:
        ratio = percentile(outcome.clicks, 99) / percentile(outcome.health, 99)
        verdict = "met" if ratio <= 2 else "NOT met"
        print(f"goal p99 ratio <= 2: {outcome.variant}, {outcome.burners} burner(s): {ratio:.2f} {verdict}")
