"""Shared by the chaos tests (tests/chaos): outage lengths from the environment, real worker
processes, and reads of what a rollout did and when.

Each outage is a parameter (``LAUNCHDECK_CHAOS_*_OUTAGE_S``): short in the suite, which has a
time budget, and as long as issue #21 says (two minutes of Prefect, ten of Slack) when run alone;
BENCHMARKS.md has the figures of both.
"""

import os
import subprocess
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import GateKind, Phase, Role, Vote
from orchestrator.core.models import AuditEvent, ExposureChange, Gate, Launch, RegionRollout
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.directory.tokens import create_token
from orchestrator.gates.approvals import cast_vote
from tests.support.processes import LAUNCHDECK


def outage_seconds(variable: str, default: float) -> float:
    return float(os.environ.get(variable) or default)


def start_worker(database_url: str, name: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`launchdeck worker` on ``database_url``, polling every 0.1 s, its output in ``log``."""
    environment = {
        **os.environ,
        "LAUNCHDECK_DATABASE_URL": database_url,
        "LAUNCHDECK_WORKER_POLL_SECONDS": "0.1",
        **env,
    }
    with log.open("ab") as sink:
        return subprocess.Popen(
            [LAUNCHDECK, "worker", "--name", name], env=environment, stdout=sink, stderr=subprocess.STDOUT
        )


def running(process: subprocess.Popen[bytes], log: Path) -> bool:
    """True while ``process`` runs; fails with the end of its log once it has exited."""
    if process.poll() is not None:
        raise AssertionError(f"{process.args!r} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
    return True


def prodops_token(session: Session, actor: Actor) -> str:
    """The secret of a product-ops token (may check off any team's items), for ops@example.com."""
    email = "ops@example.com"
    upsert_member(session=session, seed=MemberSeed(email=email, name="Ops Person", role=Role.PRODOPS), actor=actor)
    _token, secret = create_token(
        session=session, name="chaos-load", role=Role.PRODOPS, member_email=email, actor=actor
    )
    return secret


def steps_of(session: Session, slug: str) -> dict[str, list[tuple[str, int, datetime]]]:
    """Region -> the exposure steps the target received for ``slug``, in order, with when."""
    rows = session.exec(
        select(ExposureChange.region, ExposureChange.phase, ExposureChange.percent, ExposureChange.received_at)
        .where(ExposureChange.launch_slug == slug)
        .order_by(col(ExposureChange.id))
    ).all()
    session.commit()
    steps: dict[str, list[tuple[str, int, datetime]]] = {}
    for region, phase, percent, at in rows:
        steps.setdefault(region, []).append((Phase(phase).value, percent, at))
    return steps


def doubled_transitions(session: Session, slug: str) -> dict[tuple[object, ...], int]:
    """Rollout transitions of ``slug`` recorded more than once (none, when each happened once)."""
    launch_id = session.exec(select(Launch.id).where(Launch.slug == slug)).one()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.launch_id == launch_id, AuditEvent.entity == "rollout")
    ).all()
    session.commit()
    counted = Counter((event.entity_id, event.action, str(event.after)) for event in events)
    return {key: n for key, n in counted.items() if n > 1}


def vote_go(session: Session, actor: Actor, launch: Launch) -> None:
    """Go on every approval gate of ``launch``, cast for its approver vp@example.com."""
    gates = session.exec(
        select(Gate)
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .where(RegionRollout.launch_id == launch.id, Gate.kind == GateKind.APPROVAL)
    ).all()
    for gate in gates:
        assert gate.id is not None
        cast_vote(
            session=session,
            gate_id=gate.id,
            on_behalf_of="vp@example.com",
            on_behalf_reason="go/no-go meeting",
            vote=Vote.GO,
            actor=actor,
        )


class StallProbe:
    """What the machine itself made a step wait, measured beside a timing test: every 0.2 s a
    thread commits an empty transaction on the test's database and writes to the Prefect server
    (the flow it names, upserted), again until the write is taken, and keeps the longest such
    round trip, counted from when the probe meant to start it (so a starved process counts too).

    Why: in a full run the suite's shared Prefect server keeps its data in SQLite, and while other
    tests' workers write to it, a write can meet "database is locked"; Prefect answers 503 and its
    client retries after 2, 4, 8 s. A ramp step that met that came 6-15 s late although nothing under
    test caused it. A timing bound plus the stall measured in the same minute still fails when the
    code under test delays a step, and no longer fails when the shared server did."""

    def __init__(self, engine: Engine, prefect_api_url: str, *, every: float = 0.2) -> None:
        self.engine, self.url, self.every = engine, prefect_api_url.rstrip("/"), every
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-probe", daemon=True)

    def __enter__(self) -> "StallProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(timeout=60) as client:
            due = time.monotonic()
            while not self._stop.is_set():
                with self.engine.begin() as connection:
                    connection.execute(text("SELECT 1"))
                while (answer := client.post(f"{self.url}/flows/", json={"name": "stall-probe"})).status_code == 503:
                    self._stop.wait(0.05)  # locked: try again, as Prefect's client would (sooner)
                answer.raise_for_status()
                self.worst = max(self.worst, time.monotonic() - due)
                due = max(due + self.every, time.monotonic())
                self._stop.wait(max(0.0, due - time.monotonic()))
