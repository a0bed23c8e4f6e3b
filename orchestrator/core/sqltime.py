"""Time arithmetic done by the database, for reads over thousands of dated rows: SQLite returns
datetimes as text that SQLAlchemy parses in Python row by row (a third of the portfolio's time at
200 launches), so a read that only needs a difference asks the database for it in seconds.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from orchestrator.core.clock import as_utc


class seconds_between(FunctionElement[int]):  # noqa: N801 (a SQL function, named like one)
    """``later - earlier`` in whole seconds (fractions of a second dropped on SQLite)."""

    type = Integer()
    inherit_cache = True


@compiles(seconds_between)
def _printed(element: seconds_between, compiler: Any, **kw: Any) -> str:
    """For str(statement) in logs and debuggers; launchdeck runs on SQLite and PostgreSQL only."""
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"seconds_between({later}, {earlier})"


@compiles(seconds_between, "sqlite")
def _sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"(CAST(strftime('%s', {later}) AS INTEGER) - CAST(strftime('%s', {earlier}) AS INTEGER))"


@compiles(seconds_between, "postgresql")
def _postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS BIGINT)"


def read_when(value: datetime | str) -> datetime:
    """A timestamp selected without its column type (``type_coerce(column, String)``): SQLite's
    text parsed here, only for the rows a caller keeps; PostgreSQL's driver already gives a
    datetime. Aware UTC either way."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)
