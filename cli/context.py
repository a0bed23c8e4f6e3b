"""Engine and session for CLI commands, built from settings, with the schema checked first."""

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlmodel import Session

from orchestrator.core.actors import Actor
from orchestrator.core.db import make_engine, session_scope
from orchestrator.core.enums import Source
from orchestrator.core.migrate import ensure_schema_current
from orchestrator.core.settings import get_settings


def cli_actor() -> Actor:
    return Actor(name=getpass.getuser(), source=Source.CLI)


def engine_from_settings() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.database_echo)


@contextmanager
def open_session(*, check_schema: bool = True) -> Iterator[Session]:
    engine = engine_from_settings()
    try:
        if check_schema:
            ensure_schema_current(engine)
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()
