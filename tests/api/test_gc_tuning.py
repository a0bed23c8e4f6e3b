"""The serving process freezes its start-up objects and collects less often; tests and other
embedders of the app keep the interpreter's defaults."""

import asyncio
import gc

import pytest
from fastapi import FastAPI

from api.app import create_app, serving_app
from api.gc_tuning import THRESHOLDS


def while_started(app: FastAPI, check) -> None:
    """Run the app's lifespan (what uvicorn does at start and stop) around ``check``."""

    async def run() -> None:
        async with app.router.lifespan_context(app):
            check()

    asyncio.run(run())


@pytest.fixture
def restored_gc():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_the_serving_app_settles_the_collector_at_start(sqlite_engine, restored_gc, monkeypatch):
    monkeypatch.setattr("api.app._engine_from_settings", lambda: sqlite_engine)
    gc.unfreeze()

    def settled() -> None:
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0

    while_started(serving_app(), settled)


def test_an_embedded_app_leaves_the_collector_alone(sqlite_engine, restored_gc):
    gc.unfreeze()
    before = gc.get_threshold()

    def untouched() -> None:
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0

    while_started(create_app(engine=sqlite_engine), untouched)
