"""The console transport's copy of what it showed, in the database, for the dashboard.

The worker delivers and the API serves pages, in different processes, so the transport's memory is
out of the dashboard's reach; a table is not. Each post or update is its own short transaction on
its own session, never the delivery's, and a failure to record is logged and swallowed: the
message was already shown in the log, and a missing copy must not turn into a redelivery.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete, func, update
from sqlmodel import Session, col, select

from orchestrator.core.clock import utcnow
from orchestrator.core.models import ConsoleMessage
from orchestrator.core.unit import transaction

log = logging.getLogger("launchdeck.console")

KEEP = 500  # enough for a demo's whole story; older messages are only in the log


class ConsoleStore:
    """Records posts and updates as ``ConsoleMessage`` rows, keeping the newest ``keep``."""

    def __init__(self, engine: Engine, *, keep: int = KEEP) -> None:
        self._engine = engine
        self._keep = keep

    def posted(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._record("post", channel, ts, lambda session: self._insert(session, channel, ts, text, blocks))

    def updated(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._record("update", channel, ts, lambda session: self._update(session, channel, ts, text, blocks))

    def _record(self, what: str, channel: str, ts: str, write: Callable[[Session], None]) -> None:
        try:
            with Session(self._engine) as session, transaction(session):
                write(session)
        except Exception:  # a copy for the dashboard: delivery goes on whatever happened here
            log.warning("could not keep the %s to %s (%s) for the dashboard", what, channel, ts, exc_info=True)

    def _insert(self, session: Session, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        now = utcnow()
        session.add(ConsoleMessage(channel=channel, ts=ts, text=text, blocks=blocks, posted_at=now, updated_at=now))
        session.flush()
        stale = select(ConsoleMessage.id).order_by(*_NEWEST_FIRST).offset(self._keep)
        session.execute(delete(ConsoleMessage).where(col(ConsoleMessage.id).in_(stale.scalar_subquery())))

    def _update(self, session: Session, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        now = utcnow()
        changed = session.execute(
            update(ConsoleMessage)
            .where(col(ConsoleMessage.channel) == channel, col(ConsoleMessage.ts) == ts)
            .values(text=text, blocks=blocks, updated_at=now, updates=col(ConsoleMessage.updates) + 1)
        )
        if cast(CursorResult[Any], changed).rowcount == 0:  # pruned meanwhile, or posted before this table
            session.add(
                ConsoleMessage(
                    channel=channel, ts=ts, text=text, blocks=blocks, posted_at=now, updated_at=now, updates=1
                )
            )


_NEWEST_FIRST = (col(ConsoleMessage.updated_at).desc(), col(ConsoleMessage.id).desc())


@dataclass(frozen=True, slots=True)
class ConsolePage:
    """One page of kept messages, most recently posted or updated first."""

    messages: list[ConsoleMessage]
    page: int
    pages: int
    total: int


def console_messages(*, session: Session, page: int = 1, per_page: int = 50) -> ConsolePage:
    """The kept console messages, newest activity first; a page past the end shows the last one."""
    total = session.exec(select(func.count()).select_from(ConsoleMessage)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = session.exec(
        select(ConsoleMessage).order_by(*_NEWEST_FIRST).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return ConsolePage(messages=list(rows), page=page, pages=pages, total=total)
