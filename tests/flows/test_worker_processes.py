"""Real worker processes: killed with SIGKILL mid-rollout and restarted, and two of them sharing
one PostgreSQL and one Prefect server. Every transition must happen exactly once."""

import os
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from orchestrator.core.enums import GateKind, LaunchStatus, OutboxStatus, Phase, Vote
from orchestrator.core.models import AuditEvent, ExposureChange, Gate, Launch, Outbox, Region, RegionRollout
from orchestrator.gates.approvals import cast_vote
from tests.support.flows import ready_launch, wait_for
from tests.support.processes import LAUNCHDECK, stop

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]
SLOW_RAMP = {
    phase.value: [
        {"percent": 5, "hold_minutes": 0.01},
        {"percent": 25, "hold_minutes": 0.01},
        {"percent": 100},
    ]
    for phase in (Phase.PUBLIC_BETA, Phase.GA)
}
EXPECTED_STEPS = [
    ("internal", 100),
    ("private_beta", 100),
    ("public_beta", 5),
    ("public_beta", 25),
    ("public_beta", 100),
    ("ga", 5),
    ("ga", 25),
    ("ga", 100),
]


# The scale-out run: many launches, fewer steps each (internal, then GA ramped 10/50/100 at once).
SCALE_PHASES = (Phase.INTERNAL, Phase.GA)
SCALE_STEPS = [("internal", 100), ("ga", 10), ("ga", 50), ("ga", 100)]


def start_worker(database_url: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LAUNCHDECK_DATABASE_URL": database_url,
        "LAUNCHDECK_WORKER_POLL_SECONDS": "0.1",
        # Short claims: a killed worker's leases and claimed deliveries come free within seconds.
        "LAUNCHDECK_WORKER_LEASE_SECONDS": "5",
    }
    with log.open("ab") as sink:
        return subprocess.Popen([LAUNCHDECK, "worker", "--name", name], env=env, stdout=sink, stderr=subprocess.STDOUT)


def while_alive(workers: list[subprocess.Popen[bytes]], logs: list[Path], condition):
    """Wrap a wait condition so a worker that died fails the test at once, with its log."""

    def check():
        for worker, log in zip(workers, logs, strict=True):
            if worker.poll() is not None:
                raise AssertionError(f"worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")
        return condition()

    return check


def vote_go(session, actor, launch):
    for gate in session.exec(
        select(Gate)
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .where(RegionRollout.launch_id == launch.id, Gate.kind == GateKind.APPROVAL)
    ).all():
        cast_vote(
            session=session,
            gate_id=gate.id,
            on_behalf_of="vp@example.com",
            on_behalf_reason="go/no-go meeting",
            vote=Vote.GO,
            actor=actor,
        )


def completed(session: Session, slugs: list[str]) -> bool:
    statuses = session.exec(select(Launch.status).where(col(Launch.slug).in_(slugs))).all()
    session.commit()
    return all(status == LaunchStatus.COMPLETED for status in statuses)


def assert_exactly_once(session, slugs, regions, *, expected_steps=EXPECTED_STEPS, phases=tuple(Phase)):
    """Every exposure step once per region, every phase transition once, every target row sent;
    returns how many steps each process took."""
    for slug in slugs:
        for region in regions:
            steps = session.exec(
                select(ExposureChange.phase, ExposureChange.percent)
                .where(ExposureChange.launch_slug == slug, ExposureChange.region == region)
                .order_by(col(ExposureChange.id))
            ).all()
            assert [(phase.value, percent) for phase, percent in steps] == expected_steps, (slug, region)
    launch_ids = session.exec(select(Launch.id).where(col(Launch.slug).in_(slugs))).all()
    events = session.exec(
        select(AuditEvent).where(col(AuditEvent.launch_id).in_(launch_ids), AuditEvent.entity == "rollout")
    ).all()
    transitions = Counter((event.entity_id, event.action, str(event.after)) for event in events)
    doubled = {key: n for key, n in transitions.items() if n > 1}
    assert not doubled, f"transitions recorded more than once: {doubled}"
    lives = Counter((event.entity_id, event.after["phase"]) for event in events if event.action == "rollout.live")
    assert set(lives.values()) == {1}
    assert len(lives) == len(slugs) * len(regions) * len(phases)
    unsent = session.exec(
        select(Outbox).where(
            col(Outbox.launch_id).in_(launch_ids), Outbox.topic == "target.exposure", Outbox.status != OutboxStatus.SENT
        )
    ).all()
    assert unsent == []
    session.commit()
    return Counter(event.actor for event in events if event.actor.startswith("flow@"))


def launch_record(session: Session, slug: str) -> dict[str, object]:
    """What a finished launch left behind, without ids and times: the target's steps per region, the
    region transitions in order, every audit action, and every outbox intent with its fate."""
    launch = session.exec(select(Launch).where(Launch.slug == slug)).one()
    regions = {
        rollout_id: code
        for rollout_id, code in session.exec(
            select(RegionRollout.id, Region.code)
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(RegionRollout.launch_id == launch.id)
        ).all()
    }
    steps = session.exec(
        select(ExposureChange.region, ExposureChange.phase, ExposureChange.percent)
        .where(ExposureChange.launch_slug == slug)
        .order_by(col(ExposureChange.id))
    ).all()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.launch_id == launch.id).order_by(col(AuditEvent.id))
    ).all()
    intents = session.exec(select(Outbox.topic, Outbox.status).where(Outbox.launch_id == launch.id)).all()
    session.commit()
    return {
        "status": launch.status,
        "steps": {code: [(p, n) for r, p, n in steps if r == code] for code in sorted(regions.values())},
        "transitions": {
            code: [
                (e.action, e.after["state"], e.after.get("phase"), e.after.get("percent"))
                for e in events
                if e.entity == "rollout" and e.entity_id == rollout_id and e.after and "state" in e.after
            ]
            for rollout_id, code in regions.items()
        },
        "audit": Counter(event.action for event in events),
        "intents": Counter((topic, status) for topic, status in intents),
    }


