"""The launchdeck worker: long-lived loops that start region flows when the database says work is
due, hand exposure changes to the rollout target, post Slack messages and publish Prefect events.

One worker serves every launch; nothing is held per launch while it waits. Run several against
PostgreSQL to scale out: a short lease per region keeps two workers from starting the same one,
and every step is a compare-and-set, so even an overlap cannot advance a region twice.

Three loops, one thread each, each with its own database sessions and its own wait between passes,
grouped by what they wait on: **rollouts** (due regions' flows, and Prefect events: Prefect),
**exposures** (the rollout target) and **slack** (Slack, which paces, times out and retries for
seconds a message). Apart, a slow or failing Slack cannot hold up a region's next step, nor a slow
webhook a Slack message; together they made a ready region wait for the whole Slack backlog.

Each loop waits ``poll_seconds`` between passes, or less: a listener (``orchestrator/core/wake.py``:
LISTEN/NOTIFY on PostgreSQL, ``PRAGMA data_version`` on SQLite) rings a loop's bell the moment a
transaction queueing its kind of work commits, and the loop starts its next pass at once. The poll
stays as the safety net for work that no commit announces (a ramp hold running out, an expired
lease, a retry's backoff) and for wakes lost while the listener reconnects.

The loops share one interpreter, so the exposures and slack loops let a rollouts pass in progress
finish first (for at most ``YIELD_SECONDS``): one commit often wakes all three (a gate passed queues
Slack messages too), and composing those messages on the other core's worth of GIL slowed the
region's flow start by half (BENCHMARKS.md, "Instant wake").
"""

import asyncio
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from prefect import tags
from prefect.context import SyncClientContext
from prefect.events.worker import EventsWorker
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from flows import resources
from flows.events import publish_outbox_events
from flows.rollout import advance_region
from notifications.delivery.slack_delivery import DispatchRun, dispatch_notifications
from orchestrator.core.clock import utcnow
from orchestrator.core.db import database_unavailable, session_scope
from orchestrator.core.settings import get_settings
from orchestrator.core.topics import PUBLISHED_AS_EVENTS
from orchestrator.core.wake import Listener, start_listening
from orchestrator.rollouts.exposure import deliver_exposures
from orchestrator.rollouts.leases import claim_rollout, due_rollout_ids, release_rollout
from orchestrator.rollouts.service import TARGET_TOPIC
from orchestrator.rollouts.steps import load_snapshot, next_step
from orchestrator.rollouts.target import TargetUnavailable

log = logging.getLogger("launchdeck.worker")

# Longest wait between two tries of a loop that found what it needs unreachable (``_Outage``):
# a loop is back at work at most this long (plus one try) after what it waits for is back.
OUTAGE_RETRY_CAP_SECONDS = 1.0
# Retries of one call by the rollouts loop's Prefect client (unless PREFECT_CLIENT_MAX_RETRIES says
# otherwise). Prefect's default, 5 with waits doubling from 1 s, kept a call to a killed server
# waiting 31 s, and the rollout resumed up to 13 s after the server answered again (measured, see
# tests/chaos); with 2 (1 + 2 s) the call fails soon and the loop's own tries take over.
PREFECT_CLIENT_RETRIES = 2


def unreachable_service(error: BaseException) -> str | None:
    """What ``error`` says is unreachable for now ("the database", "the rollout target", "the
    Prefect API"), or None for any other failure. Those come back by themselves (a restart, a
    failover), and every step is a compare-and-set that is simply due again, so the loop waits and
    tries again rather than stopping the worker, which then needed a restart of its own."""
    if database_unavailable(error):
        return "the database"
    seen: BaseException | None = error
    while seen is not None:  # outermost first: a target's error wraps the HTTP error under it
        if isinstance(seen, TargetUnavailable):
            return "the rollout target"
        if isinstance(seen, httpx.TransportError):
            return "the Prefect API"
        if isinstance(seen, httpx.HTTPStatusError) and seen.response.status_code >= 500:
            return "the Prefect API"
        seen = seen.__cause__ or seen.__context__
    return None


@dataclass
class _Outage:
    """A loop's view of an outage: logged once when it starts and once when a pass goes through
    again (one that needed nothing of the service may, before the service is back), with the wait
    before each new try doubling from the loop's interval up to ``OUTAGE_RETRY_CAP_SECONDS``."""

    loop: str
    service: str | None = None
    since: float = 0.0
    tries: int = 0

    def failed(self, service: str, error: object, *, interval: float) -> float:
        if self.service is None:
            log.warning("%s loop: %s is unreachable (%s); trying again until it is back", self.loop, service, error)
            self.service, self.since = service, time.monotonic()
        self.tries = min(self.tries + 1, 16)
        return float(min(max(interval, 0.05) * 2 ** (self.tries - 1), OUTAGE_RETRY_CAP_SECONDS))

    def passed(self) -> None:
        if self.service is not None:
            took = time.monotonic() - self.since
            log.info("%s loop: a pass went through after %.1f s (%s was unreachable)", self.loop, took, self.service)
            self.service, self.tries = None, 0


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _never_down(_outcome: object) -> tuple[str, object] | None:
    return None


