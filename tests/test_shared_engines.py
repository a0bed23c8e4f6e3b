"""Per-test engines over one base per process (tests/support/engines.py): each SQLite test's
connections reach its own file, listeners stay with the engine they were added to, and the
compiled SQL of one test is reused by the next."""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

from tests.support.engines import SharedEngines


def tables(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())


def test_each_sqlite_engine_opens_the_file_its_url_names_and_nothing_else(tmp_path: Path) -> None:
    engines = SharedEngines(tmp_path / "scratch")
    (tmp_path / "scratch").mkdir()
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    try:
        with engines.sqlite(first) as engine:
            assert engine.url.database == str(first)
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE only_in_first (id INTEGER)"))
        with engines.sqlite(second) as engine:
            assert engine.url.database == str(second)
            assert tables(engine) == []
        assert not (tmp_path / "scratch" / "never-opened.db").exists()
    finally:
        engines.close()


def test_a_listener_stays_on_its_test_and_compiled_statements_carry_over(tmp_path: Path) -> None:
    engines = SharedEngines(tmp_path)
    seen: list[str] = []
    statement = text("SELECT 1")
    try:
        with engines.sqlite(tmp_path / "a.db") as engine:

            def record(*args: Any) -> None:
                seen.append("a")

            event.listen(engine, "before_cursor_execute", record)
            with engine.connect() as connection:
                connection.execute(statement)
            cached = len(engine._compiled_cache or {})
        assert seen
        seen_in_a = len(seen)
        with engines.sqlite(tmp_path / "b.db") as engine, engine.connect() as connection:
            connection.execute(statement)
            assert len(engine._compiled_cache or {}) == cached  # compiled once, by the first test
        assert len(seen) == seen_in_a  # b's statements did not reach a's listener
    finally:
        engines.close()