def audit_count(session: Session, launch_id: int) -> int:
    """Polled every 20 ms while a worker runs, so counted by the database, not by fetching rows."""
    value = session.exec(select(func.count()).where(AuditEvent.launch_id == launch_id)).one()
    session.commit()
    return value


def test_a_worker_killed_mid_rollout_again_and_again_ends_as_an_uninterrupted_run(
    engine, seeded, actor, tmp_path, capsys
):
    """One launch runs through undisturbed; its twin's worker is SIGKILLed at random points (by how
    many audit events the twin has written; ten times on PostgreSQL) and restarted. Both must end the same: the same
    exposure steps, transitions, audit actions and delivered intents, each exactly once."""
    database_url = engine.url.render_as_string(hide_password=False)
    log = tmp_path / "worker.log"
    calm = ready_launch(seeded, actor, slug="calm", regions=("EU", "NA"), phases=SCALE_PHASES, ramp_plan=SLOW_RAMP)
    vote_go(seeded, actor, calm)
    calm_start = audit_count(seeded, calm.id)
    worker = start_worker(database_url, "calm-worker", log)
    try:
        wait_for(while_alive([worker], [log], lambda: completed(seeded, ["calm"])), timeout=120)
    finally:
        stop(worker)
    calm_events = audit_count(seeded, calm.id) - calm_start

    crash = ready_launch(seeded, actor, slug="crash", regions=("EU", "NA"), phases=SCALE_PHASES, ramp_plan=SLOW_RAMP)
    vote_go(seeded, actor, crash)
    crash_start = audit_count(seeded, crash.id)
    seed = int(os.environ.get("LAUNCHDECK_KILL_SEED", "20261128"))
    # Ten kills on PostgreSQL, where workers scale out; three on SQLite keep its suite time modest.
    kills = 10 if engine.dialect.name == "postgresql" else 3
    kill_points = sorted(random.Random(seed).sample(range(crash_start + 1, crash_start + calm_events), kills))
    with capsys.disabled():
        print(f"\nkill seed {seed} (set LAUNCHDECK_KILL_SEED to replay): kills at audit events {kill_points}")
    for point in kill_points:
        worker = start_worker(database_url, "crash-worker", log)
        try:
            reached = lambda point=point: audit_count(seeded, crash.id) >= point  # noqa: E731
            wait_for(while_alive([worker], [log], reached), timeout=120, interval=0.02)
        finally:
            worker.send_signal(signal.SIGKILL)  # no cleanup, no lease release, mid-whatever it was doing
            worker.wait(timeout=30)
    worker = start_worker(database_url, "crash-worker", log)
    try:
        wait_for(while_alive([worker], [log], lambda: completed(seeded, ["crash"])), timeout=180)
        # Intents are delivered after the last step; wait for the crash run's to settle like the calm one's.
        wait_for(
            lambda: launch_record(seeded, "crash")["intents"] == launch_record(seeded, "calm")["intents"], timeout=60
        )
    finally:
        stop(worker)

    steps = [("internal", 100), ("ga", 5), ("ga", 25), ("ga", 100)]
    assert_exactly_once(seeded, ["calm", "crash"], ("EU", "NA"), expected_steps=steps, phases=SCALE_PHASES)
    assert launch_record(seeded, "crash") == launch_record(seeded, "calm")


@pytest.mark.postgres
def test_two_workers_share_many_launches_and_each_transition_happens_once(postgres_url, tmp_path, actor):
    from sqlalchemy import text
    from sqlmodel import SQLModel

    from orchestrator.core.db import make_engine
    from orchestrator.directory.seed import load_seed
    from orchestrator.directory.service import apply_seed

    engine = make_engine(postgres_url)
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    slugs = [f"scale-{index:02d}" for index in range(6)]
    with Session(engine, expire_on_commit=False) as session:
        apply_seed(session=session, config=load_seed(None), actor=actor)
        for slug in slugs:
            launch = ready_launch(session, actor, slug=slug, regions=("EU", "NA"), phases=SCALE_PHASES)
            vote_go(session, actor, launch)
        logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
        workers = [start_worker(postgres_url, f"scale-{n}", log) for n, log in zip((1, 2), logs, strict=True)]
        try:
            wait_for(while_alive(workers, logs, lambda: completed(session, slugs)), timeout=300, interval=0.5)
        finally:
            for worker in workers:
                stop(worker)
        by_process = assert_exactly_once(session, slugs, ("EU", "NA"), expected_steps=SCALE_STEPS, phases=SCALE_PHASES)
    engine.dispose()
    assert len(by_process) == 2, f"both workers should have taken steps: {by_process}"