def slack_down(outcome: object) -> tuple[str, object] | None:
    """A Slack pass that found Slack unreachable (it gave every intent back untried)."""
    if isinstance(outcome, DispatchRun) and outcome.unreachable:
        return "Slack", outcome.unreachable
    return None


@dataclass(frozen=True)
class Loop:
    """One of the worker's loops: the pass it repeats, the seconds it waits after each at most, the
    outbox topics whose commit ends that wait at once (None: any), and what a pass's outcome says is
    unreachable (the service and why), if anything."""

    name: str
    run_pass: Callable[[], object]
    interval: float
    wakes_on: frozenset[str] | None = None
    yields: bool = False  # lets a rollouts pass in progress end first (at most YIELD_SECONDS)
    down: Callable[[object], tuple[str, object] | None] = _never_down


ROLLOUTS = "rollouts"
# How long the exposures and slack loops wait at most for a rollouts pass to end before their own.
YIELD_SECONDS = 1.0

# What wakes the rollouts loop: the topics queued with every change that can make a region due (a
# gate passed, a region ready, resumed or live, an exposure step whose hold is zero, a phase date
# moved, a launch kicked off), which are also the ones it publishes as Prefect events.
ROLLOUT_TOPICS = frozenset(PUBLISHED_AS_EVENTS)


