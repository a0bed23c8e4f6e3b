"""Gate propagation, end to end: from the HTTP request that checks the last blocking item of a
region's gate to the rollout target receiving that region's first exposure step.

The path measured: the API commits the check-off (the gate passes in that transaction), a running
`launchdeck worker` hears of it (NOTIFY on commit, orchestrator/core/wake.py; or, in the poll-only
mode, on its next poll), runs the `advance-region` flow in-process against the local Prefect
server, and the recording target writes the step to `exposurechange` (polled here every 5 ms).
Goal (issue #21): median at most 1.5x one minimal async Prefect flow run measured in the same run.

Where the time goes, per propagation, from wall-clock timestamps on this one machine: the check-off
request until its answer (the commit is in it); until the worker claimed the region (its lease,
read while polling: the wake, the due-work query and the claim); until Prefect created the flow run
(`created`); until the run was RUNNING (`start_time`); until the target recorded the step
(`exposurechange.received_at`).

Measured four times, each with its own worker process and fresh launches: polling only
(LAUNCHDECK_WORKER_LISTEN=false, the code before #21), then woken by commits: Slack in console mode;
the real Slack transport (slack_sdk, default pacing, timeouts and retries) against the fake Slack
Web API of `tests/support/fake_slack.py` on loopback; and the same with the fake failing a seeded
30% of calls (429, 500, a lost request, a lost answer). Before each, `--backlog` more launches are
kicked off at their gates, so Slack has that many gate messages to post (one channel, so one a
second at Slack's pace) while the regions are measured: a worker that posts to Slack in the same
loop as it runs regions makes a ready region wait for them.

And once more with a real Unleash server as the launches' rollout target (mode `unleash`;
unleash-server 8.2, started and stopped the way the test suite does it, `tests/support/unleash.py`,
on its own throwaway PostgreSQL database): there the clock stops when Unleash's client API (what
SDKs fetch, with the backend token) shows the region's strategy at the first step's percentage,
polled every 5 ms; the recording target's figure (the console mode) comes from the same run.

Baselines in the same run, against the same Prefect server: one minimal async Prefect flow run in
process (one task), and a `run_deployment` start (asked for until its flow run is RUNNING) of a
served one-task flow at Prefect's default runner poll.

    .venv/bin/python -m benchmarks.gate_propagation [--runs 9] [--backlog 40] [--deployment-runs 3]
        [--modes poll,console,slack,failing]

Needs PostgreSQL on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL) and, for the unleash mode,
Unleash installed (`bash scripts/unleash.sh`); starts a throwaway local Prefect server (about 20 s)
and Unleash (10 to 30 s, meanwhile), the API (uvicorn) and, per mode, one worker at its default
poll (0.5 s).
"""

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from benchmarks._harness import local_prefect, machine, percentile, table, throwaway_postgres, uvicorn_process
from benchmarks._prefect_baselines import deployment_starts, minimal_flow_runs
from benchmarks._seed import gated_launch, seed_directory
from flows.unleash_target import region_rollouts
from orchestrator.core.clock import as_utc
from orchestrator.core.models import ExposureChange, Launch, RegionRollout
from orchestrator.core.settings import reset_settings
from orchestrator.rollouts.target import TargetName
from tests.support.fake_slack import TOKEN, FakeSlack
from tests.support.unleash import UnleashDidNotStart, UnleashServer, stop_unleash, wait_until_up
from tests.support.unleash import start_in_background as start_unleash

DEADLINE = 60.0  # seconds one propagation may take before the run is called broken
FLAG_PREFIX = "bench."  # the Unleash flag of launch SLUG is bench.SLUG
FIRST_STEP = 100  # the benchmark launches' first exposure step: internal, EU, 100%
SETTLE_SECONDS = 0.3  # after the worker released a region, before the next check-off
LEASE_SECONDS = 120  # the worker's (LAUNCHDECK_WORKER_LEASE_SECONDS): a claim's time is lease_until minus it


@dataclass
class Propagation:
    """One propagation: its duration, and the wall-clock moments of its stages (None: not seen)."""

    slug: str
    seconds: float = 0.0
    sent: datetime | None = None
    answered: datetime | None = None
    claimed: datetime | None = None
    created: datetime | None = None
    running: datetime | None = None
    recorded: datetime | None = None


