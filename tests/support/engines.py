"""Per-test engines that share one dialect and one compiled-statement cache per test process.

Why: SQLAlchemy keys its cache of compiled SQL by the engine's dialect object, so a new engine per
test compiled every statement a test ran again, as if the process had just started: a py-spy
profile of the whole suite put statement compilation at 9 % of the test processes' CPU. A long
running launchdeck process compiles each statement once; the tests now do the same.

Each test still gets an engine of its own (``Engine.execution_options()``, which shares the pool,
dialect and cache of its base): event listeners a test adds stay on its engine, and disposing it
at the end closes every pooled connection, as before. PostgreSQL tests all use the process's one
database. Each SQLite test keeps a file of its own, which its engine's URL names (for the API it
serves and the processes it starts); the shared pool opens that file because a ``do_connect``
hook points every new connection at the current test's file.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from orchestrator.core.db import make_engine


class SharedEngines:
    """One base engine per PostgreSQL URL, and one for SQLite, for the life of a test process."""

    def __init__(self, scratch: Path) -> None:
        self._bases: dict[str, Engine] = {}
        self._sqlite_base = make_engine(f"sqlite:///{scratch / 'never-opened.db'}")
        self._sqlite_file = ""
        event.listen(self._sqlite_base, "do_connect", self._open_current_sqlite_file)

    def _open_current_sqlite_file(self, _dialect: Any, _record: Any, cargs: list[Any], _cparams: Any) -> None:
        cargs[0] = self._sqlite_file

    @contextmanager
    def sqlite(self, path: Path) -> Iterator[Engine]:
        """An engine on the SQLite file at ``path``, until the next call."""
        self._sqlite_file = str(path)
        engine = self._sqlite_base.execution_options()
        engine.url = make_url(f"sqlite:///{path}")
        with _disposed_after(engine):
            yield engine

    @contextmanager
    def postgres(self, url: str) -> Iterator[Engine]:
        if url not in self._bases:
            self._bases[url] = make_engine(url)
        with _disposed_after(self._bases[url].execution_options()) as engine:
            yield engine

    def close(self) -> None:
        for base in [*self._bases.values(), self._sqlite_base]:
            base.dispose()
        self._bases.clear()


@contextmanager
def _disposed_after(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.dispose()  # the shared pool: every connection the test left checked in is closed
