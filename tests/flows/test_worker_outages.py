"""A worker loop across outages (flows/worker.py): the database, the Prefect API or Slack being
unreachable pauses only the loop that met it, which tries again, ever less often up to a cap, and
carries on when it is back; any other failure still stops the worker. In-process, no servers: the
chaos tests (tests/chaos) run the same against real ones."""

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from flows.worker import OUTAGE_RETRY_CAP_SECONDS, Loop, Worker, _Outage, slack_down, unreachable_service
from notifications.delivery.slack_delivery import DispatchRun
from orchestrator.rollouts.target import TargetUnavailable


def unavailable_target() -> TargetUnavailable:
    """A webhook target's outage: TargetUnavailable raised from the HTTP error under it."""
    try:
        try:
            raise httpx.ConnectError("webhook refused")
        except httpx.ConnectError as cause:
            raise TargetUnavailable("the webhook did not answer") from cause
    except TargetUnavailable as error:
        return error


def scripted_loop(worker: Worker, outcomes: list[object]) -> tuple[Loop, list[object]]:
    """A loop whose passes raise or return ``outcomes`` in turn, then stop the worker."""
    seen: list[object] = []

    def run_pass() -> object:
        outcome = outcomes[len(seen)]
        seen.append(outcome)
        if len(seen) == len(outcomes):
            worker.stop()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return Loop("test", run_pass, 0.001, down=slack_down), seen


def test_a_loop_carries_on_through_an_unreachable_database_prefect_and_slack() -> None:
    worker = Worker(poll_seconds=0.001, publish_events=False)
    outcomes: list[object] = [
        OperationalError("SELECT 1", {}, Exception("connection refused")),
        httpx.ConnectError("[Errno 111] Connection refused"),
        DispatchRun(unreachable="slack: chat.postMessage: cannot reach Slack"),
        DispatchRun(delivered=3),
    ]
    loop, seen = scripted_loop(worker, outcomes)
    failures: list[BaseException] = []
    worker._repeat(loop, failures)
    assert failures == []
    assert seen == outcomes


def test_any_other_failure_still_stops_every_loop() -> None:
    worker = Worker(poll_seconds=0.001, publish_events=False)
    loop, seen = scripted_loop(worker, [ValueError("a bug"), DispatchRun()])
    failures: list[BaseException] = []
    worker._repeat(loop, failures)
    assert [type(failure) for failure in failures] == [ValueError]
    assert len(seen) == 1
    assert worker.stop_event.is_set()


@pytest.mark.parametrize(
    ("error", "service"),
    [
        (OperationalError("SELECT 1", {}, Exception("refused")), "the database"),
        (httpx.ConnectError("refused"), "the Prefect API"),
        (unavailable_target(), "the rollout target"),
        (RuntimeError("flow run failed"), None),
    ],
)
def test_what_is_unreachable_is_named(error: Exception, service: str | None) -> None:
    assert unreachable_service(error) == service


def test_tries_come_ever_less_often_up_to_the_cap_and_start_afresh_after_a_pass() -> None:
    outage = _Outage("test")
    waits = [outage.failed("Slack", "refused", interval=0.1) for _ in range(7)]
    outage.passed()
    assert waits == [0.1, 0.2, 0.4, 0.8, OUTAGE_RETRY_CAP_SECONDS, OUTAGE_RETRY_CAP_SECONDS, OUTAGE_RETRY_CAP_SECONDS]
    assert outage.failed("Slack", "refused", interval=0.1) == 0.1
