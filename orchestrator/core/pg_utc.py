"""PostgreSQL ``timestamptz`` values read back in UTC, whatever the session's time zone.

Why: psycopg returns a ``timestamptz`` in the session's ``TimeZone``, which is the server's
default unless someone sets it, and ``initdb`` sets that default to the machine's own zone. On a
server in Berlin every time launchdeck read back came as a Berlin time, and what formats times
without converting them (the web pages' ``when``, the Slack reminders' "Phase date ... UTC")
printed Berlin times labelled UTC. asyncpg already returns UTC; SQLite keeps what was written,
which is UTC. The conversion happens in the client, per connection, so no session setting is
needed (a pooler in transaction mode would not keep one).
"""

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import abc
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format
from sqlalchemy import Engine, event

_TIMESTAMPTZ = "timestamptz"


def _utc_loader(wire_format: Format) -> type[Loader]:
    """A loader that lets psycopg's own loader for ``wire_format`` parse the value (its C loader
    cannot be subclassed) and converts the result to UTC."""
    found = psycopg.adapters.get_loader(psycopg.adapters.types[_TIMESTAMPTZ].oid, wire_format)
    if found is None:
        raise RuntimeError(f"psycopg has no {wire_format.name} loader for timestamptz")
    own: type[abc.Loader] = found

    class UtcTimestamptzLoader(Loader):
        format = wire_format

        def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
            super().__init__(oid, context)
            self._own = own(oid, context)

        def load(self, data: Buffer) -> datetime:
            value: datetime = self._own.load(data)
            return value.astimezone(UTC)

    return UtcTimestamptzLoader


_LOADERS = (_utc_loader(Format.TEXT), _utc_loader(Format.BINARY))


def read_timestamps_in_utc(engine: Engine) -> None:
    """Make every connection ``engine`` opens (psycopg) return ``timestamptz`` values in UTC."""

    @event.listens_for(engine, "connect")
    def _register(dbapi_connection: Any, _record: Any) -> None:
        for loader in _LOADERS:
            dbapi_connection.adapters.register_loader(_TIMESTAMPTZ, loader)
