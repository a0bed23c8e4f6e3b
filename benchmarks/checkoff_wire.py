"""The round trips of one check-off as PostgreSQL sees them: every message batch the API process
writes to PostgreSQL's socket while one `POST /api/v1/items/{id}/check` is served, decoded.

Why: `benchmarks/_sql_cost.py` counts statements with SQLAlchemy's events and adds what the driver
sends on its own (BEGIN, COMMIT, the pool's ping) by rule; this counts the wire, so a hidden round
trip (a statement prepared again, a reset query, a ping that grew) shows up, and each one is
named. One write of the client is one round trip here: asyncpg sends a statement's Bind, Execute
and Sync (or a simple Query) in one write and waits for the answer before the next.

    .venv/bin/python -m benchmarks.checkoff_wire [--items 6]

Needs PostgreSQL on 127.0.0.1:5432 (makes and drops its own database). Serves the real app
in this process on asyncio's own event loop (whose socket transport is Python, so its writes can
be counted); the first check-offs warm the pool and the statement caches and are not shown.
"""

import argparse
import asyncio.selector_events
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from sqlmodel import Session

from api.app import create_app
from benchmarks._harness import free_port, throwaway_postgres
from benchmarks._seed import gated_launch, seed_directory
from orchestrator.core.db import make_engine

WARM_UP = 3
_Transport = asyncio.selector_events._SelectorSocketTransport  # type: ignore[attr-defined]


def describe(batch: bytes, prepared: dict[str, str]) -> str:
    """One client write, named: the SQL of a simple query, of a statement prepared, or of the
    prepared statement a Bind runs (looked up in ``prepared``, filled by the Parses seen)."""
    names, position = [], 0
    while position + 5 <= len(batch):
        kind = chr(batch[position])
        (length,) = struct.unpack("!i", batch[position + 1 : position + 5])
        body = batch[position + 5 : position + 1 + length]
        position += 1 + length
        if kind == "Q":
            names.append("query: " + body.split(b"\0", 1)[0].decode())
        elif kind == "P":
            name, sql = body.split(b"\0")[:2]
            prepared[name.decode()] = sql.decode()
            names.append("prepare: " + sql.decode())
        elif kind == "B":
            statement = body.split(b"\0")[1].decode()
            names.append("execute: " + prepared.get(statement, f"(statement {statement!r} prepared before counting)"))
    return " | ".join(" ".join(name.split()) for name in names) or repr(batch[:20])


@contextmanager
def wire_log(port: int = 5432) -> Iterator[list[bytes]]:
    """Every write to a socket whose peer listens on ``port`` while open, in order."""
    writes: list[bytes] = []
    original = _Transport.write

    def write(self: Any, data: Any) -> None:
        peer = self.get_extra_info("peername")
        if peer is not None and peer[1] == port:
            writes.append(bytes(data))
        original(self, data)

    _Transport.write = write
    try:
        yield writes
    finally:
        _Transport.write = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=6, help="check-offs shown (after the warm-up)")
    args = parser.parse_args()
    with throwaway_postgres() as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            secret = seed_directory(session)
            items = gated_launch(session, slug="wire", items=WARM_UP + args.items + 1)
        port = free_port()
        config = uvicorn.Config(create_app(engine=engine), host="127.0.0.1", port=port, log_level="warning")
        config.loop = "asyncio"
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        prepared: dict[str, str] = {}
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                while not server.started:
                    thread.join(timeout=0.1)
                for index, item_id in enumerate(items):
                    with wire_log() as writes:
                        answer = client.post(
                            f"/api/v1/items/{item_id}/check", json={}, headers={"Authorization": f"Bearer {secret}"}
                        )
                    answer.raise_for_status()
                    named = [describe(batch, prepared) for batch in writes]
                    if index < WARM_UP:
                        continue
                    last = index == len(items) - 1
                    note = " (passes the gate)" if last else ""
                    print(f"check-off of item {item_id}{note}: {len(writes)} round trips")
                    for number, name in enumerate(named, 1):
                        print(f"  {number:2d}. {name[:160]}")
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            engine.dispose()


if __name__ == "__main__":
    main()