@dataclass
class Worker:
    poll_seconds: float = 0.5
    lease_seconds: int = 120
    name: str = field(default_factory=default_worker_name)
    publish_events: bool = True
    stop_event: threading.Event = field(default_factory=threading.Event)
    join_seconds: float = 30.0  # how long stopping waits for a loop in the middle of a call
    wake_on_commit: bool = True  # listen for commits that queue work (False: poll only)
    passes: Counter[str] = field(default_factory=Counter)  # passes done per loop, for logs and tests
    rung: Counter[str] = field(default_factory=Counter)  # wakes per loop from the commit listener
    listener: Listener | None = None  # the commit listener's report, once `run_forever` started it
    _loops: list[Loop] = field(default_factory=list, init=False, repr=False)
    _bells: dict[str, threading.Event] = field(default_factory=dict, init=False, repr=False)
    _rollouts_idle: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def run_once(self) -> int:
        """One pass of every loop, one after the other (the scheduled sweep, `--once`, tests).
        Returns how many region flows were started."""
        started = self.run_regions()
        self.deliver_exposure_changes()
        self.deliver_notifications()
        return started

    def run_regions(self) -> int:
        """Run the flow of every due region this worker can claim, then publish new Prefect events.
        Returns how many flows were started."""
        started = 0
        with session_scope(resources.engine()) as session:
            due = due_rollout_ids(session, now=utcnow())
        for rollout_id in due:
            if self.stop_event.is_set():
                break
            if self._run_region(rollout_id):
                started += 1
        if self.publish_events:
            with session_scope(resources.engine()) as session:
                publish_outbox_events(session)
        return started

    def deliver_exposure_changes(self) -> int:
        """Hand queued exposure changes to the rollout target, checking each it took (synthetic
        users evaluated against the target; a mismatch halts the region); returns how many it took."""
        with session_scope(resources.engine()) as session:
            return deliver_exposures(
                session=session,
                target=resources.target(),
                now=utcnow(),
                claim_seconds=self.lease_seconds,
                stop=self.stop_event.is_set,
                checker=resources.checker(),
            )

    def deliver_notifications(self) -> DispatchRun:
        """Post or edit the queued Slack messages (up to 50 intents a pass)."""
        with session_scope(resources.engine()) as session:
            return dispatch_notifications(
                session=session,
                transport=resources.transport(),
                now=utcnow(),
                leadership_channel=get_settings().slack_leadership_channel,
                claim_seconds=self.lease_seconds,
                stop=self.stop_event.is_set,
            )

    def loops(self) -> list[Loop]:
        """The loops `run_forever` runs side by side; the first runs on the calling thread."""
        return [
            Loop(ROLLOUTS, self.run_regions, self.poll_seconds, ROLLOUT_TOPICS),
            Loop("exposures", self.deliver_exposure_changes, self.poll_seconds, frozenset({TARGET_TOPIC}), yields=True),
            # Any topic wakes the slack loop: App Homes show everything.
            Loop("slack", self.deliver_notifications, self.poll_seconds, yields=True, down=slack_down),
        ]

    def thread_names(self) -> set[str]:
        return {f"{self.name}-{loop.name}" for loop in self.loops()[1:]}

    def _run_region(self, rollout_id: int) -> bool:
        with session_scope(resources.engine()) as session:
            if not claim_rollout(
                session, rollout_id=rollout_id, owner=self.name, now=utcnow(), seconds=self.lease_seconds
            ):
                return False
            try:
                snapshot = load_snapshot(session, rollout_id=rollout_id)
                session.commit()
                if next_step(snapshot, now=utcnow()) is None:
                    return False  # became not-due between the query and the claim
                phase = snapshot.phase.value if snapshot.phase else "planned"
                with (
                    SyncClientContext.get_or_create(),
                    tags(f"launch:{snapshot.launch_slug}", f"region:{snapshot.region}", f"phase:{phase}"),
                ):
                    asyncio.run(
                        advance_region(
                            rollout_id=rollout_id, slug=snapshot.launch_slug, region=snapshot.region, phase=phase
                        )
                    )
                return True
            finally:
                release_rollout(session, rollout_id=rollout_id, owner=self.name)

    def run_forever(self) -> None:
        """Run every loop until stopped; the first failure in any loop stops them all and is raised
        here, so a broken worker exits (as it did with one loop) instead of running half its duties.
        An unreachable database, Prefect API, rollout target or Slack is no failure: it pauses only
        the loop that met it, which tries again until it is back (``_repeat``).

        The rollouts loop runs on this thread under one Prefect API client for the worker's life:
        without it every sync task run builds its own (an SSL context each, profiled at a quarter of
        a region run). The others never call Prefect."""
        log.info(
            "worker %s polling every %.1fs%s", self.name, self.poll_seconds, ", woken by commits" * self.wake_on_commit
        )
        # Built once here, before the loops' threads could race to build their own.
        resources.engine()
        resources.target()
        resources.checker()
        resources.transport()
        failures: list[BaseException] = []
        self._loops = self.loops()
        self._bells = {loop.name: threading.Event() for loop in self._loops}
        listening = self._start_listener()
        main, *others = self._loops
        threads = [
            threading.Thread(target=self._repeat, args=(loop, failures), name=f"{self.name}-{loop.name}", daemon=True)
            for loop in others
        ]
        for thread in threads:
            thread.start()
        try:
            with (
                temporary_settings(set_defaults={PREFECT_CLIENT_MAX_RETRIES: PREFECT_CLIENT_RETRIES}),
                SyncClientContext.get_or_create(),
            ):
                self._repeat(main, failures)
        finally:
            self.stop()
            for thread in threads:
                thread_wait = self.join_seconds
                thread.join(thread_wait)
                if thread.is_alive():
                    log.warning("%s still busy after %.0fs; leaving it (its claims expire)", thread.name, thread_wait)
            if listening is not None:
                listening.join(self.join_seconds)
        if failures:
            raise failures[0]

    def _start_listener(self) -> threading.Thread | None:
        """The thread that rings the loops' bells on commits (None when the worker only polls)."""
        if not self.wake_on_commit:
            return None
        thread, self.listener = start_listening(
            resources.engine(), on_wake=self.wake, stop=self.stop_event, name=f"{self.name}-wake"
        )
        return thread

    def wake(self, topic: str | None = None) -> None:
        """End the wait of every loop ``topic`` concerns (None: every loop), as a commit queueing it
        does; called by the listener, on its thread."""
        for loop in self._loops:
            if topic is None or loop.wakes_on is None or topic in loop.wakes_on:
                if loop.name == ROLLOUTS:  # busy from now: the loops that yield see it before they wake
                    self._rollouts_idle.clear()
                self.rung[loop.name] += 1
                self._bells[loop.name].set()

    def _repeat(self, loop: Loop, failures: list[BaseException]) -> None:
        """Run ``loop`` until stopped; a commit queueing a topic it concerns ends its wait (its bell).
        The database, Prefect, the target or Slack being unreachable only pauses it
        (``unreachable_service``, ``Loop.down``); any other failure stops every loop."""
        bell = self._bells.setdefault(loop.name, threading.Event())
        outage = _Outage(loop.name)
        try:
            while not self.stop_event.is_set():
                bell.clear()  # before the pass: a commit heard during it means one more pass
                if loop.yields:
                    self._rollouts_idle.wait(YIELD_SECONDS)
                    if self.stop_event.is_set():
                        break
                elif loop.name == ROLLOUTS:
                    self._rollouts_idle.clear()
                try:
                    down = loop.down(loop.run_pass())
                except Exception as exc:
                    service = unreachable_service(exc)
                    if service is None:
                        raise
                    down = (service, exc)
                self.passes[loop.name] += 1
                if loop.name == ROLLOUTS and not bell.is_set():
                    self._rollouts_idle.set()
                if down is None:
                    outage.passed()
                    bell.wait(loop.interval)
                else:
                    self.stop_event.wait(outage.failed(*down, interval=loop.interval))
        except BaseException as exc:
            if isinstance(exc, Exception):  # not Ctrl-C or an exit: say what broke
                log.exception("worker %s: the %s loop failed; stopping every loop", self.name, loop.name)
            failures.append(exc)
            self.stop()

    def stop(self) -> None:
        self.stop_event.set()
        self._rollouts_idle.set()
        for bell in list(self._bells.values()):
            bell.set()


def drain_events() -> None:
    """Send the Prefect events still queued in this process (call before a short-lived process exits)."""
    EventsWorker.drain_all()
