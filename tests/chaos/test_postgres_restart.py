"""PostgreSQL restarted under a load of check-offs (issue #21): a throwaway cluster of the installed
server (never the suite's shared one) is stopped in immediate mode, as a crash would stop it, while
four clients check items off over HTTP against a real API process, with a real worker process on
the same database. While it is down every answer is a 503 problem+json with Retry-After; when it is
back, nothing acknowledged is missing and the API and the worker work again within five seconds,
each without a restart of its own.

``LAUNCHDECK_CHAOS_POSTGRES_OUTAGE_S`` sets how long PostgreSQL stays down (3 s by default).
"""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from notifications.delivery.composer import TOPICS as SLACK_TOPICS
from orchestrator.core.db import make_engine
from orchestrator.core.enums import ItemStatus, OutboxStatus, Phase
from orchestrator.core.migrate import upgrade
from orchestrator.core.models import AuditEvent, ChecklistItem, ExposureChange, Launch, Outbox
from orchestrator.directory.seed import load_seed
from orchestrator.directory.service import apply_seed
from tests.support.api import PROBLEM_JSON
from tests.support.chaos import outage_seconds, prodops_token, running, start_worker
from tests.support.factories import item
from tests.support.flows import ready_launch, wait_for
from tests.support.pg_cluster import Cluster, throwaway_cluster
from tests.support.processes import stop
from tests.support.slack_processes import start_api

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.usefixtures("prefect_server")]

OUTAGE = outage_seconds("LAUNCHDECK_CHAOS_POSTGRES_OUTAGE_S", 3.0)
CLIENTS = 4
ITEMS_PER_CLIENT = 20
# The items' teams, in turn: each team's gate message (re-rendered on every check-off) stays short.
TEAMS = ("product", "marketing", "sales", "support", "legal", "docs", "security", "enablement")
RECOVERY_BOUND = 5.0  # seconds from PostgreSQL accepting connections again
PAUSE_AFTER_503 = 0.05  # the load keeps coming rather than honour Retry-After


@dataclass(frozen=True)
class Answer:
    item_id: int
    at: float  # time.monotonic()
    status: int  # 0: no HTTP answer at all
    content_type: str = ""
    retry_after: str | None = None
    body: str = ""


