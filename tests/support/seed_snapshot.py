"""The built-in seed, written once per run and copied into each test that asks for ``seeded``.

Why: about a thousand tests start from the seeded directory (teams, regions, members), and applying
the seed through the service took 25-45 ms a test (a sixth of a typical API test's setup). The
rows the seed writes do not depend on the test, so the run applies it once through the same
service and copies the result:

- on SQLite, a seeded copy of the migrated template file, copied instead of the empty one;
- on PostgreSQL, the seeded rows kept in a schema of their own in the run's database, put back
  with one INSERT ... SELECT per table, and every id sequence set to where the seed left it, in the
  same round trip that empties the tables.

Row ids, audit events and outbox rows are the ones the service wrote; only their timestamps are
from the start of the run instead of the start of the test.
"""

from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from orchestrator.core.actors import Actor
from orchestrator.core.db import make_engine
from orchestrator.directory.seed import load_seed
from orchestrator.directory.service import apply_seed

SNAPSHOT_SCHEMA = "launchdeck_test_seed"


def apply_builtin_seed(engine: Engine, actor: Actor) -> None:
    with Session(engine, expire_on_commit=False) as session:
        apply_seed(session=session, config=load_seed(None), actor=actor)


def seeded_sqlite_copy(template: Path, target: Path, actor: Actor) -> Path:
    """``target``: the migrated ``template`` with the built-in seed applied, checkpointed."""
    target.write_bytes(template.read_bytes())
    engine = make_engine(f"sqlite:///{target}")
    apply_builtin_seed(engine, actor)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file copied later
    return target


def snapshot_postgres_seed(engine: Engine, actor: Actor) -> str:
    """Apply the seed to the (empty, migrated) database and keep its rows in ``SNAPSHOT_SCHEMA``.
    Returns the SQL that puts them back into emptied tables (``restore`` of ``empty_postgres``)."""
    apply_builtin_seed(engine, actor)
    restores = []
    with engine.begin() as connection:
        connection.execute(
            text(f'DROP SCHEMA IF EXISTS "{SNAPSHOT_SCHEMA}" CASCADE; CREATE SCHEMA "{SNAPSHOT_SCHEMA}"')
        )
        for table in SQLModel.metadata.sorted_tables:
            if connection.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{table.name}")')).scalar_one():
                connection.execute(text(f'CREATE TABLE "{SNAPSHOT_SCHEMA}"."{table.name}" AS TABLE "{table.name}"'))
                restores.append(f'INSERT INTO "{table.name}" SELECT * FROM "{SNAPSHOT_SCHEMA}"."{table.name}"')
        sequences = connection.execute(
            text("SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL")
        ).all()
    restores += [f'SELECT setval(\'"{schema}"."{name}"\', {value})' for schema, name, value in sequences]
    return "; ".join(restores)


def empty_postgres(engine: Engine, *, restore: str | None = None) -> None:
    """Every table emptied and every id sequence restarted, as a fresh database has them; then,
    with ``restore``, the seeded rows put back.

    DELETE, not TRUNCATE: the tables hold a test's few rows, and TRUNCATE makes new files for all
    of them (130-150 ms a test here, against 4-5 ms), which was a third of the suite's setup time."""
    statements = [f'DELETE FROM "{table.name}"' for table in reversed(SQLModel.metadata.sorted_tables)]
    statements.append(
        "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'S' AND n.nspname = 'public'"
    )
    if restore:
        statements.append(restore)
    with engine.begin() as connection:
        connection.execute(text("; ".join(statements)))