def observe(engine: Engine, slug: str) -> tuple[datetime | None, datetime | None]:
    """When the target recorded the region's first step (None: not yet), and when a worker claimed
    the region (None: no claim held now)."""
    with Session(engine) as session:
        recorded = session.exec(
            select(ExposureChange.received_at).where(col(ExposureChange.launch_slug) == slug)
        ).first()
        lease = session.exec(
            select(RegionRollout.lease_until)
            .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
            .where(col(Launch.slug) == slug)
        ).first()
    claimed = as_utc(lease) - timedelta(seconds=LEASE_SECONDS) if lease is not None else None
    return (as_utc(recorded) if recorded is not None else None), claimed


def wall() -> datetime:
    return datetime.now().astimezone()


def first_step_in_unleash(client: httpx.Client, unleash: UnleashServer, slug: str) -> bool:
    """Unleash's client API (what SDKs read, with the backend token) shows the flag on and EU's
    strategy at the first step's percentage."""
    answer = client.get(
        f"{unleash.url}/api/client/features/{FLAG_PREFIX}{slug}", headers={"Authorization": unleash.client_token}
    )
    if answer.status_code == 404:
        return False  # the flag is made on the first change
    answer.raise_for_status()
    feature = answer.json()
    return bool(feature.get("enabled")) and region_rollouts(feature, "region").get("EU") == FIRST_STEP


def propagation(
    client: httpx.Client, engine: Engine, slug: str, item_id: int, seen: Callable[[str], bool] | None = None
) -> Propagation:
    """One propagation; it ends when the recording target has the step, or ``seen(slug)`` when
    the launch has another target (Unleash: nothing is recorded in ``exposurechange`` then)."""
    measured = Propagation(slug=slug, sent=wall())
    started = time.perf_counter()
    answer = client.post(f"/api/v1/items/{item_id}/check", json={})
    measured.answered = wall()
    if answer.status_code != 200:
        raise SystemExit(f"check-off answered {answer.status_code}: {answer.text}")
    while True:
        recorded, claimed = observe(engine, slug)
        measured.claimed = measured.claimed or claimed
        if seen is not None and seen(slug):
            measured.seconds = time.perf_counter() - started
            return measured
        if seen is None and recorded is not None:
            measured.seconds = time.perf_counter() - started
            measured.recorded = recorded
            return measured
        if time.perf_counter() - started > DEADLINE:
            raise SystemExit(f"{slug}: no exposure step within {DEADLINE:.0f} s; is the worker running?")
        time.sleep(0.005)


def settle(engine: Engine, slug: str) -> None:
    """Wait until the worker is done with the region (its flow goes on past the step measured: the
    ramp's end, going live, the next phase's gate) and a moment more for the passes its commits
    wake: each propagation starts with the worker idle, as a check-off usually finds it."""
    started = time.perf_counter()
    while observe(engine, slug)[1] is not None:
        if time.perf_counter() - started > DEADLINE:
            raise SystemExit(f"{slug}: the worker still holds the region after {DEADLINE:.0f} s")
        time.sleep(0.01)
    time.sleep(SETTLE_SECONDS)


