"""What a click costs the event loop before its acknowledgement (issue #21): the API resolves for
/slack/interactions only what every request needs (the clock), never the Slack adapters that
only inline answers use, and no dependency of the route hops to the thread pool (a plain ``def``
dependency would, and under a burst of 50 clicks those hops waited on the busy loop: BENCHMARKS.md,
"Slack interaction acknowledgement latency"). The click is still recorded before its 200, on
SQLite and PostgreSQL."""

import inspect
from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from api import slack
from api.app import create_app
from api.slack import get_responder, get_view_opener
from orchestrator.core.enums import InteractionStatus
from orchestrator.core.settings import reset_settings
from tests.support.api import served
from tests.support.slack_clicks import click, interactions
from tests.support.slack_http import Recorder, SlackClient


def dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from dependencies(sub)


def route(path: str) -> APIRoute:
    return next(found for found in slack.router.routes if isinstance(found, APIRoute) and found.path == path)


def test_no_dependency_of_the_interactions_route_runs_in_the_thread_pool(engine):
    app_wide = [depends.dependency for depends in create_app(engine=engine).router.dependencies]
    calls = app_wide + [found.call for found in dependencies(route("/slack/interactions").dependant)]
    assert len(calls) >= 2, calls  # the app-wide check, the clock
    blocking = [call for call in calls if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))]
    assert blocking == []


def test_a_click_is_recorded_and_acknowledged_without_the_inline_adapters(
    engine: Engine, clickable: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHDECK_SLACK_APPLIER", "process")  # no processor here asks for the adapters either
    reset_settings()
    asked: list[str] = []
    recorder = Recorder()

    def opener() -> Recorder:
        asked.append("views.open")
        return recorder

    def responder() -> Recorder:
        asked.append("response_url")
        return recorder

    app = create_app(engine=engine)
    app.dependency_overrides[get_view_opener] = opener
    app.dependency_overrides[get_responder] = responder
    with served(app) as base:
        answer = SlackClient(base, recorder, {}, "acme-assistant").interact(click(clickable[0]))
        assert answer.status_code == 200
        assert answer.content == b""
    assert [row.status for row in interactions(engine)] == [InteractionStatus.PENDING]  # recorded before the answer
    assert asked == []  # what only a modal submission or a shortcut needs was not looked up
