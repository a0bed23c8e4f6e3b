"""HTTP itself, as a client library sees it over a real connection to the served app: a server
error announces that the connection closes, a wrong method lists the allowed ones, and a body past
the limit is refused before it is read."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from api.app import create_app
from tests.support.api import auth, problem_shape_errors, served
from tests.support.db import before_any_query


@pytest.fixture
def failing_app(engine: Engine) -> FastAPI:
    """The app with one extra route that fails unexpectedly, as a bug would."""
    app = create_app(engine=engine)

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture
def failing_server(failing_app: FastAPI) -> Iterator[str]:
    with served(failing_app) as base:
        yield base


@before_any_query
def test_a_server_error_says_connection_close_so_the_next_request_on_a_kept_alive_client_is_answered(
    failing_server: str,
) -> None:
    with httpx.Client(base_url=failing_server, timeout=10) as client:
        assert client.get("/healthz").status_code == 200  # the connection is now kept alive
        failed = client.get("/test-only/boom")
        assert failed.status_code == 500
        assert failed.headers.get("connection") == "close"
        assert not problem_shape_errors(failed)
        assert "incident" in failed.json()["detail"]
        assert client.get("/healthz").status_code == 200  # a new connection, not the closed one


@before_any_query
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/launches", "GET, POST"),
        ("GET", "/api/v1/launches/acme-api/kickoff", "POST"),
        ("PUT", "/healthz", "GET"),
    ],
)
def test_a_wrong_method_is_a_405_problem_whose_allow_header_lists_every_method_of_the_path(
    client: httpx.Client, tokens: dict[str, str], method: str, path: str, allowed: str
) -> None:
    answer = client.request(method, path, headers=auth(tokens["admin"]))
    assert answer.status_code == 405
    assert answer.headers.get("allow") == allowed
    assert not problem_shape_errors(answer)
    assert answer.json()["allowed"] == allowed.split(", ")