def add_flow_run_times(measured: list[Propagation]) -> None:
    """Each propagation's flow run: when Prefect created it and when it started running."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    names = {f"launch/{one.slug}/EU/internal": one for one in measured}

    async def read() -> None:
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=list(names))),
                limit=10 * len(names),
                sort=FlowRunSort.START_TIME_ASC,
            )
        for run in sorted(runs, key=lambda run: run.created or datetime.max.astimezone()):
            one = names.get(run.name)
            if one is not None and one.created is None:  # the first run of the region is the one measured
                one.created, one.running = run.created, run.start_time

    asyncio.run(read())


@dataclass(frozen=True)
class Mode:
    key: str
    label: str
    slack: bool
    failing: float = 0.0
    listen: bool = True
    target: TargetName | None = None  # the launches' own rollout target (None: the recorder, the default)

    @property
    def until(self) -> str:
        return "Unleash's client API shows the first step" if self.target == "unleash" else "first exposure step"


MODES = (
    Mode("poll", "console transport, polling only (no wake)", slack=False, listen=False),
    Mode("console", "console transport", slack=False),
    Mode("unleash", "Unleash target, console transport", slack=False, target="unleash"),
    Mode("slack", "Slack transport, fake Slack clean", slack=True),
    Mode("failing", "Slack transport, fake Slack failing 30% of calls", slack=True, failing=0.3),
)


@dataclass
class Measured:
    mode: Mode
    propagations: list[Propagation] = field(default_factory=list)
    calls: int = 0
    failed: int = 0

    @property
    def seconds(self) -> list[float]:
        return [one.seconds for one in self.propagations]


FAILURE_SEED = 17


def use_unleash(unleash: UnleashServer) -> None:
    """Configure the Unleash target for this process (launch creation checks a launch's target is
    configured) and the workers it starts; the default target stays the recorder."""
    os.environ.update(
        LAUNCHDECK_UNLEASH_URL=unleash.url,
        LAUNCHDECK_UNLEASH_ADMIN_TOKEN=unleash.admin_token,
        LAUNCHDECK_UNLEASH_CLIENT_TOKEN=unleash.client_token,
        LAUNCHDECK_UNLEASH_PROJECT=unleash.project,
        LAUNCHDECK_UNLEASH_ENVIRONMENT=unleash.environment,
        LAUNCHDECK_UNLEASH_FLAG_PREFIX=FLAG_PREFIX,
    )
    reset_settings()


def worker_env(url: str, mode: Mode, fake: FakeSlack) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAUNCHDECK_SLACK_")}
    env["LAUNCHDECK_DATABASE_URL"] = url
    env["LAUNCHDECK_WORKER_LEASE_SECONDS"] = str(LEASE_SECONDS)
    env["LAUNCHDECK_WORKER_LISTEN"] = "true" if mode.listen else "false"
    if mode.slack:
        env.update(
            LAUNCHDECK_SLACK_BOT_TOKEN=TOKEN,
            LAUNCHDECK_SLACK_SIGNING_SECRET="bench-not-checked-by-the-worker",
            LAUNCHDECK_SLACK_API_URL=fake.base_url,
        )
    return env


def measure_mode(
    mode: Mode,
    *,
    index: int,
    url: str,
    engine: Engine,
    token: str,
    fake: FakeSlack,
    args: argparse.Namespace,
    home: Path,
    unleash: UnleashServer | None,
) -> Measured:
    """Propagations (first one not counted: it warms the worker up) and the Slack calls made and
    failed meanwhile."""
    with Session(engine, expire_on_commit=False) as session:
        for n in range(args.backlog):  # gate messages for Slack to post while regions are measured
            gated_launch(session, slug=f"backlog-{index}-{n}", items=1)
        waiting = [
            (
                f"gate-{index}-{n}",
                gated_launch(session, slug=f"gate-{index}-{n}", items=1, rollout_target=mode.target)[0],
            )
            for n in range(args.runs + 1)
        ]
    poller = httpx.Client(timeout=5)
    seen = (lambda slug: first_step_in_unleash(poller, unleash, slug)) if unleash and mode.target == "unleash" else None
    if mode.failing:
        fake.flaky(rate=mode.failing, seed=FAILURE_SEED)
    calls_before = len(fake.calls)
    log_path = home / f"worker-{index}.log"
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "launchdeck"), "worker", "--name", f"bench-{index}"],
            env=worker_env(url, mode, fake),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    propagations: list[Propagation] = []
    try:
        with (
            uvicorn_process("api.app:serving_app", env={"LAUNCHDECK_DATABASE_URL": url}, log=home / "api.log") as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client,
        ):
            for n, (slug, item_id) in enumerate(waiting):
                if worker.poll() is not None:
                    raise SystemExit(f"the worker exited; see {log_path}")
                one = propagation(client, engine, slug, item_id, seen)
                if n > 0:
                    propagations.append(one)
                settle(engine, slug)
    finally:
        poller.close()
        worker.terminate()
        worker.wait(timeout=60)
        fake.recover()
    calls = fake.calls[calls_before:]
    add_flow_run_times(propagations)
    return Measured(mode, propagations, len(calls), sum(call.answered != "ok" for call in calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--backlog", type=int, default=40, help="launches whose gate messages Slack must post")
    parser.add_argument("--deployment-runs", type=int, default=3)
    parser.add_argument("--modes", default=",".join(mode.key for mode in MODES), help="which modes, in order")
    args = parser.parse_args()
    modes = [mode for key in args.modes.split(",") for mode in MODES if mode.key == key.strip()]
    print(f"machine: {machine()}")
    home = Path(tempfile.mkdtemp(prefix="bench-propagation-"))
    fake = FakeSlack()
    fake.start()
    measured: list[Measured] = []
    wants_unleash = any(mode.target == "unleash" for mode in modes)
    if wants_unleash:
        start_unleash()  # in the background, while the Prefect server starts
    try:
        with local_prefect(home):
            flows = minimal_flow_runs(args.runs)  # half the baseline before the modes, half after
            unleash = _unleash_up() if wants_unleash else None
            with throwaway_postgres() as url:
                from orchestrator.core.db import make_engine

                engine = make_engine(url)
                with Session(engine) as session:
                    token = seed_directory(session)
                for index, mode in enumerate(modes):
                    measured.append(
                        measure_mode(
                            mode,
                            index=index,
                            url=url,
                            engine=engine,
                            token=token,
                            fake=fake,
                            args=args,
                            home=home,
                            unleash=unleash,
                        )
                    )
                engine.dispose()
            flows += minimal_flow_runs(args.runs)
            starts = deployment_starts(args.deployment_runs, home / "served.log") if args.deployment_runs else []
    finally:
        fake.stop()
        if wants_unleash:
            stop_unleash()
    report(flows, starts, measured, backlog=args.backlog)


def _unleash_up() -> UnleashServer:
    try:
        unleash = wait_until_up()
    except UnleashDidNotStart as exc:
        raise SystemExit(f"Unleash: {exc}") from None
    use_unleash(unleash)
    return unleash


def report(flows: list[float], starts: list[float], measured: list[Measured], *, backlog: int) -> None:
    base_median = statistics.median(flows)
    labelled = [("minimal async Prefect flow run, in process (baseline)", flows, "")]
    if starts:
        labelled.append(("`run_deployment` start, served flow, default poll", starts, ""))
    labelled += [
        (
            f"check-off of the last item -> {one.mode.until}, {one.mode.label}",
            one.seconds,
            f"{one.calls} ({one.failed} failed)",
        )
        for one in measured
    ]
    rows = []
    for label, values, slack in labelled:
        median = statistics.median(values)
        rows.append(
            [
                label,
                str(len(values)),
                f"{median * 1000:.0f} ms",
                f"{percentile(values, 95) * 1000:.0f} ms",
                f"{median / base_median:.2f}",
                slack,
            ]
        )
    print(
        "local Prefect server (SQLite), PostgreSQL for launchdeck, one worker (poll 0.5 s); "
        f"{backlog} gate messages queued for Slack before each mode"
    )
    print(table(["measured", "runs", "median", "p95", "median ratio", "Slack calls meanwhile"], rows))
    print()
    print("where the time goes (median of each stage, ms; wall clock, one machine)")
    rows = [stage_row(one) for one in measured]
    rows += [slowest_row(one) for one in measured]
    print(table(["mode", *STAGES, "total"], rows))
    missed = [
        one.mode.label for one in measured if one.mode.listen and statistics.median(one.seconds) > 1.5 * base_median
    ]
    verdict = "met" if not missed else "NOT met: " + ", ".join(missed)
    print(f"goal: propagation median at most 1.5x the minimal flow run in every mode woken by commits: {verdict}")


STAGES = (
    "request -> answered (commit)",
    "answered -> claimed (wake, due query, claim)",
    "claimed -> flow run created",
    "created -> running",
    "running -> step recorded",
)


def stage_row(one: Measured) -> list[str]:
    cells = [one.mode.label]
    for index in range(len(STAGES)):
        spans = [
            (later - earlier).total_seconds() * 1000
            for earlier, later in (_moments(p)[index : index + 2] for p in one.propagations)
            if earlier is not None and later is not None
        ]
        cells.append(f"{statistics.median(spans):.0f}" if spans else "n/a")
    cells.append(f"{statistics.median(one.seconds) * 1000:.0f}")
    return cells


def slowest_row(one: Measured) -> list[str]:
    """The slowest propagation of a mode, stage by stage (where a p95 comes from)."""
    worst = max(one.propagations, key=lambda propagation: propagation.seconds)
    moments = _moments(worst)
    cells = [f"{one.mode.label}: slowest"]
    for earlier, later in itertools.pairwise(moments):
        cells.append(f"{(later - earlier).total_seconds() * 1000:.0f}" if earlier and later else "n/a")
    return [*cells, f"{worst.seconds * 1000:.0f}"]


def _moments(one: Propagation) -> list[datetime | None]:
    return [one.sent, one.answered, one.claimed, one.created, one.running, one.recorded]


if __name__ == "__main__":
    main()