class Load:
    """``CLIENTS`` threads, each checking off its own items one after another over its own HTTP
    connection; a 503 is retried (after ``PAUSE_AFTER_503``), anything else moves to the next item."""

    def __init__(self, base: str, secret: str, item_ids: list[int]) -> None:
        self.base, self.secret = base, secret
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        shares = [item_ids[index::CLIENTS] for index in range(CLIENTS)]
        self.threads = [threading.Thread(target=self._client, args=(share,), daemon=True) for share in shares]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)

    def count(self, status: int, *, after: float = 0.0) -> int:
        with self._lock:
            return sum(1 for answer in self.answers if answer.status == status and answer.at > after)

    def _client(self, item_ids: list[int]) -> None:
        headers = {"Authorization": f"Bearer {self.secret}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=15) as http:
            for item_id in item_ids:
                while check_off(http, item_id, self._record) == 503:
                    time.sleep(PAUSE_AFTER_503)

    def _record(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)


def check_off(http: httpx.Client, item_id: int, record) -> int:
    try:
        response = http.post(f"/api/v1/items/{item_id}/check", json={})
    except httpx.HTTPError as error:
        record(Answer(item_id, time.monotonic(), 0, body=repr(error)))
        return 0
    record(
        Answer(
            item_id,
            time.monotonic(),
            response.status_code,
            response.headers.get("content-type", ""),
            response.headers.get("retry-after"),
            response.text[:300],
        )
    )
    return response.status_code


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as made:
        yield made


def launch_items(session: Session, slug: str) -> tuple[int, list[int]]:
    launch_id = session.exec(select(Launch.id).where(Launch.slug == slug)).one()
    ids = session.exec(select(ChecklistItem.id).where(ChecklistItem.launch_id == launch_id)).all()
    session.commit()
    assert launch_id is not None
    return launch_id, sorted(item_id for item_id in ids if item_id is not None)


def first_step_at(session: Session, slug: str) -> bool:
    found = session.exec(select(ExposureChange.id).where(ExposureChange.launch_slug == slug)).first()
    session.commit()
    return found is not None


def delivered_since(session: Session, since: datetime) -> bool:
    found = session.exec(
        select(Outbox.id).where(col(Outbox.topic).in_(sorted(SLACK_TOPICS)), col(Outbox.delivered_at) > since)
    ).first()
    session.commit()
    return found is not None


def unsent_slack_intents(session: Session) -> list[tuple[str, OutboxStatus]]:
    rows = session.exec(
        select(Outbox.topic, Outbox.status).where(
            col(Outbox.topic).in_(sorted(SLACK_TOPICS)), Outbox.status != OutboxStatus.SENT
        )
    ).all()
    session.commit()
    return [(topic, OutboxStatus(status)) for topic, status in rows]


def test_postgres_restarted_under_check_offs_loses_nothing_acknowledged_and_api_and_worker_recover(
    cluster, actor, tmp_path: Path, capsys
):
    url = cluster.create_database("launchdeck")
    engine = make_engine(url)
    upgrade(engine)
    session = Session(engine, expire_on_commit=False)
    apply_seed(session=session, config=load_seed(None), actor=actor)
    secret = prodops_token(session, actor)
    tasks = [item(f"task_{n:03d}", team=TEAMS[n % len(TEAMS)]) for n in range(CLIENTS * ITEMS_PER_CLIENT)]
    ready_launch(session, actor, slug="under-load", phases=(Phase.INTERNAL,), items=tasks)
    ready_launch(session, actor, slug="probe", phases=(Phase.INTERNAL,), items=[item("probe_task")])
    (loaded_launch, loaded), (_probe_launch, (probe,)) = (
        launch_items(session, "under-load"),
        launch_items(session, "probe"),
    )
    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    # Short claims: an intent the worker had claimed when PostgreSQL went away is due again soon.
    worker = start_worker(url, "chaos-worker", worker_log, LAUNCHDECK_WORKER_LEASE_SECONDS="5")
    api, base = start_api(url, "api.app:serving_app", api_log)
    load = Load(base, secret, loaded)
    try:
        # The worker is at work (it posted the gate messages of both launches) before the load starts.
        wait_for(lambda: running(worker, worker_log) and not unsent_slack_intents(session), timeout=60)
        load.start()
        wait_for(lambda: load.count(200) >= len(loaded) // 4, timeout=60, interval=0.02)
        cluster.stop("immediate")
        down_at = time.monotonic()
        wait_for(lambda: time.monotonic() - down_at >= OUTAGE and load.count(503) >= CLIENTS, timeout=OUTAGE + 30)
        assert running(api, api_log)
        assert running(worker, worker_log)
        cluster.start()
        up_at, up_wall = time.monotonic(), datetime.now(UTC)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}, timeout=15) as http:
            while check_off(http, probe, lambda _answer: None) != 200:
                assert time.monotonic() - up_at < 30, "the API never acknowledged the probe"
                time.sleep(PAUSE_AFTER_503)
        probe_acknowledged = time.monotonic() - up_at
        wait_for(lambda: running(worker, worker_log) and first_step_at(session, "probe"), timeout=30, interval=0.02)
        worker_stepped = time.monotonic() - up_at
        wait_for(lambda: running(worker, worker_log) and delivered_since(session, up_wall), timeout=30)
        slack_loop_back = time.monotonic() - up_at
        load.join(timeout=60)
        wait_for(lambda: running(worker, worker_log) and first_step_at(session, "under-load"), timeout=30)
        still_up = api.poll() is None and worker.poll() is None
    finally:
        stop(worker)
        stop(api)

    answers = load.answers
    first_2xx = min(answer.at for answer in answers if answer.status == 200 and answer.at > up_at) - up_at
    with capsys.disabled():
        print(
            f"\nPostgreSQL down {up_at - down_at:.1f} s; {len(answers)} answers: "
            f"{load.count(200)} acknowledged, {load.count(503)} x 503; after restart: first 2xx of the load "
            f"{first_2xx:.2f} s, probe acknowledged {probe_acknowledged:.2f} s, worker's first step "
            f"{worker_stepped:.2f} s, its Slack loop's first delivery {slack_loop_back:.2f} s"
        )
    assert still_up, "the API or the worker exited"
    assert {answer.status for answer in answers} <= {200, 503}, [a for a in answers if a.status not in (200, 503)]
    outage_answers = [answer for answer in answers if answer.status == 503]
    assert len(outage_answers) >= CLIENTS
    for answer in outage_answers:
        assert answer.content_type == PROBLEM_JSON, answer
        assert str(answer.retry_after).isdigit(), answer
        problem = json.loads(answer.body)
        assert (problem["status"], problem["type"].rsplit("/", 1)[-1]) == (503, "database_unavailable"), answer
    acknowledged = {answer.item_id for answer in answers if answer.status == 200}
    assert acknowledged == set(loaded)  # every client went through its whole share
    done = set(
        session.exec(
            select(ChecklistItem.id).where(
                col(ChecklistItem.id).in_(acknowledged), ChecklistItem.status == ItemStatus.DONE
            )
        ).all()
    )
    checked_events = session.exec(
        select(AuditEvent.entity_id).where(AuditEvent.action == "item.checked", col(AuditEvent.entity_id).in_(loaded))
    ).all()
    intents = session.exec(
        select(Outbox.payload, Outbox.status).where(Outbox.topic == "item.checked", Outbox.launch_id == loaded_launch)
    ).all()
    session.close()
    engine.dispose()
    assert done == acknowledged
    assert sorted(entity_id or 0 for entity_id in checked_events) == sorted(
        acknowledged
    )  # each with exactly one audit event
    assert sorted(int(payload["item_id"]) for payload, _status in intents) == sorted(acknowledged)  # and intent
    assert OutboxStatus.DEAD not in {status for _payload, status in intents}
    assert first_2xx <= RECOVERY_BOUND
    assert probe_acknowledged <= RECOVERY_BOUND
    assert worker_stepped <= RECOVERY_BOUND
