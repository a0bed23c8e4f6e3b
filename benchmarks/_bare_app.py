"""The baseline for the HTTP benchmarks: FastAPI endpoints that do (almost) nothing, served by the
same uvicorn settings and garbage-collector settings as the real app (``api.app:serving_app``).
The bare endpoint comes as an `async def` route, like the check-off (served on the event loop):
the check-off's baseline; and as a plain `def` route, like the other real routes (a thread-pool
hop each).

Two reference points bracket what any check-off could cost in this stack (rows of
`checkoff_throughput.py`, not baselines):
- ``/items/{id}/read``: one PostgreSQL read through SQLAlchemy in a sync route, the way every other
  launchdeck route reaches the database;
- ``/items/{id}/writes``: a check-off's three writes (bump the item's version, insert an audit
  event, queue an outbox row) in one transaction as raw SQL through asyncpg in an async route, with
  no token, no row lock, no rules and no ORM: the floor of a check-off that writes what ours writes.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.gc_tuning import settle_for_serving
from orchestrator.db import make_engine

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


def create_app() -> FastAPI:
    url = os.environ["LAUNCHDECK_DATABASE_URL"]
    engine = make_engine(url)
    pools: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        pools["asyncpg"] = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        try:
            yield
        finally:
            await pools["asyncpg"].close()

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

    @app.post("/items/{item_id}/writes")
    async def writes(item_id: int) -> dict[str, object]:
        async with pools["asyncpg"].acquire() as connection, connection.transaction():
            await connection.execute(_THREE_WRITES, item_id)
        return {"id": item_id, "status": "done"}

    settle_for_serving()
    return app
