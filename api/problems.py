"""Errors as RFC 9457 problem details (application/problem+json), one mapping for every route.

Domain errors carry their own message (what was wrong, what is allowed instead); validation
errors name each bad field; nothing becomes a bare 500 without a correlation id the caller sees.
"""

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestrator.core.db import database_unavailable
from orchestrator.core.errors import (
    AlreadyExists,
    ConfigError,
    Forbidden,
    IllegalTransition,
    InvalidInput,
    LaunchdeckError,
    NotFound,
    PreconditionFailed,
    SchemaOutOfDate,
    SchemaTooNew,
    StaleVersion,
    Unauthenticated,
)

log = logging.getLogger("launchdeck.api")
PROBLEM_JSON = "application/problem+json"

STATUS_FOR: list[tuple[type[LaunchdeckError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (AlreadyExists, 409),
    (StaleVersion, 409),
    (IllegalTransition, 409),
    (PreconditionFailed, 409),
    (InvalidInput, 422),
    (ConfigError, 422),
    (SchemaOutOfDate, 503),
    (SchemaTooNew, 503),
]
TITLES = {
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    503: "Service unavailable",
}
# What a 503 for an unreachable database asks clients to wait: PostgreSQL restarting takes about
# that long, and the app's pools reconnect on the first request after it is back.
RETRY_AFTER_SECONDS = 2


def problem(status: int, detail: str, *, code: str, extra: dict[str, Any] | None = None) -> JSONResponse:
    body = {"type": f"https://launchdeck.dev/problems/{code}", "title": TITLES.get(status, "Error"), "status": status}
    body["detail"] = detail
    body.update(extra or {})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status == 500:
        # The server closes the connection after an unhandled error (uvicorn does, once the answer
        # is sent): saying so lets a client open a new one for its next request instead of
        # sending it down a connection that is going away.
        headers["Connection"] = "close"
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def database_unavailable_problem(exc: BaseException) -> JSONResponse:
    """503 with Retry-After: the request may well succeed in a moment, and a client should say so
    to its user rather than report a bug. No incident id and no traceback in the log: an outage
    of the database is not an error of this request."""
    log.warning("database unavailable, answered 503: %s", type(exc).__name__)
    answer = problem(
        503,
        f"the database is unreachable right now (restarting or down); retry in {RETRY_AFTER_SECONDS} seconds",
        code="database_unavailable",
    )
    answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


def _unexpected(exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.exception("unexpected error %s", incident, exc_info=exc)
    return problem(500, f"an unexpected error happened; quote incident {incident} to your admin", code="internal_error")


def _field_name(location: Sequence[Any], *, strip_body: bool) -> str:
    parts = [str(part) for part in location]
    if strip_body and len(parts) > 1 and parts[0] in ("query", "path"):
        return ".".join(parts[1:])
    if strip_body and len(parts) > 1 and parts[0] == "header":  # if-match -> If-Match, as clients send it
        return "-".join(word.capitalize() for word in parts[1].split("-"))
    if strip_body and parts and parts[0] == "body":
        parts = parts[1:]
        if not parts or all(part.isdigit() for part in parts):  # ("body", 8): a JSON syntax error
            return "body"
    return ".".join(parts) or "body"


def _invalid(errors: Sequence[Any], *, strip_body: bool) -> JSONResponse:
    listed = [
        {
            "field": _field_name(error["loc"], strip_body=strip_body),
            "message": error["msg"].removeprefix("Value error, "),
        }
        for error in errors
    ]
    summary = "; ".join(f"{error['field']}: {error['message']}" for error in listed[:5])
    return problem(422, f"the request is not valid: {summary}", code="invalid_request", extra={"errors": listed})


def _domain_extra(exc: LaunchdeckError) -> dict[str, Any]:
    if isinstance(exc, IllegalTransition):
        return {"current": exc.current, "allowed": exc.allowed}
    if isinstance(exc, StaleVersion):
        return {"expected_version": exc.expected, "current_version": exc.actual}
    if isinstance(exc, InvalidInput):
        return {"errors": [{"field": exc.field, "message": exc.problem}]}
    if isinstance(exc, ConfigError):
        return {"errors": [{"field": exc.source, "message": problem} for problem in exc.problems]}
    return {}


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route of ``app`` answers at ``path``. A path's methods are often spread
    over several routes (GET and POST /launches are two), of which the router's 405 names only
    the first it tried, so they are gathered from all of them."""
    allowed: set[str] = set()
    for route in iter_route_contexts(app.routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(path):
            allowed |= set(route.methods or ())
    return sorted(allowed)


def _method_not_allowed(request: Request) -> JSONResponse:
    """405 with the ``Allow`` header HTTP asks for, and the same list in words."""
    allowed = allowed_methods(request.app, request.scope["path"])
    answer = problem(
        405,
        f"{request.method} is not allowed here; use {', '.join(allowed) or 'nothing'}",
        code="method_not_allowed",
        extra={"allowed": allowed},
    )
    answer.headers["Allow"] = ", ".join(allowed)
    return answer


def install(app: FastAPI) -> None:
    @app.exception_handler(LaunchdeckError)
    async def domain_error(_request: Request, exc: LaunchdeckError) -> JSONResponse:
        status = next((code for kind, code in STATUS_FOR if isinstance(exc, kind)), 400)
        return problem(status, exc.message, code=exc.code, extra=_domain_extra(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _invalid(exc.errors(), strip_body=True)

    @app.exception_handler(ValidationError)
    async def domain_validation_error(_request: Request, exc: ValidationError) -> JSONResponse:
        # A domain spec (LaunchSpec, RegionPlan...) refusing what the request model let through.
        return _invalid(exc.errors(), strip_body=False)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's own "error parsing the body" (e.g. not UTF-8)
            return problem(
                422,
                "the request body could not be read: send UTF-8 JSON",
                code="invalid_request",
                extra={"errors": [{"field": "body", "message": str(exc.detail)}]},
            )
        if exc.status_code == 405:
            return _method_not_allowed(request)
        code = {404: "not_found"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, str(exc.detail), code=code)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_request: Request, exc: SQLAlchemyError) -> JSONResponse:
        return database_unavailable_problem(exc) if database_unavailable(exc) else _unexpected(exc)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Also what a middleware raises (the Idempotency-Key store reads the database before the
        # route runs), which the handlers above never see.
        return database_unavailable_problem(exc) if database_unavailable(exc) else _unexpected(exc)


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API answers."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
    allowed: list[str] | None = None
    current: str | None = None
    expected_version: int | None = None
    current_version: int | None = None


def _described(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}}


# Declared on every router so clients (and schemathesis) see the errors the routes can answer.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _described("No token, or a token that is unknown or revoked."),
    403: _described("The token's role (or team) may not do this; the detail names who may."),
    404: _described("The launch, region, item or gate does not exist."),
    409: _described("A stale version, an illegal transition, an unmet precondition, or a duplicate."),
    422: _described("Invalid input; `errors` names each field."),
    503: _described("The database is unreachable for now (restarting or down); retry after `Retry-After` seconds."),
}
