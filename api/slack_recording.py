"""Writing Slack clicks before they are acknowledged, many in one INSERT (a group commit).

Why: each click must be in the database before Slack is told 200 (api/slack_work.py says why),
and 50 people clicking at once made that 50 separate transactions on the event loop, each with a
pool checkout and a commit; the acknowledgement p50 went from 95 to 334-421 ms (BENCHMARKS.md,
"Slack interaction acknowledgement latency"). Here one write is in flight at a time, and the
clicks that arrive meanwhile are written together by the next one: a lone click still costs one
INSERT, a burst a handful. Rows of one write are inserted in arrival order (their ids follow it),
and every click's request waits until the write holding it has committed; if that write fails,
each of its requests is answered 503 and nothing of it was recorded.
"""

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from orchestrator.core.inbox import RECORD


class ClickRecorder:
    """``await record(row)``: returns once ``row`` is committed (raises what the write raised)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, row: dict[str, Any]) -> None:
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, written))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        await written

    async def _write_all(self) -> None:
        """Write what is waiting, one batch after another, until nothing is."""
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(RECORD, [row for row, _ in batch])
            except Exception as error:  # noqa: BLE001 - handed to every request of the batch
                for _row, written in batch:
                    if not written.done():
                        written.set_exception(error)
            else:
                for _row, written in batch:
                    if not written.done():
                        written.set_result(None)
