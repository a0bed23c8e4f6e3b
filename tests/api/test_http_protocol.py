"""HTTP itself, as a client library sees it over a real connection to the served app: a server
error announces that the connection closes, a wrong method lists the allowed ones, and a body past
the limit is refused before it is read."""

import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from api.app import create_app
from orchestrator.core.settings import get_settings
from tests.support.api import PROBLEM_JSON, auth, problem_shape_errors, served
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


def _raw_answer(api_server: str, head: str, body: bytes = b"") -> tuple[str, dict[str, str], bytes]:
    """Send ``head`` (and the start of a body) on a raw socket and read the answer, which must
    come while the rest of the body is still unsent (a server waiting for it times the read out)."""
    host, port = api_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        received = b""
        while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(received):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    header_block, _, answer = rest.partition(b"\r\n\r\n")
    headers = dict(line.decode().lower().split(": ", 1) for line in header_block.split(b"\r\n") if line)
    return status_line.decode(), headers, answer


def _length(received: bytes) -> int:
    for line in received.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 1 << 30


def _head(tokens: dict[str, str], framing: str) -> str:
    return (
        "POST /api/v1/launches HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {tokens['admin']}\r\n{framing}\r\n"
    )


def _is_413_problem(status_line: str, headers: dict[str, str], answer: bytes) -> None:
    assert status_line.startswith("HTTP/1.1 413"), status_line
    assert headers["content-type"].startswith(PROBLEM_JSON)
    assert headers["connection"] == "close"
    problem = json.loads(answer)
    assert problem["status"] == 413
    assert str(get_settings().max_body_bytes) in problem["detail"]


@before_any_query
def test_a_body_whose_content_length_passes_the_limit_is_a_413_before_any_of_it_is_sent(
    api_server: str, tokens: dict[str, str]
) -> None:
    head = _head(tokens, f"Content-Length: {60 * 1024 * 1024}\r\n")
    _is_413_problem(*_raw_answer(api_server, head))


@before_any_query
def test_a_chunked_body_is_a_413_as_soon_as_it_passes_the_limit_without_waiting_for_its_end(
    api_server: str, tokens: dict[str, str]
) -> None:
    def framed(size: int) -> bytes:
        return b"%x\r\n" % size + b"x" * size + b"\r\n"

    whole, rest = divmod(get_settings().max_body_bytes, 65536)
    # The limit exactly, then one byte more, and never the final zero-length chunk. The crossing
    # byte comes last so the server has nothing unread when it closes (unread data would make the
    # close a reset, which may discard the answer before this side reads it).
    chunks = framed(65536) * whole + (framed(rest) if rest else b"") + framed(1)
    _is_413_problem(*_raw_answer(api_server, _head(tokens, "Transfer-Encoding: chunked\r\n"), chunks))


@before_any_query
def test_a_body_within_the_limit_is_read_as_before(client: httpx.Client, tokens: dict[str, str]) -> None:
    answer = client.post("/api/v1/launches", json={"name": "x" * 5000}, headers=auth(tokens["admin"]))
    assert answer.status_code == 422  # validated, not refused for its size


@before_any_query
def test_the_openapi_document_declares_the_bearer_token_and_the_idempotency_key_where_they_apply(
    client: httpx.Client,
) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert [scheme for scheme in schemes.values() if scheme == {**scheme, "type": "http", "scheme": "bearer"}]
    wrong = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            protected = path.startswith("/api/v1/")
            if protected != bool(operation.get("security")) or any(
                name not in schemes for r in operation.get("security", []) for name in r
            ):
                wrong.append(f"{method} {path}: security {operation.get('security')}")
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            changing = protected and method in ("post", "put", "patch", "delete")
            if changing != ("Idempotency-Key" in headers):
                wrong.append(f"{method} {path}: header parameters {headers}")
    assert not wrong, "\n".join(wrong)
