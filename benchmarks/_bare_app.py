"""The baseline for the HTTP benchmarks: FastAPI endpoints that do (almost) nothing, served by the
same uvicorn settings and garbage-collector settings as the real app (``api.app:serving_app``).
The bare endpoint comes as an `async def` route, like the check-off (served on the event loop):
the check-off's baseline; and as a plain `def` route, like the other real routes (a thread-pool
hop each).

Reference points for what any check-off could cost in this stack (rows of
`checkoff_throughput.py`, not baselines). The asyncpg ones run on a pool that skips asyncpg's reset
query on release, so each makes exactly the round trips named:
- ``/items/{id}/read``: one PostgreSQL read through SQLAlchemy in a sync route, the way most
  launchdeck routes reach the database;
- ``/items/{id}/one-round-trip``: ``SELECT $1`` through asyncpg in an async route: the least a
  request that touches the database can cost;
- ``/items/{id}/writes``: a check-off's three writes (bump the item's version, insert an audit
  event, queue an outbox row) as one raw SQL statement, atomic on its own: one round trip, with no
  token, no row lock, no rules and no ORM;
- ``/items/{id}/writes-in-transaction``: the same statement between BEGIN and COMMIT: three round
  trips. A check-off that decides in Python between reading and writing needs at least this many
  (BEGIN and a locked read, the writes, COMMIT), so this row is its floor.
- ``/items/{id}/floor``: a check-off's minimum work, the floor of issue #21's throughput goal:
  BEGIN; the item and its region locked in one read (``FOR NO KEY UPDATE OF regionrollout,
  checklistitem``, the real check-off's lock); one statement that marks the item done (status,
  who, when, version), inserts its audit event and queues its outbox row (data-modifying CTEs;
  the outbox insert fires migration 0021's NOTIFY trigger as a real one does); COMMIT. Four round
  trips, no token, no rules, no ORM.
"""

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.gc_tuning import settle_for_serving
from orchestrator.core.db import make_engine

_THREE_WRITES = """
WITH item AS (
    UPDATE checklistitem SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING id, launch_id
), audit AS (
    INSERT INTO auditevent (launch_id, entity, entity_id, action, actor, source, before, after, at)
    SELECT launch_id, 'bench', id, 'bench.writes', 'bench', 'api', '{}'::json, '{}'::json, now() FROM item
)
INSERT INTO outbox (key, topic, launch_id, payload, status, attempts, claims, next_attempt_at, created_at)
SELECT 'bench:' || id || ':' || gen_random_uuid(), 'bench.writes', launch_id, '{}'::json, 'sent', 0, 0, now(), now()
FROM item
"""

_LOCKED_READ = """
SELECT i.id, i.launch_id, i.status, i.version, r.state, r.phase
FROM checklistitem AS i JOIN regionrollout AS r ON r.id = i.rollout_id
WHERE i.id = $1
FOR NO KEY UPDATE OF r, i
"""

_CHECK_OFF_WRITES = """
WITH item AS (
    UPDATE checklistitem
    SET status = 'done', checked_by = 'bench', checked_at = now(), blocked_reason = NULL,
        version = version + 1, updated_at = now()
    WHERE id = $1 AND version = $2
    RETURNING id, launch_id, version
), audit AS (
    INSERT INTO auditevent (launch_id, entity, entity_id, action, actor, source, before, after, at)
    SELECT launch_id, 'item', id, 'bench.floor', 'bench', 'api', $3::json, '{"status": "done"}'::json, now()
    FROM item
)
INSERT INTO outbox (key, topic, launch_id, payload, status, attempts, claims, next_attempt_at, created_at)
SELECT 'floor:' || id || ':v' || version, 'bench.floor', launch_id, '{}'::json, 'pending', 0, 0, now(), now()
FROM item
ON CONFLICT (key) DO NOTHING
"""


async def _keep_as_is(_connection: asyncpg.Connection) -> None:
    """asyncpg resets a connection on release with a query of its own (a second round trip); the
    one-round-trip row runs no transaction and sets nothing, so there is nothing to reset."""


def create_app() -> FastAPI:
    url = os.environ["LAUNCHDECK_DATABASE_URL"]
    engine = make_engine(url)
    pools: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        pools["unreset"] = await asyncpg.create_pool(dsn, min_size=1, max_size=10, reset=_keep_as_is)
        try:
            yield
        finally:
            await pools["unreset"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/items/{item_id}/check")
    def check(item_id: int) -> dict[str, object]:
        return {"id": item_id, "status": "done"}

    @app.post("/items/{item_id}/check-async")
    async def check_async(item_id: int) -> dict[str, object]:
        return {"id": item_id, "status": "done"}

    @app.post("/items/{item_id}/read")
    def read(item_id: int) -> dict[str, object]:
        with engine.connect() as connection:
            value = connection.execute(text("SELECT :id"), {"id": item_id}).scalar_one()
        return {"id": value, "status": "done"}

    @app.post("/items/{item_id}/one-round-trip")
    async def one_round_trip(item_id: int) -> dict[str, object]:
        async with pools["unreset"].acquire() as connection:
            value = await connection.fetchval("SELECT $1::bigint", item_id)
        return {"id": value, "status": "done"}

    @app.post("/items/{item_id}/writes")
    async def writes(item_id: int) -> dict[str, object]:
        async with pools["unreset"].acquire() as connection:  # one statement: atomic on its own
            await connection.execute(_THREE_WRITES, item_id)
        return {"id": item_id, "status": "done"}

    @app.post("/items/{item_id}/writes-in-transaction")
    async def writes_in_transaction(item_id: int) -> dict[str, object]:
        async with pools["unreset"].acquire() as connection, connection.transaction():
            await connection.execute(_THREE_WRITES, item_id)
        return {"id": item_id, "status": "done"}

    @app.post("/items/{item_id}/floor")
    async def floor(item_id: int) -> dict[str, object]:
        async with pools["unreset"].acquire() as connection, connection.transaction():
            row = await connection.fetchrow(_LOCKED_READ, item_id)
            if row is None:
                raise HTTPException(status_code=404)
            before = json.dumps({"status": row["status"]})
            await connection.execute(_CHECK_OFF_WRITES, item_id, row["version"], before)
        return {"id": item_id, "status": "done"}

    settle_for_serving()
    return app
