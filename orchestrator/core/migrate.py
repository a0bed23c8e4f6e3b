"""Alembic owns the schema. This module runs it and refuses to start against a database whose
schema is missing, behind, or ahead of this code, saying which command fixes it."""

from functools import cache
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from orchestrator.core.db import is_sqlite
from orchestrator.core.errors import SchemaOutOfDate, SchemaTooNew

UPGRADE_HINT = "run `launchdeck db upgrade`"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("orchestrator") / "migrations"))
    return config


@cache
def head_revision() -> str:
    """The newest migration this code ships. Read once per process: finding it loads every
    migration script (3 ms here), and the API checks the schema each time it starts serving."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` in one transaction per migration."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if is_sqlite(engine):
            # Batch migrations rebuild tables; foreign keys must not fire mid-copy.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        command.upgrade(config, revision)


def ensure_schema_current(engine: Engine) -> None:
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    url = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaOutOfDate(
            f"the database at {url} has no launchdeck schema yet; {UPGRADE_HINT} (or `launchdeck init`)"
        )
    known = {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current not in known:
        raise SchemaTooNew(
            f"the database at {url} is at schema revision {current}, newer than this launchdeck knows "
            f"(latest {head}); upgrade launchdeck to the version that migrated it"
        )
    raise SchemaOutOfDate(f"the database at {url} is at schema revision {current}, behind {head}; {UPGRADE_HINT}")
