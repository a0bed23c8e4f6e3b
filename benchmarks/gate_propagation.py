"""Gate propagation, end to end: from the HTTP request that checks the last blocking item of a
region's gate to the rollout target receiving that region's first exposure step.

The path measured: the API commits the check-off (the gate passes in that transaction), a running
`launchdeck worker` sees the region due on its next poll, runs the `advance-region` flow in-process
against the local Prefect server, and the recording target writes the step to `exposurechange`
(polled here every 10 ms). Goal: median under 2 s.

Measured three times, each with its own worker process and fresh launches: Slack in console mode;
the real Slack transport (slack_sdk, default pacing, timeouts and retries) against the fake Slack
Web API of `tests/support/fake_slack.py` on loopback; and the same with the fake failing a seeded
30% of calls (429, 500, a lost request, a lost answer). Before each, `--backlog` more launches are
kicked off at their gates, so Slack has that many gate messages to post (one channel, so one a
second at Slack's pace) while the regions are measured: a worker that posts to Slack in the same
loop as it runs regions makes a ready region wait for them.

And once more with a real Unleash server as the launches' rollout target (unleash-server 8.2,
started and stopped the way the test suite does it, `tests/support/unleash.py`, on its own
throwaway PostgreSQL database): there the clock stops when Unleash's client API (what SDKs fetch,
with the backend token) shows the region's strategy at the first step's percentage, polled every
10 ms; the recording target's figure (the console mode) comes from the same run.

Baselines in the same run, against the same Prefect server: one minimal async Prefect flow run in
process (one task), and a `run_deployment` start (asked for until its flow run is RUNNING) of a
served one-task flow at Prefect's default runner poll.

    .venv/bin/python -m benchmarks.gate_propagation [--runs 9] [--backlog 40] [--deployment-runs 3]

Needs PostgreSQL on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL) and Unleash installed
(`bash scripts/unleash.sh`); starts a throwaway local Prefect server (about 20 s) and Unleash (10 to
30 s, meanwhile), the API (uvicorn) and, per mode, one worker at its default poll (0.5 s).
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from benchmarks._harness import local_prefect, machine, percentile, table, throwaway_postgres, uvicorn_process
from benchmarks._seed import gated_launch, seed_directory
from flows.unleash_target import region_rollouts
from orchestrator.core.models import ExposureChange
from orchestrator.core.settings import reset_settings
from orchestrator.rollouts.target import TargetName
from tests.support.fake_slack import TOKEN, FakeSlack
from tests.support.unleash import UnleashDidNotStart, UnleashServer, stop_unleash, wait_until_up
from tests.support.unleash import start_in_background as start_unleash

DEADLINE = 60.0  # seconds one propagation may take before the run is called broken


FLAG_PREFIX = "bench."  # the Unleash flag of launch SLUG is bench.SLUG
FIRST_STEP = 100  # the benchmark launches' first exposure step: internal, EU, 100%


def first_step_recorded(engine: Engine, slug: str) -> bool:
    """The recording target has the launch's first step."""
    with Session(engine) as session:
        return (
            session.exec(select(ExposureChange.id).where(col(ExposureChange.launch_slug) == slug)).first() is not None
        )


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


def propagation(client: httpx.Client, slug: str, item_id: int, seen: Callable[[str], bool]) -> float:
    started = time.perf_counter()
    answer = client.post(f"/api/v1/items/{item_id}/check", json={})
    if answer.status_code != 200:
        raise SystemExit(f"check-off answered {answer.status_code}: {answer.text}")
    while not seen(slug):
        if time.perf_counter() - started > DEADLINE:
            raise SystemExit(f"{slug}: no exposure step within {DEADLINE:.0f} s; is the worker running?")
        time.sleep(0.01)
    return time.perf_counter() - started


def minimal_flow_runs(runs: int) -> list[float]:
    from benchmarks._served_flow import minimal_async

    asyncio.run(minimal_async(0))  # registers the flow; not measured
    times = []
    for index in range(runs):
        started = time.perf_counter()
        asyncio.run(minimal_async(index))
        times.append(time.perf_counter() - started)
    return times


