"""Where Slack clicks are carried out after they have been acknowledged: a few worker threads the
app owns, each with a bounded queue, started and stopped with the app (its lifespan).

Why not Starlette's ``BackgroundTasks``: those run on the same threadpool as every sync route (up
to 40 threads), so 50 simultaneous clicks became up to 40 threads of check-offs contending for the
GIL with the event loop that is trying to send the acknowledgements. A couple of dedicated
threads does the same work with less contention; ``benchmarks/slack_ack.py`` measures both
(``--app benchmarks._slack_apps:background_tasks_app``) and BENCHMARKS.md has the figures.

Why two workers: a check-off is mostly Python (GIL-bound) work, so threads beyond two do not apply
a burst sooner, they only take the GIL from the event loop more often. 50 simultaneous clicks
(benchmarks/slack_ack.py, with ``--app benchmarks._slack_apps:four_workers_app`` and
``one_worker_app`` for the others): with other work on the machine, 4 workers gave an
acknowledgement p99 of 70-85 ms for clicks spread over launches (53-63 ms on one region) against
48-50 ms for 2 and 45-53 ms for 1, all clicks applied in about the same time (medians 236-282
ms); on a quiet machine all three were within a few ms of each other (p99 55-66 ms, medians
270-326 ms). One worker would put each region's clicks in a single queue.

Jobs are sharded by a key (the item id): clicks on one item run in the order they arrived, one at
a time, so a double click is applied once and its second click is told "already done" (not "someone
changed this item at the same moment"); clicks on different items run in parallel.

``defer`` refuses (returns False) instead of blocking when a queue is full or the app is stopping;
the caller then does the work before answering, as before this existed: slower, nothing lost.
A job's Slack calls come after its transaction on the same thread, so a slow Slack holds one
worker for at most the call's timeout (5 s for response_url). Jobs that open a modal are queued
``urgent``: their ``trigger_id`` dies three seconds after the click, so they go ahead of the
check-offs waiting on their worker (which can add up to seconds on a busy machine: the benchmark's
"all applied" figure for 50 simultaneous clicks is about 0.3 s quiet and was 1.2 to 2.9 s at a
load of 6 to 11).

What a hard crash loses: clicks acknowledged but still queued or running (at most ``capacity``
per worker, in practice the few milliseconds' worth in flight). Slack has been told 200 and will not
resend them. This is accepted rather than written to the database before answering (which would
put a transaction back in front of the acknowledgement, the very cost this removes) because a lost
click is visible and harmless: the item's message is only edited to "done" once the check-off
commits, so the button is still there and the person clicks again; check-offs are idempotent, and
nothing downstream (gates, outbox, rollouts) has happened for a click that was never applied. A
graceful stop (SIGTERM, ``launchdeck serve`` shutting down) stops accepting and finishes every
accepted job first, for up to ``drain_seconds``.
"""

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger("launchdeck.api.slack_work")

Job = Callable[[], None]
WORKERS = 2  # see "Why two workers" above
CAPACITY = 1000  # queued jobs per worker before clicks are handled inline again
DRAIN_SECONDS = 30.0


class _Stop:
    """Queued behind the last accepted job, so a worker ends only after finishing them."""


_STOP = _Stop()
_URGENT, _NORMAL, _LAST = 0, 1, 2  # queue ranks: modals first, then clicks in arrival order, then stop
_Entry = tuple[int, int, Job | _Stop]  # (rank, arrival number, job): the number keeps FIFO within a rank


class SlackWork:
    """Worker threads with bounded queues; ``defer(job, key=...)`` hands a job over."""

    def __init__(
        self, *, workers: int = WORKERS, capacity: int = CAPACITY, drain_seconds: float = DRAIN_SECONDS
    ) -> None:
        if workers < 1 or capacity < 1:
            raise ValueError("SlackWork needs at least one worker and a capacity of at least one job")
        self._queues: list[queue.PriorityQueue[_Entry]] = [
            queue.PriorityQueue(maxsize=capacity) for _ in range(workers)
        ]
        self._arrivals = itertools.count()
        self._threads: list[threading.Thread] = []
        self._accepting = False
        self._lock = threading.Lock()  # so no job slips in behind a worker's stop marker
        self.drain_seconds = drain_seconds

    def start(self) -> None:
        with self._lock:
            if self._accepting:
                return
            self._threads = [
                threading.Thread(target=self._run, args=(jobs,), name=f"slack-work-{index}", daemon=True)
                for index, jobs in enumerate(self._queues)
            ]
            for thread in self._threads:
                thread.start()
            self._accepting = True

    @property
    def accepting(self) -> bool:
        """Started and not stopping."""
        return self._accepting

    def defer(self, job: Job, *, key: int, urgent: bool = False) -> bool:
        """Queue ``job`` on the worker for ``key`` (``urgent``: ahead of the others waiting there);
        False, and nothing queued, when full or stopped."""
        with self._lock:
            if not self._accepting:
                return False
            try:
                entry = (_URGENT if urgent else _NORMAL, next(self._arrivals), job)
                self._queues[key % len(self._queues)].put_nowait(entry)
            except queue.Full:
                log.warning("Slack work queue full: handling a click before answering it")
                return False
            return True

    def stop(self) -> int:
        """Stop accepting, finish every accepted job (for up to ``drain_seconds``), end the workers.
        Returns how many accepted jobs were left undone (0 unless the deadline passed)."""
        with self._lock:
            if not self._accepting:
                return 0
            self._accepting = False
        deadline = time.monotonic() + self.drain_seconds
        for jobs in self._queues:
            try:
                jobs.put((_LAST, next(self._arrivals), _STOP), timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        left = sum(jobs.qsize() for jobs in self._queues) + sum(thread.is_alive() for thread in self._threads)
        if left:
            log.error("stopped with about %d acknowledged Slack clicks not carried out (drain deadline passed)", left)
        return left

    @staticmethod
    def _run(jobs: "queue.PriorityQueue[_Entry]") -> None:
        while True:
            _rank, _arrival, job = jobs.get()
            if isinstance(job, _Stop):
                return
            try:
                job()
            except Exception:  # logged with its trace; the next click must still run
                log.exception("a deferred Slack job failed")
