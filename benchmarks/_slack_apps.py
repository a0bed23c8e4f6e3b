"""Variants of the real app for ``benchmarks/slack_ack.py --app ...``, so the choice of where a
click's deferred work runs (api/slack_work.py) can be re-measured rather than taken on trust."""

from collections.abc import Callable

from fastapi import BackgroundTasks, FastAPI

from api.app import create_app
from api.slack import Deferrer, get_deferrer
from api.slack_work import SlackWork


class _BackgroundTasksDeferrer:
    """Runs a click's work as a Starlette background task (the shared threadpool, after the answer)."""

    def __init__(self, tasks: BackgroundTasks) -> None:
        self.tasks = tasks

    def defer(self, job: Callable[[], None], *, key: int, urgent: bool = False) -> bool:
        self.tasks.add_task(job)
        return True


def background_tasks_app() -> FastAPI:
    """Deferred work on Starlette ``BackgroundTasks`` instead of the app's worker threads."""
    app = create_app(tune_gc=True)

    def deferrer(tasks: BackgroundTasks) -> Deferrer:
        return _BackgroundTasksDeferrer(tasks)

    app.dependency_overrides[get_deferrer] = deferrer
    return app


def _with_workers(count: int) -> FastAPI:
    app = create_app(tune_gc=True)
    app.state.slack_work = SlackWork(workers=count)
    return app


def one_worker_app() -> FastAPI:
    """The app's worker threads, but only one of them."""
    return _with_workers(1)


def four_workers_app() -> FastAPI:
    """The app's worker threads, four of them (the default before the raw-socket measurements)."""
    return _with_workers(4)


def inline_app() -> FastAPI:
    """No deferral: every click is carried out before it is answered (the behaviour before #6)."""
    app = create_app(tune_gc=True)
    app.dependency_overrides[get_deferrer] = lambda: None
    return app
