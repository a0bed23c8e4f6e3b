"""Variants of the real app for ``benchmarks/slack_ack.py --app ...``, so the number of threads
applying recorded clicks (api/slack_work.py) can be re-measured rather than taken on trust."""

from fastapi import FastAPI

from api.app import create_app
from api.slack_work import SlackWork


def _with_workers(count: int) -> FastAPI:
    app = create_app(tune_gc=True)
    app.state.slack_work = SlackWork(workers=count)
    return app


def one_worker_app() -> FastAPI:
    """The app's processor threads, but only one of them."""
    return _with_workers(1)


def four_workers_app() -> FastAPI:
    """The app's processor threads, four of them."""
    return _with_workers(4)
