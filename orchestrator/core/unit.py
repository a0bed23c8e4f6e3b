"""Transaction, row-locking and compare-and-set helpers shared by the services."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Table, Update, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel, select

from orchestrator.core.db import WRITE_INTENT, is_sqlite
from orchestrator.core.errors import NotFound, StaleVersion

RowT = TypeVar("RowT", bound=SQLModel)


@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """Commit everything the block wrote, or nothing: a half-written change never lands.

    The transaction begins as a write (SQLite: BEGIN IMMEDIATE, so writers queue instead of
    racing). A read the caller left open (an API request's token lookup) is ended first on SQLite,
    where the write must begin IMMEDIATE. On PostgreSQL it is continued: under READ COMMITTED each
    statement reads fresh rows and the service re-reads what it changes under its row locks, so
    ending it would only cost a COMMIT, a pool checkout and a ping per request. Changes the caller
    left pending are committed first on both, as before, so a refused change never takes them along.
    """
    pending = session.new or session.dirty or session.deleted
    if session.in_transaction() and (pending or is_sqlite(session.get_bind())):
        session.commit()
    if not session.in_transaction():
        session.connection(execution_options={WRITE_INTENT: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def lock(session: Session, model: type[RowT], row_id: int, entity: str) -> RowT:
    """Load a row fresh and hold its write lock until commit (SELECT ... FOR NO KEY UPDATE on
    PostgreSQL; SQLite already holds the database write lock from BEGIN IMMEDIATE).

    NO KEY UPDATE, not UPDATE: every audit and outbox insert takes a KEY SHARE lock on the launch
    it references, and a plain FOR UPDATE waits on those, so two regions of one launch going live
    together deadlocked. Keys never change here, so the weaker lock is exact."""
    statement = (
        select(model)
        .where(model.id == row_id)  # type: ignore[attr-defined]
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    row = session.exec(statement).one_or_none()
    if row is None:
        raise NotFound(entity, row_id)
    return row


def expect_version(row: Any, expected: int | None, entity: str, *, key: object = None) -> None:
    """Refuse a change made from a stale read; ``key`` names the row as people know it (a slug
    and region code) where its id would mean nothing to them."""
    if expected is not None and row.version != expected:
        raise StaleVersion(entity, row.id if key is None else key, expected, row.version)


def compare_and_set(session: Session, row: Any, entity: str, **values: Any) -> None:
    """Write ``values`` only if nobody bumped the row's version since it was read; bump it."""
    model = type(row)
    values["version"] = row.version + 1
    session.flush()
    # A Core UPDATE of the table on the session's connection: no ORM pass over the identity map,
    # since the only object this can change is ``row``, updated below.
    statement = _cas_update(model.__table__, tuple(sorted(values)))
    parameters = {CAS_PREFIX + name: value for name, value in values.items()}
    parameters["cas_id"] = row.id
    parameters["cas_version"] = row.version
    result = session.connection().execute(statement, parameters)
    if cast(CursorResult[Any], result).rowcount != 1:
        actual = session.exec(select(model.version).where(model.id == row.id)).one()
        raise StaleVersion(entity, row.id, row.version, actual)
    for name, value in values.items():
        set_committed_value(row, name, value)


CAS_PREFIX = "cas_set_"


@lru_cache(maxsize=256)
def _cas_update(table: Table, names: tuple[str, ...]) -> Update:
    """The compare-and-set UPDATE of ``names``, built once per table and set of columns: building
    and cache-keying an UPDATE costs more than running it (a third of a check-off's CPU went
    there). An unknown column name fails here, as ``.values()`` would."""
    columns = table.c
    return (
        update(table)
        .where(columns.id == bindparam("cas_id"), columns.version == bindparam("cas_version"))
        .values({name: bindparam(CAS_PREFIX + name, type_=columns[name].type) for name in names})
    )
