"""Alembic owns the schema: it builds every table on both backends, matches the models exactly,
and the start-up check names the command that fixes a missing or foreign schema."""

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from orchestrator.core.db import make_engine
from orchestrator.core.errors import SchemaOutOfDate, SchemaTooNew
from orchestrator.core.migrate import current_revision, ensure_schema_current, head_revision, upgrade


def test_upgrade_builds_every_table_and_reaches_head(blank_database_url):
    engine = make_engine(blank_database_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        ensure_schema_current(engine)  # does not raise
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(blank_database_url):
    engine = make_engine(blank_database_url)
    try:
        upgrade(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_and_migrations_agree(engine):
    """A model change without a migration shows up here as a diff."""
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []


def test_unmigrated_database_is_refused_with_the_fix(blank_database_url):
    engine = make_engine(blank_database_url)
    try:
        with pytest.raises(SchemaOutOfDate, match="launchdeck db upgrade"):
            ensure_schema_current(engine)
    finally:
        engine.dispose()


def test_database_from_a_newer_launchdeck_is_refused(engine):
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    try:
        with pytest.raises(SchemaTooNew, match="newer than this launchdeck knows"):
            ensure_schema_current(engine)
    finally:  # the PostgreSQL database is shared by the whole run: put the real revision back
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})


def test_upgrading_a_database_with_launches_keeps_them(blank_database_url):
    """Each migration runs against rows written by the schema before it."""
    engine = make_engine(blank_database_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO launch (slug, name, tier, status, owner, flags, version, created_at, updated_at) "
                    "VALUES ('old-launch', 'Old', 2, 'active', 'o@x.io', '[]', 1, :now, :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
        upgrade(engine)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT slug, wave_mode, ramp_plan FROM launch")).one()
        assert row.slug == "old-launch"
        assert row.wave_mode == "parallel"
    finally:
        engine.dispose()


def test_upgrading_keeps_regions_skipping_the_phases_they_had_no_date_for(blank_database_url):
    """Before 0009 a phase without a date was skipped silently; after it, the skip is recorded."""
    engine = make_engine(blank_database_url)
    try:
        upgrade(engine, "0008")
        with engine.begin() as connection:
            values = {"now": "2026-01-01 00:00:00+00:00"}
            connection.execute(
                text(
                    "INSERT INTO launch (id, slug, name, tier, status, owner, flags, version, created_at, updated_at) "
                    "VALUES (1, 'old-launch', 'Old', 2, 'active', 'o@x.io', '[]', 1, :now, :now)"
                ),
                values,
            )
            connection.execute(
                text(
                    "INSERT INTO region (id, code, name, timezone, rollout_order) VALUES (1, 'EU', 'Europe', 'UTC', 1)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO regionrollout (id, launch_id, region_id, state, percent, version, updated_at) "
                    "VALUES (1, 1, 1, 'planned', 0, 1, :now)"
                ),
                values,
            )
            for phase in ("internal", "ga"):
                connection.execute(
                    text(
                        "INSERT INTO phasedate (rollout_id, phase, baseline_at, current_at) VALUES (1, :phase, :now, :now)"
                    ),
                    {**values, "phase": phase},
                )
        upgrade(engine)
        with engine.connect() as connection:
            skipped = connection.execute(text("SELECT skipped_phases FROM regionrollout")).scalar_one()
        assert (json.loads(skipped) if isinstance(skipped, str) else skipped) == ["private_beta", "public_beta"]
    finally:
        engine.dispose()


def test_checking_the_schema_again_reads_no_migration_script(engine, monkeypatch):
    """The API checks the schema each time it starts serving: the scripts are read once a process."""
    from alembic.script import ScriptDirectory

    ensure_schema_current(engine)
    reads = []
    real = ScriptDirectory.from_config.__func__
    monkeypatch.setattr(
        ScriptDirectory, "from_config", classmethod(lambda cls, config: reads.append(1) or real(cls, config))
    )
    ensure_schema_current(engine)
    ensure_schema_current(engine)
    assert reads == []
