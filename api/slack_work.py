"""Where acknowledged Slack clicks are applied: processors on a few threads, taking them from the
database (``orchestrator/core/inbox.py``). They run either in the API process, started and stopped
with the app (``LAUNCHDECK_SLACK_APPLIER=api``), or in a process of their own, `launchdeck
slack-applier` (``process``; cli/slack_applier_cmd.py), at a lower CPU priority, so the event
loop that acknowledges Slack never shares the GIL or the CPU with a check-off (issue #21). The
same class, the same claims and the same handlers either way; the applier process is woken by the
commit that recorded a click (``listen``: NOTIFY on PostgreSQL, PRAGMA data_version on SQLite,
orchestrator/core/wake.py), where the API's own threads are woken by the endpoint directly.

The guarantee (issue #18): nothing acknowledged is lost. A click is written to the
``slackinteraction`` table (one short INSERT) before Slack is told 200, and applied from there:
exactly once, and clicks on one item one at a time in the order they were recorded. A process that
dies (SIGKILL, a crash, a host going away) loses no acknowledged click: what it had not applied is
still pending and is applied when an API process next runs on the database (at once when it
starts; rows it had claimed when their lease, ``LAUNCHDECK_SLACK_INTERACTION_LEASE_SECONDS``,
runs out). This reverses the trade-off made in #6, when clicks waited in memory and a crash lost
the few in flight: the cost is that INSERT in front of the answer (BENCHMARKS.md, "Slack
interaction acknowledgement latency", has the figures).

Exactly once: a click's row is marked done in the same commit as the change it asked for, guarded
by the processor's claim (``settle_on_first_write``); a click that changes nothing (a refusal, an
"already done") is marked done after it. The Slack calls that follow (the ephemeral reply to
``response_url``, ``views.open``) are made after that commit and are not repeated: a crash between
the two leaves the item changed and its message updated by the outbox, only the ephemeral note unsent.

How: ``WORKERS`` threads each claim the oldest claimable rows (at most one per item, the first
not yet done), apply them through the same handlers as before (``notifications.inbound.inbox``),
and sleep until the endpoint (or the commit listener) wakes them (``wake``) or ``poll_seconds``
pass (rows recorded by another API process, leases that ran out: the sweep that is the safety
net). Two threads: a check-off is mostly GIL-bound Python, so in the API process more threads only
take the GIL from the event loop answering Slack more often (measured in #6, see BENCHMARKS.md).
A graceful stop (SIGTERM) stops waiting for new work, applies what is pending for up to
``drain_seconds`` and ends; what is left is applied by the next start.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from notifications.inbound.follow_ups import Responder, ViewOpener, follow_up_calls
from notifications.inbound.inbox import apply_claimed
from orchestrator.core.clock import utcnow
from orchestrator.core.errors import ClaimLost
from orchestrator.core.inbox import Claimed, claim_interactions, give_back
from orchestrator.core.settings import get_settings
from orchestrator.core.wake import INBOX_CHANNEL, Listener, start_listening

log = logging.getLogger("launchdeck.api.slack_work")

WORKERS = 2  # see "Two threads" above
DRAIN_SECONDS = 30.0
CLAIM_LIMIT = 2  # rows one thread takes at a time: the other thread takes the next items'


class FollowUps:
    """The Slack adapters a processor replies through, asked for at each use (tests swap them)."""

    def __init__(self, opener: Callable[[], ViewOpener], responder: Callable[[], Responder]) -> None:
        self.opener = opener
        self.responder = responder


class SlackWork:
    """The processor threads: ``start(engine=..., follow_ups=...)``, ``wake()``, ``stop()``."""

    def __init__(
        self,
        *,
        workers: int = WORKERS,
        drain_seconds: float = DRAIN_SECONDS,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("SlackWork needs at least one worker")
        settings = get_settings()
        self.workers = workers
        self.drain_seconds = drain_seconds
        self.lease_seconds = lease_seconds or settings.slack_interaction_lease_seconds
        self.poll_seconds = poll_seconds or settings.slack_interaction_poll_seconds
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._engine: Engine | None = None
        self._follow_ups: FollowUps | None = None
        self._listening: threading.Thread | None = None
        self.listener: Listener | None = None

    @property
    def accepting(self) -> bool:
        """Started and not stopping."""
        return bool(self._threads) and not self._stopping.is_set()

    def start(self, *, engine: Engine, follow_ups: FollowUps, listen: bool = False) -> None:
        """Start the threads; they first apply whatever is pending (a previous process's clicks).
        ``listen``: also wake them on every commit that records a click (a process that does not
        receive the clicks itself: the applier)."""
        if self._threads:
            return
        self._engine, self._follow_ups = engine, follow_ups
        self._stopping.clear()
        if listen:
            self._listening, self.listener = start_listening(
                engine,
                on_wake=lambda _topic: self.wake(),
                stop=self._stopping,
                name="slack-wake",
                channel=INBOX_CHANNEL,
            )
        self._threads = [
            threading.Thread(
                target=self._run, args=(f"{self._owner}:{index}",), name=f"slack-work-{index}", daemon=True
            )
            for index in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        """A click was recorded: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> int:
        """Apply what is pending (for up to ``drain_seconds``), then end the threads. Returns how
        many threads were still busy at the deadline (their rows are applied by the next start)."""
        if not self._threads:
            return 0
        self._stopping.set()
        self._wake.set()
        deadline = time.monotonic() + self.drain_seconds
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        left = sum(thread.is_alive() for thread in self._threads)
        if self._listening is not None:
            self._listening.join(timeout=max(0.0, deadline - time.monotonic()))
            self._listening = None
        if left:
            log.error("stopped with Slack interactions still being applied; the next start applies the rest")
        self._threads = []
        return left

    def run_once(self, owner: str | None = None) -> int:
        """Claim and apply one batch; how many rows it took (0: nothing claimable)."""
        assert self._engine is not None, "start() the processor first"
        owner = owner or f"{self._owner}:once"
        with Session(self._engine, expire_on_commit=False) as session:
            lease = self.lease_seconds
            claimed = claim_interactions(session, owner=owner, now=utcnow(), lease_seconds=lease, limit=CLAIM_LIMIT)
        for row in claimed:
            with Session(self._engine, expire_on_commit=False) as session:  # each click reads afresh
                self._apply(session, row, owner)
        return len(claimed)

    def _run(self, owner: str) -> None:
        while True:
            self._wake.clear()
            try:
                took = self.run_once(owner)
            except Exception:  # the database went away for a moment: try again at the next poll
                log.exception("claiming Slack interactions failed")
                took = 0
            if took:
                self._wake.set()  # more may be claimable: let the other threads look too
                continue
            if self._stopping.is_set():
                return
            self._wake.wait(self.poll_seconds)

    def _apply(self, session: Session, row: Claimed, owner: str) -> None:
        """One claimed row: its change and done mark, then (after that commit) its Slack calls."""
        assert self._follow_ups is not None
        try:
            reply = apply_claimed(session, row, owner=owner, now=utcnow())
        except ClaimLost:
            return  # another processor took it over after our lease ran out: it applies it
        except Exception as error:  # kept for another try; parked as failed after a few
            log.exception("applying Slack interaction %s failed", row.id)
            session.rollback()
            give_back(session, interaction_id=row.id, owner=owner, attempts=row.attempts, error=repr(error))
            return
        if reply is None:
            return
        for call in follow_up_calls(reply, opener=self._follow_ups.opener(), responder=self._follow_ups.responder()):
            call()
