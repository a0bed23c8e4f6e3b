"""What the OpenAPI document says beyond the routes' own signatures: that every /api/v1 operation
takes a bearer token (the token is read by ``api/deps.py`` from the header, which FastAPI cannot
see), and that the changing ones honour an ``Idempotency-Key`` header (read by the middleware in
``api/idempotency.py``, outside any route). Clients and generators read both from the document."""

from typing import Any

from fastapi import FastAPI

from api.idempotency import CHANGING, MAX_KEY_LENGTH

BEARER = "bearerToken"
API_PREFIX = "/api/v1"

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (a UUID, say). A retry with the same key and the same request gets the "
        "first answer again (marked Idempotent-Replayed: true) and changes nothing twice; the same "
        "key with a different request is a 422, and while the first is still running a 409. Keys "
        "belong to the token. Answers of 5xx are not kept, so a retry after one runs again."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
}


def _describe(document: dict[str, Any]) -> None:
    document.setdefault("components", {})["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `launchdeck tokens create`; its role decides what it may do.",
        }
    }
    for path, operations in document["paths"].items():
        if not path.startswith(API_PREFIX + "/"):
            continue
        for method, operation in operations.items():
            operation["security"] = [{BEARER: []}]
            if method.upper() in CHANGING:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)


def install(app: FastAPI) -> None:
    """``app.openapi`` builds FastAPI's document once, then adds the token scheme and the header."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _describe(build())  # FastAPI keeps what it built in app.openapi_schema
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
