"""Races on real databases: writers released together by a barrier, each on its own session.

No clock freezing with these (freezegun is not thread-safe): use phase dates really in the past
(``factories.past_dates``)."""

import threading

from sqlmodel import Session

TIMEOUT = 30  # seconds; SQLite writers queue on its 30 s busy timeout, so never wait less


def race(engine, calls, *, prepare=None):
    """Run each call on its own session and thread, all released at once; return what each
    returned or raised, in order."""
    start = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            with Session(engine, expire_on_commit=False) as session:
                if prepare is not None:
                    prepare(session)
                start.wait(timeout=TIMEOUT)
                outcomes[index] = call(session)
        except Exception as exc:  # noqa: BLE001 - handed to the test thread to assert on
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return outcomes
