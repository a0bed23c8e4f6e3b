"""Per-test engines that share one dialect and one compiled-statement cache per test process.

Why: SQLAlchemy keys its cache of compiled SQL by the engine's dialect object, so a new engine per
test compiled every statement a test ran again, as if the process had just started: a py-spy
profile of the whole suite put statement compilation at 9 % of the test processes' CPU. A long
running launchdeck process compiles each statement once; the tests now do the same.

Each test still gets an engine of its own (``Engine.execution_options()``, which shares the pool,
dialect and cache of its base): event listeners a test adds stay on its engine, and disposing it
at the end closes every pooled connection, as before. What changes is where SQLite's file lives:
one path per test process, which each test gets as a new file (the old one unlinked first, with
its WAL and shared-memory files, so a connection a test leaked keeps the old file to itself and
cannot touch the next test's).
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from orchestrator.core.db import make_engine


class SharedEngines:
    """One base engine per database URL for the life of a test process."""

    def __init__(self, sqlite_dir: Path) -> None:
        self._sqlite_path = sqlite_dir / "launchdeck.db"
        self._bases: dict[str, Engine] = {}

    def _base(self, url: str) -> Engine:
        if url not in self._bases:
            self._bases[url] = make_engine(url)
        return self._bases[url]

    @contextmanager
    def sqlite_copy(self, template: Path) -> Iterator[Engine]:
        """An engine on a fresh copy of ``template`` at this process's SQLite path."""
        _replace_file(self._sqlite_path, template)
        with self._borrowed(f"sqlite:///{self._sqlite_path}") as engine:
            yield engine

    @contextmanager
    def postgres(self, url: str) -> Iterator[Engine]:
        with self._borrowed(url) as engine:
            yield engine

    @contextmanager
    def _borrowed(self, url: str) -> Iterator[Engine]:
        engine = self._base(url).execution_options()
        try:
            yield engine
        finally:
            engine.dispose()  # the shared pool: every connection the test left checked in is closed

    def close(self) -> None:
        for base in self._bases.values():
            base.dispose()
        self._bases.clear()


def _replace_file(path: Path, template: Path) -> None:
    """Put a copy of ``template`` at ``path`` as a new file, never writing into the old one."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    staging = path.with_name(path.name + ".copy")
    shutil.copyfile(template, staging)
    os.replace(staging, path)
