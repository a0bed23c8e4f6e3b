"""The group commit in front of Slack acknowledgements (api/slack_recording.py), on SQLite and
PostgreSQL: a burst of clicks is written in a few INSERTs, not one each, every click in arrival
order and committed before its request goes on; a write that fails fails each click it held,
and the next click is written anew."""

import asyncio
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError

from api.slack_recording import ClickRecorder
from orchestrator.core.clock import utcnow
from orchestrator.core.db import make_async_engine
from orchestrator.core.enums import InteractionKind
from orchestrator.core.inbox import TABLE, interaction_row

BURST = 30


def row(n: int) -> dict[str, Any]:
    return interaction_row(
        kind=InteractionKind.BLOCK_ACTION, slack_user_id="U1", ordering_key="item:1", payload={"n": n}, now=utcnow()
    )


def payloads(engine) -> list[int]:
    with engine.connect() as connection:
        return [found["n"] for found in connection.execute(select(TABLE.c.payload).order_by(TABLE.c.id)).scalars()]


def test_a_burst_of_clicks_is_written_in_a_few_inserts_in_arrival_order(engine):
    async_engine = make_async_engine(engine)
    inserts: list[str] = []
    event.listen(async_engine.sync_engine, "before_cursor_execute", lambda _c, _k, sql, *_: inserts.append(sql))

    async def burst() -> None:
        recorder = ClickRecorder(async_engine)
        await asyncio.gather(*(recorder.record(row(n)) for n in range(BURST)))
        await async_engine.dispose()

    asyncio.run(burst())
    assert payloads(engine) == list(range(BURST))
    writes = [sql for sql in inserts if sql.lstrip().upper().startswith("INSERT")]
    assert 1 <= len(writes) <= 3, len(writes)  # the first click alone, then the rest together


def test_a_failed_write_fails_every_click_it_held_and_the_next_is_written(engine):
    async_engine = make_async_engine(engine)
    failing = {"on": True}

    def refuse(_connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if failing["on"] and sql.lstrip().upper().startswith("INSERT"):
            raise SQLAlchemyError("the database went away")

    event.listen(async_engine.sync_engine, "before_cursor_execute", refuse)

    async def clicks() -> list[BaseException | None]:
        recorder = ClickRecorder(async_engine)
        outcomes = await asyncio.gather(*(recorder.record(row(n)) for n in range(3)), return_exceptions=True)
        failing["on"] = False
        await recorder.record(row(3))
        await async_engine.dispose()
        return outcomes

    outcomes = asyncio.run(clicks())
    assert all(isinstance(outcome, SQLAlchemyError) for outcome in outcomes)
    assert payloads(engine) == [3]