def deployment_starts(runs: int, log: Path) -> list[float]:
    """`run_deployment` of a served flow, timed until Prefect reports its run RUNNING (or done)."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    from benchmarks._served_flow import DEPLOYMENT

    with log.open("ab") as sink:
        serving = subprocess.Popen([sys.executable, "-m", "benchmarks._served_flow"], stdout=sink, stderr=sink)

    async def started_after(flow_run_id: UUID, began: float) -> float:
        async with get_client() as client:
            while True:
                state = (await client.read_flow_run(flow_run_id)).state
                if state is not None and state.type.value in ("RUNNING", "COMPLETED"):
                    return time.perf_counter() - began
                if time.perf_counter() - began > DEADLINE:
                    raise SystemExit(f"deployment run not started within {DEADLINE:.0f} s; see {log}")
                await asyncio.sleep(0.02)

    async def wait_for_deployment() -> None:
        async with get_client() as client:
            deadline = time.perf_counter() + DEADLINE
            while True:
                try:
                    await client.read_deployment_by_name(DEPLOYMENT)
                    return
                except ObjectNotFound:  # until the runner has registered it
                    if time.perf_counter() > deadline or serving.poll() is not None:
                        raise SystemExit(f"the served flow never registered; see {log}") from None
                    await asyncio.sleep(0.2)

    try:
        asyncio.run(wait_for_deployment())
        times = []
        for _ in range(runs + 1):  # the first start warms the runner up; not measured
            began = time.perf_counter()
            flow_run = run_deployment(DEPLOYMENT, timeout=0)
            times.append(asyncio.run(started_after(flow_run.id, began)))  # type: ignore[union-attr]
        return times[1:]
    finally:
        serving.terminate()
        serving.wait(timeout=30)


@dataclass(frozen=True)
class Mode:
    label: str
    slack: bool
    failing: float = 0.0
    target: TargetName | None = None  # the launches' own rollout target (None: the recorder, the default)

    @property
    def until(self) -> str:
        return "Unleash's client API shows the first step" if self.target == "unleash" else "first exposure step"


MODES = (
    Mode("console transport", slack=False),
    Mode("Unleash target, console transport", slack=False, target="unleash"),
    Mode("Slack transport, fake Slack clean", slack=True),
    Mode("Slack transport, fake Slack failing 30% of calls", slack=True, failing=0.3),
)
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
    unleash: UnleashServer,
) -> tuple[list[float], int, int]:
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

    def seen(slug: str) -> bool:
        if mode.target == "unleash":
            return first_step_in_unleash(poller, unleash, slug)
        return first_step_recorded(engine, slug)

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
    propagations = []
    try:
        with (
            uvicorn_process("api.app:serving_app", env={"LAUNCHDECK_DATABASE_URL": url}, log=home / "api.log") as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client,
        ):
            for n, (slug, item_id) in enumerate(waiting):
                if worker.poll() is not None:
                    raise SystemExit(f"the worker exited; see {log_path}")
                seconds = propagation(client, slug, item_id, seen)
                if n > 0:
                    propagations.append(seconds)
    finally:
        poller.close()
        worker.terminate()
        worker.wait(timeout=60)
        fake.recover()
    calls = fake.calls[calls_before:]
    return propagations, len(calls), sum(call.answered != "ok" for call in calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--backlog", type=int, default=40, help="launches whose gate messages Slack must post")
    parser.add_argument("--deployment-runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    home = Path(tempfile.mkdtemp(prefix="bench-propagation-"))
    fake = FakeSlack()
    fake.start()
    start_unleash()  # in the background, while the Prefect server starts
    measured: list[tuple[Mode, list[float], int, int]] = []
    try:
        with local_prefect(home):
            try:
                unleash = wait_until_up()
            except UnleashDidNotStart as exc:
                raise SystemExit(f"Unleash: {exc}") from None
            use_unleash(unleash)
            with throwaway_postgres() as url:
                from orchestrator.core.db import make_engine

                engine = make_engine(url)
                with Session(engine) as session:
                    token = seed_directory(session)
                for index, mode in enumerate(MODES):
                    found = measure_mode(
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
                    measured.append((mode, *found))
                engine.dispose()
            flows = minimal_flow_runs(args.runs)
            starts = deployment_starts(args.deployment_runs, home / "served.log")
    finally:
        fake.stop()
        stop_unleash()
    report(flows, starts, measured, backlog=args.backlog)


def report(
    flows: list[float], starts: list[float], measured: list[tuple[Mode, list[float], int, int]], *, backlog: int
) -> None:
    base_median = statistics.median(flows)
    rows = []
    labelled = [
        ("minimal Prefect flow run, in process (baseline)", flows, ""),
        ("`run_deployment` start, served flow, default poll", starts, ""),
    ] + [
        (f"check-off of the last item -> {mode.until}, {mode.label}", values, f"{calls} ({failed} failed)")
        for mode, values, calls, failed in measured
    ]
    for label, values, slack in labelled:
        median = statistics.median(values)
        rows.append(
            [
                label,
                str(len(values)),
                f"{median * 1000:.0f} ms",
                f"{percentile(values, 95) * 1000:.0f} ms",
                f"{median / base_median:.1f}",
                slack,
            ]
        )
    print(
        "local Prefect server (SQLite), PostgreSQL for launchdeck, one worker polling every 0.5 s; "
        f"{backlog} gate messages queued for Slack before each mode"
    )
    print(table(["measured", "runs", "median", "p95", "median ratio", "Slack calls meanwhile"], rows))
    missed = [mode.label for mode, values, _calls, _failed in measured if statistics.median(values) >= 2]
    verdict = "met" if not missed else "NOT met: " + ", ".join(missed)
    print(f"goal: propagation median under 2 s in every mode: {verdict}")


if __name__ == "__main__":
    main()
