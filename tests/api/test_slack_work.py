"""The worker threads that carry out acknowledged Slack clicks (api/slack_work.py), with real
threads and jobs the test holds back with events (waited on with a deadline, never slept).

What is proven: a graceful stop finishes every job it had accepted (an acknowledged click is not
lost) and refuses new ones, so the endpoint handles those itself; jobs for one key run in order,
one at a time; a full queue refuses instead of blocking the event loop; a failing job does not
take its worker down."""

import threading

import pytest

from api.slack_work import SlackWork
from tests.support.flows import wait_for

WAIT = 5.0


def test_stop_finishes_every_accepted_job_and_refuses_new_ones():
    work = SlackWork(workers=1, drain_seconds=WAIT)
    work.start()
    release, started = threading.Event(), threading.Event()
    ran: list[str] = []

    def first() -> None:
        started.set()
        assert release.wait(WAIT)
        ran.append("first")

    assert work.defer(first, key=1)
    assert started.wait(WAIT)
    assert work.defer(lambda: ran.append("queued"), key=1)
    stopping = threading.Thread(target=lambda: ran.append(f"left {work.stop()}"))
    stopping.start()
    wait_for(lambda: not work.accepting, timeout=WAIT, interval=0.01)
    assert not work.defer(lambda: ran.append("late"), key=1)  # the endpoint carries it out itself
    release.set()
    stopping.join(WAIT)
    assert not stopping.is_alive()
    assert ran == ["first", "queued", "left 0"]


def test_jobs_for_one_key_run_in_order_and_others_alongside():
    work = SlackWork(workers=2, drain_seconds=WAIT)
    work.start()
    release = threading.Event()
    order: list[str] = []
    blocked = threading.Event()

    def slow() -> None:
        blocked.set()
        assert release.wait(WAIT)
        order.append("item 2, first click")

    assert work.defer(slow, key=2)
    assert work.defer(lambda: order.append("item 2, second click"), key=2)
    other = threading.Event()
    assert work.defer(other.set, key=3)  # another worker: not stuck behind item 2
    assert blocked.wait(WAIT)
    assert other.wait(WAIT)
    assert order == []
    release.set()
    assert work.stop() == 0
    assert order == ["item 2, first click", "item 2, second click"]


def test_a_full_queue_refuses_instead_of_blocking():
    work = SlackWork(workers=1, capacity=1, drain_seconds=WAIT)
    work.start()
    release, started = threading.Event(), threading.Event()

    def busy() -> None:
        started.set()
        assert release.wait(WAIT)

    assert work.defer(busy, key=1)
    assert started.wait(WAIT)
    assert work.defer(lambda: None, key=1)  # fills the one place
    assert not work.defer(lambda: None, key=1)
    release.set()
    assert work.stop() == 0


def test_a_failing_job_does_not_stop_the_worker(caplog):
    work = SlackWork(workers=1, drain_seconds=WAIT)
    work.start()
    after = threading.Event()

    def broken() -> None:
        raise RuntimeError("Slack is down")

    assert work.defer(broken, key=1)
    assert work.defer(after.set, key=1)
    assert after.wait(WAIT)
    assert work.stop() == 0
    assert "a deferred Slack job failed" in caplog.text


def test_before_start_and_after_stop_nothing_is_accepted():
    work = SlackWork(workers=1)
    assert not work.defer(lambda: None, key=1)
    work.start()
    assert work.stop() == 0
    assert not work.defer(lambda: None, key=1)


@pytest.mark.parametrize("options", [{"workers": 0}, {"capacity": 0}])
def test_nonsense_sizes_are_refused(options):
    with pytest.raises(ValueError, match="at least one"):
        SlackWork(**options)


def test_urgent_jobs_go_ahead_of_waiting_ones():
    work = SlackWork(workers=1, drain_seconds=WAIT)
    work.start()
    release, started = threading.Event(), threading.Event()
    order: list[str] = []

    def busy() -> None:
        started.set()
        assert release.wait(WAIT)

    assert work.defer(busy, key=1)
    assert started.wait(WAIT)
    assert work.defer(lambda: order.append("check-off"), key=1)
    assert work.defer(lambda: order.append("another check-off"), key=1)
    assert work.defer(lambda: order.append("modal"), key=1, urgent=True)  # its trigger_id is ticking
    release.set()
    assert work.stop() == 0
    assert order == ["modal", "check-off", "another check-off"]
