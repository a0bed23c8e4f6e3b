"""Scale-out: one worker, then two, each over its own 100 launches on one PostgreSQL, fed by two API
processes. Every region transition must happen once, both workers must do a share of the work, and
the throughput (region transitions per second) of two workers is compared with one's, measured in
the same run against the same Prefect server and database.

Each launch: regions EU and NA in parallel waves, phases internal and GA (GA ramped 10/50/100 with
no holds), one blocking checklist item per region and phase, GA's approval gate voted Go
beforehand. Made through the services and left waiting at their internal gates; the run's clock
starts when the check-offs of all their items are sent (8 client threads, alternating between the
two API processes) and stops when the last launch is completed. A transition is an audit event of a
region rollout (gate passed, each exposure step, live, next phase).

    .venv/bin/python -m benchmarks.two_workers [--launches 100] [--clients 8] [--prefect-db sqlite]

Needs PostgreSQL on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL); starts a throwaway local
Prefect server (about 20 s) unless PREFECT_API_URL is set, backed by a throwaway PostgreSQL
database of its own (its default SQLite file stalls under two workers' flow runs; `--prefect-db
sqlite` shows it). CPU is counted per process from /proc: each worker, the Prefect server, both
APIs, and the PostgreSQL backends connected to this run's two databases (a backend that ends
during a run takes its CPU time with it, so that figure is a floor).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from benchmarks._harness import (
    local_prefect,
    machine,
    server_cpu_seconds,
    table,
    throwaway_postgres,
    uvicorn_process,
)
from benchmarks._seed import ACTOR, seed_directory
from orchestrator.core.enums import GateKind, LaunchStatus, Phase, Vote
from orchestrator.core.models import AuditEvent, ChecklistItem, ExposureChange, Gate, Launch, RegionRollout
from orchestrator.gates.approvals import cast_vote
from tests.support.factories import item
from tests.support.flows import ready_launch

REGIONS = ("EU", "NA")
PHASES = (Phase.INTERNAL, Phase.GA)
RAMP: dict[str, list[dict[str, int | float]]] = {
    Phase.GA.value: [{"percent": 10, "hold_minutes": 0}, {"percent": 50, "hold_minutes": 0}, {"percent": 100}]
}
STEPS = [("internal", 100), ("ga", 10), ("ga", 50), ("ga", 100)]
LAUNCHDECK = str(Path(sys.executable).parent / "launchdeck")


@dataclass(frozen=True)
class Run:
    workers: int
    seconds: float
    transitions: int
    by_worker: tuple[int, ...]  # transitions each worker's flows recorded
    cpu: tuple[float, ...]  # CPU seconds each worker used during the run
    doubled: int  # transitions recorded more than once (must be 0)
    wrong_steps: int  # regions whose exposure steps are not exactly STEPS (must be 0)
    others_cpu: dict[str, float]  # CPU seconds of the Prefect server, the two APIs, PostgreSQL meanwhile
    machine_busy: float  # share of the machine's cores busy meanwhile (anything running on it)


def machine_ticks() -> tuple[int, int]:
    """All and idle CPU ticks of the machine so far (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


def prefect_server_pids() -> list[int]:
    """The local Prefect server of this run (its port is in PREFECT_API_URL) and its children."""
    port = os.environ.get("PREFECT_API_URL", "").rsplit(":", 1)[-1].split("/", 1)[0]
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"server" in words and b"start" in words and port.encode() in words:
            found.append(int(cmdline.parent.name))
    return found


def postgres_backends(databases: list[str]) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to one of ``databases`` (its
    process title names the database: ``postgres: 15/main: user database host(port) state``)."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().decode(errors="replace").split()
            if len(words) > 3 and words[0] == "postgres:" and words[3] in databases:
                found[int(cmdline.parent.name)] = cpu_seconds(int(cmdline.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return found


def databases(url: str) -> list[str]:
    """This run's databases: launchdeck's, and the Prefect server's when it is on PostgreSQL."""
    names = [make_url(url).database or ""]
    prefect = os.environ.get("PREFECT_SERVER_DATABASE_CONNECTION_URL")
    return names + ([make_url(prefect).database or ""] if prefect else [])


def others_cpu(bases: list[str], url: str) -> dict[str, float]:
    return {
        "Prefect server": sum(cpu_seconds(pid) for pid in prefect_server_pids()),
        "APIs": sum(server_cpu_seconds(base) for base in bases),
        "PostgreSQL": 0.0,  # per backend, in run(): backends come and go
    }


def seed(engine: Engine, prefix: str, count: int) -> tuple[list[str], list[int]]:
    """``count`` launches waiting at their internal gates; their slugs and their items' ids."""
    items = [
        item(f"{region.lower()}_{phase.value}", region=region, phase=phase) for region in REGIONS for phase in PHASES
    ]
    slugs = [f"{prefix}-{n:03d}" for n in range(count)]
    with Session(engine, expire_on_commit=False) as session:
        for slug in slugs:
            launch = ready_launch(
                session, ACTOR, slug=slug, regions=REGIONS, phases=PHASES, items=items, ramp_plan=RAMP
            )
            for gate_id in session.exec(
                select(Gate.id)
                .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
                .where(RegionRollout.launch_id == launch.id, Gate.kind == GateKind.APPROVAL)
            ).all():
                assert gate_id is not None
                cast_vote(
                    session=session,
                    gate_id=gate_id,
                    on_behalf_of="vp@example.com",
                    on_behalf_reason="go/no-go meeting",
                    vote=Vote.GO,
                    actor=ACTOR,
                )
        ids = session.exec(
            select(ChecklistItem.id).join(Launch).where(col(Launch.slug).in_(slugs)).order_by(col(ChecklistItem.id))
        ).all()
    return slugs, [item_id for item_id in ids if item_id is not None]


def start_worker(url: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LAUNCHDECK_DATABASE_URL": url}
    with log.open("ab") as sink:
        worker = subprocess.Popen(
            [LAUNCHDECK, "worker", "--name", name], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while "polling every" not in log.read_text(errors="replace"):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker {name} did not start; see {log}")
        time.sleep(0.1)
    return worker


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def all_completed(engine: Engine, slugs: list[str]) -> bool:
    with Session(engine) as session:
        statuses = session.exec(select(Launch.status).where(col(Launch.slug).in_(slugs))).all()
    return len(statuses) == len(slugs) and all(status == LaunchStatus.COMPLETED for status in statuses)


def check_off(bases: list[str], token: str, item_ids: list[int], clients: int) -> None:
    """Every item checked over HTTP, ``clients`` at a time, alternating between the API processes."""
    http = [httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) for base in bases]

    def one(index: int) -> None:
        answer = http[index % len(http)].post(f"/api/v1/items/{item_ids[index]}/check", json={})
        if answer.status_code != 200:
            raise SystemExit(f"check-off answered {answer.status_code}: {answer.text[:300]}")

    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(one, range(len(item_ids))))
    finally:
        for client in http:
            client.close()


def run(
    engine: Engine,
    *,
    url: str,
    bases: list[str],
    token: str,
    workers: int,
    launches: int,
    args: argparse.Namespace,
    home: Path,
) -> Run:
    slugs, item_ids = seed(engine, f"w{workers}", launches)
    processes = [start_worker(url, f"bench-{workers}-{n}", home / f"worker-{workers}-{n}.log") for n in range(workers)]
    try:
        cpu_before = [cpu_seconds(process.pid) for process in processes]
        others_before, ticks_before = others_cpu(bases, url), machine_ticks()
        backends_before = postgres_backends(databases(url))
        started = time.perf_counter()
        check_off(bases, token, item_ids, args.clients)
        while not all_completed(engine, slugs):
            if time.perf_counter() - started > args.deadline or any(
                process.poll() is not None for process in processes
            ):
                raise SystemExit(f"{workers} worker(s): launches not completed; see {home}")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        cpu = tuple(cpu_seconds(process.pid) - before for process, before in zip(processes, cpu_before, strict=True))
        others = {name: spent - others_before[name] for name, spent in others_cpu(bases, url).items()}
        backends = postgres_backends(databases(url))
        others["PostgreSQL"] = sum(spent - backends_before.get(pid, 0.0) for pid, spent in backends.items())
        (total, idle), (total_before, idle_before) = machine_ticks(), ticks_before
        busy = 1 - (idle - idle_before) / max(total - total_before, 1)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    counted = tally(engine, slugs, workers=workers, seconds=seconds, cpu=cpu, pids=[p.pid for p in processes])
    return replace(counted, others_cpu=others, machine_busy=busy)


def tally(
    engine: Engine, slugs: list[str], *, workers: int, seconds: float, cpu: tuple[float, ...], pids: list[int]
) -> Run:
    with Session(engine) as session:
        launch_ids = session.exec(select(Launch.id).where(col(Launch.slug).in_(slugs))).all()
        events = session.exec(
            select(AuditEvent).where(col(AuditEvent.launch_id).in_(launch_ids), AuditEvent.entity == "rollout")
        ).all()
        steps = session.exec(
            select(ExposureChange.launch_slug, ExposureChange.region, ExposureChange.phase, ExposureChange.percent)
            .where(col(ExposureChange.launch_slug).in_(slugs))
            .order_by(col(ExposureChange.id))
        ).all()
    seen = Counter((event.entity_id, event.action, str(event.after)) for event in events)
    per_region: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for slug, region, phase, percent in steps:
        per_region.setdefault((slug, region), []).append((Phase(phase).value, percent))
    wrong = sum(per_region.get((slug, region)) != STEPS for slug in slugs for region in REGIONS)
    by_actor = Counter(event.actor for event in events)
    return Run(
        workers=workers,
        seconds=seconds,
        transitions=len(events),
        by_worker=tuple(sum(n for actor, n in by_actor.items() if actor.endswith(f"-{pid}")) for pid in pids),
        cpu=cpu,
        doubled=sum(n - 1 for n in seen.values() if n > 1),
        wrong_steps=wrong,
        others_cpu={},
        machine_busy=0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--launches", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=3600, help="seconds a run may take before it fails")
    parser.add_argument("--prefect-db", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    home = Path(tempfile.mkdtemp(prefix="bench-two-workers-"))
    runs: list[Run] = []
    with local_prefect(home, on_postgres=args.prefect_db == "postgres"), throwaway_postgres() as url:
        from orchestrator.core.db import make_engine

        engine = make_engine(url)
        with Session(engine) as session:
            token = seed_directory(session)
        with ExitStack() as apis:
            bases = [
                apis.enter_context(
                    uvicorn_process(
                        "api.app:serving_app", env={"LAUNCHDECK_DATABASE_URL": url}, log=home / f"api-{n}.log"
                    )
                )
                for n in (1, 2)
            ]
            for workers in (1, 2):
                runs.append(
                    run(
                        engine,
                        url=url,
                        bases=bases,
                        token=token,
                        workers=workers,
                        launches=args.launches,
                        args=args,
                        home=home,
                    )
                )
        engine.dispose()
    report(runs, launches=args.launches, prefect_db=args.prefect_db)


def report(runs: list[Run], *, launches: int, prefect_db: str) -> None:
    base = runs[0].transitions / runs[0].seconds
    rows = []
    for one in runs:
        rate = one.transitions / one.seconds
        by_api = one.transitions - sum(one.by_worker)  # gates passed by the check-off itself
        shares = " / ".join(f"{n} ({n / max(one.transitions, 1):.0%})" for n in one.by_worker)
        shares += f" / APIs {by_api} ({by_api / max(one.transitions, 1):.0%})"
        per = 1000 / max(one.transitions, 1)  # ms of CPU per transition for each CPU second
        spent = [sum(one.cpu), *one.others_cpu.values()]
        rows.append(
            [
                str(one.workers),
                f"{one.seconds:.1f} s",
                str(one.transitions),
                f"{one.doubled} / {one.wrong_steps}",
                shares,
                f"{rate:.1f}",
                f"{rate / base:.2f}",
                " / ".join(f"{seconds * per:.0f}" for seconds in one.cpu),
                " / ".join(f"{seconds * per:.0f}" for seconds in one.others_cpu.values()),
                f"{sum(spent) * per:.0f}",
                f"{one.machine_busy:.0%}",
            ]
        )
    print(
        f"{launches} launches per run, 2 regions each in parallel waves, 2 API processes, one PostgreSQL;"
        f" Prefect server on {prefect_db}"
    )
    header = [
        "workers",
        "check-offs sent -> last launch completed",
        "region transitions",
        "doubled transitions / regions with wrong steps",
        "transitions by worker / by the APIs (share)",
        "transitions/s",
        "ratio to one worker",
        "CPU ms per transition: each worker",
        "CPU ms per transition: " + " / ".join(runs[0].others_cpu),
        "CPU ms per transition, all counted",
        "machine busy (2 cores, everything on it)",
    ]
    print(table(header, rows))
    once = all(one.doubled == 0 and one.wrong_steps == 0 for one in runs)
    busy = all(n > 0 for n in runs[-1].by_worker)
    print(f"every transition once: {'yes' if once else 'NO'}; both workers busy: {'yes' if busy else 'NO'}")


if __name__ == "__main__":
    main()
