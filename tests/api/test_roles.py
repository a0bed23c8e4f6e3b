"""Every route under /api/v1 declares the roles it lets in, and the server enforces exactly that.

The routes are read from the app at run time (routers are added all the time), each with the
roles of its `allow(...)` dependency; then every route is called as every role over real HTTP.
One server per backend: each test loops over the whole matrix and reports every failure at once,
each naming method, path and role.
"""

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from api.app import create_app
from api.deps import allow
from orchestrator.core.actors import Actor
from orchestrator.core.enums import Role
from orchestrator.core.policy import ADMINS
from orchestrator.core.policy import LAUNCH_OPERATORS as WRITERS
from orchestrator.directory.tokens import create_token, revoke_token
from tests.support.api import (
    Fixtures,
    Operation,
    api_operations,
    auth,
    create_kicked_off_launch,
    detail,
    problem_shape_errors,
    send,
)

pytestmark = pytest.mark.one_database(reason="role checks over HTTP (tests/ONE_DATABASE.md)")


def _report(failures: list[str], total: int) -> str:
    return f"{len(failures)} of {total} checks failed:\n  " + "\n  ".join(failures)


def _call(client: httpx.Client, operation: Operation, path: str, headers: dict[str, str]) -> httpx.Response:
    # A body that parses (JSON errors are answered before any dependency runs); for the allowed
    # roles it may well be invalid: only authorization is asserted here.
    body: dict[str, Any] = {"json": {}} if operation.has_body else {}
    return send(client, operation.method, path, headers=headers, **body)


def _names_allowed_roles(text: str, allowed: frozenset[Role]) -> bool:
    lowered = text.lower()
    _, marker, tail = lowered.partition("allowed roles")
    scope = tail if marker else lowered
    return all(re.search(rf"\b{re.escape(role.value)}\b", scope) for role in allowed)


def test_every_api_route_declares_the_roles_it_allows(sqlite_engine: Engine) -> None:
    operations = api_operations(create_app(engine=sqlite_engine))
    assert any(op.label == "POST /api/v1/launches" for op in operations), "route discovery found no launch routes"
    undeclared = [op.label for op in operations if op.allowed is None]
    assert not undeclared, "routes without `dependencies=[Depends(allow(ROLES))]`:\n  " + "\n  ".join(undeclared)
    empty = [op.label for op in operations if op.allowed == frozenset()]
    assert not empty, "routes whose allow(...) dependencies admit no role at all:\n  " + "\n  ".join(empty)


def test_the_route_walker_finds_routes_without_roles() -> None:
    """The check above must not pass vacuously: a router under the prefix, with roles on the router,
    on the route, or on neither, is read as declared."""
    app = FastAPI()
    guarded = APIRouter(prefix="/things", dependencies=[Depends(allow(WRITERS))])

    @guarded.get("")
    def list_things() -> None: ...

    @guarded.delete("/{thing_id}", dependencies=[Depends(allow(ADMINS))])
    def delete_thing(thing_id: int) -> None: ...

    bare = APIRouter(prefix="/open")

    @bare.post("")
    def open_door(body: dict[str, int]) -> None: ...

    app.include_router(guarded, prefix="/api/v1")
    app.include_router(bare, prefix="/api/v1")

    @app.get("/healthz")
    def outside() -> None: ...

    found = {op.label: (op.allowed, op.has_body) for op in api_operations(app)}
    assert found == {
        "GET /api/v1/things": (WRITERS, False),
        "DELETE /api/v1/things/{thing_id}": (WRITERS & ADMINS, False),
        "POST /api/v1/open": (None, True),
    }


def test_each_role_gets_exactly_what_its_route_allows(
    api_server: str, engine: Engine, seeded: Session, tokens: dict[str, str], actor: Actor
) -> None:
    operations = [op for op in api_operations(create_app(engine=engine)) if op.allowed is not None]
    spare, _secret = create_token(session=seeded, name="spare-bot", role=Role.PRODOPS, actor=actor)
    assert spare.id is not None
    failures: list[str] = []
    checks = 0
    with httpx.Client(base_url=api_server, timeout=30) as client:
        fixtures = create_kicked_off_launch(client, tokens["prodops"], engine, spare.id)
        for operation in operations:
            assert operation.allowed is not None
            path = fixtures.fill(operation)
            for role in Role:
                checks += 1
                where = f"{operation.label} as {role.value} ({operation.method} {path})"
                answer = _call(client, operation, path, auth(tokens[role.value]))
                if role not in operation.allowed:
                    allowed = ", ".join(sorted(r.value for r in operation.allowed))
                    if answer.status_code != 403:
                        failures.append(f"{where}: expected 403 (allowed: {allowed}), got {answer.status_code}")
                        continue
                    failures.extend(f"{where}: 403 {wrong}" for wrong in problem_shape_errors(answer))
                    if not _names_allowed_roles(detail(answer), operation.allowed):
                        failures.append(
                            f"{where}: the 403 does not name the allowed roles ({allowed}): {detail(answer)!r}"
                        )
                elif answer.status_code == 401 or (
                    answer.status_code == 403 and not (role == Role.MEMBER and "team" in detail(answer).lower())
                ):
                    failures.append(f"{where}: the role is allowed but got {answer.status_code}: {answer.text[:300]}")
        # A route that changed the callers' own tokens would make the answers above meaningless.
        for role in Role:
            if send(client, "GET", "/api/v1/launches", headers=auth(tokens[role.value])).status_code == 401:
                failures.append(f"the {role.value} token stopped working during the matrix (a route revoked it?)")
    assert not failures, _report(failures, checks)


def test_no_unknown_or_revoked_token_gets_in(
    api_server: str, engine: Engine, seeded: Session, tokens: dict[str, str], actor: Actor
) -> None:
    operations = api_operations(create_app(engine=engine))
    revoked, revoked_secret = create_token(session=seeded, name="revoked-bot", role=Role.ADMIN, actor=actor)
    assert revoked.id is not None
    revoke_token(session=seeded, token_id=revoked.id, actor=actor, now=datetime.now(UTC))
    fixtures = Fixtures(slug="acme-api", region="EU", item_id=1, gate_id=1, token_id=revoked.id)
    callers: dict[str, dict[str, str]] = {
        "no token": {},
        "a revoked admin token": auth(revoked_secret),
        "an unknown token": auth("ldk_not-a-token"),
        "a non-bearer scheme": {"Authorization": f"Basic {tokens['admin']}"},
    }
    failures: list[str] = []
    checks = 0
    with httpx.Client(base_url=api_server, timeout=30) as client:
        for operation in operations:
            path = fixtures.fill(operation)
            for caller, headers in callers.items():
                checks += 1
                answer = _call(client, operation, path, headers)
                where = f"{operation.label} with {caller}"
                if answer.status_code != 401:
                    failures.append(f"{where}: expected 401, got {answer.status_code}: {answer.text[:200]}")
                    continue
                failures.extend(f"{where}: 401 {wrong}" for wrong in problem_shape_errors(answer))
                if answer.headers.get("www-authenticate", "").lower() != "bearer":
                    failures.append(f"{where}: 401 without 'WWW-Authenticate: Bearer'")
    assert not failures, _report(failures, checks)
