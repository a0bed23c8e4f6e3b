"""Helpers shared by the API tests that go over real HTTP: an app served on a loopback port, routes
discovered from the app, a kicked-off launch to fill path parameters with, and the problem+json
shape every error must have."""

import asyncio
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import httpx
import uvicorn
from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from flows.server import free_port
from orchestrator.core.enums import Role
from orchestrator.core.models import ChecklistItem, Launch, Team
from tests.support.flows import wait_for

API_PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"
PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")

LAUNCH: dict[str, Any] = {
    "slug": "acme-api",
    "name": "Acme API",
    "tier": 2,
    "owner": "pat@example.com",
    "flags": ["personal_data"],
    "regions": [
        {
            "region": "EU",
            "dates": {"internal": "2027-01-10T09:00:00+00:00", "ga": "2027-04-01T09:00:00+00:00"},
            "skip": ["private_beta", "public_beta"],
        }
    ],
    "approvers": ["approver@example.com"],
}


_STOPPING: list[threading.Thread] = []


class RealClockLoop(asyncio.SelectorEventLoop):
    """The event loop of the servers tests start: it keeps real time while a test freezes the clock.

    freezegun patches ``time.monotonic`` in every thread, and asyncio schedules by it. A server
    whose 0.1 s tick was scheduled on a frozen clock (some 1.8e9 s) waits for that moment in real
    time once the freeze ends, that is for ever, and never sees it was asked to stop: nine test API
    servers of a full run never stopped, and the run waited five seconds for them at its end.
    (``clock_gettime`` is the clock ``time.monotonic`` reads on Linux, and freezegun leaves it be.)"""

    def time(self) -> float:
        return time.clock_gettime(time.CLOCK_MONOTONIC)


@contextmanager
def served(app: FastAPI, *, wait_for_stop: bool = True) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port, lifespan and all, in a thread; yields the
    base URL once /healthz answers and stops the server (running the lifespan's shutdown) after.

    Stopping takes uvicorn 100-200 ms (its shutdown sleeps a tenth of a second and its loop ticks
    every tenth). With ``wait_for_stop=False`` the caller moves on at once and the thread is joined
    at the end of the run (``join_stopped_servers``): only for a server whose database nothing else
    will use, since its lifespan's shutdown (finishing acknowledged Slack clicks) runs meanwhile.
    A connection a client keeps open gets two seconds to finish before uvicorn closes it."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=2,
            loop="tests.support.api:RealClockLoop",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(answering, timeout=30, interval=0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        if wait_for_stop:
            thread.join(timeout=30)
        else:
            _STOPPING.append(thread)


def join_stopped_servers(*, timeout: float = 5) -> int:
    """Wait for the servers ``served(..., wait_for_stop=False)`` left stopping; returns how many
    did not finish within ``timeout`` seconds (all together). Their threads are daemons, so the run
    still ends. Since their loops keep real time (``RealClockLoop``) none is left in a full run."""
    deadline = time.monotonic() + timeout
    stuck = 0
    while _STOPPING:
        thread = _STOPPING.pop()
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck += thread.is_alive()
    return stuck


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Operation:
    """One method of one route under /api/v1, with the roles its `allow(...)` dependency lets in."""

    method: str
    path: str
    allowed: frozenset[Role] | None  # None: the route declares no roles at all
    has_body: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[str]:
        return PATH_PARAMETER.findall(self.path)


def _roles_in(dependant: Dependant) -> list[frozenset[Role]]:
    found: list[frozenset[Role]] = []
    for dependency in dependant.dependencies:
        roles = getattr(dependency.call, "allowed_roles", None)
        if roles is not None:
            found.append(frozenset(roles))
        found.extend(_roles_in(dependency))
    return found


def allowed_roles(dependant: Dependant, dependencies: Sequence[params.Depends]) -> frozenset[Role] | None:
    """The roles a route lets in: every `allow(...)` among its dependencies (at any depth) must pass."""
    found = _roles_in(dependant)
    for declared in dependencies:
        roles = getattr(declared.dependency, "allowed_roles", None)
        if roles is not None:
            found.append(frozenset(roles))
    if not found:
        return None
    return frozenset.intersection(*found)


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Each APIRoute as the app serves it. FastAPI 0.154 keeps included routers as `_IncludedRouter`
    entries in `app.routes` (prefix and router dependencies applied lazily); `iter_route_contexts`
    yields every route with its effective path, dependant and dependencies. Older FastAPI versions
    flatten the APIRoutes into `app.routes` directly."""
    iter_route_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_route_contexts is None:
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def api_operations(app: FastAPI) -> list[Operation]:
    """Every method of every APIRoute under /api/v1, reads first and deletions last, so a change made
    by an allowed role disturbs as few of the later requests as possible."""
    order = {"GET": 0, "HEAD": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    operations = [
        Operation(
            method=method,
            path=route.path,
            allowed=allowed_roles(route.dependant, route.dependencies),
            has_body=route.body_field is not None,
        )
        for route in _api_routes(app)
        if route.path == API_PREFIX or route.path.startswith(API_PREFIX + "/")
        for method in sorted(route.methods)
    ]
    assert len({(op.method, op.path) for op in operations}) == len(operations), "a route was listed twice"
    return sorted(operations, key=lambda op: (order.get(op.method, 1), op.path, op.method))


@dataclass(frozen=True)
class Fixtures:
    """Real identifiers to put into path parameters."""

    slug: str
    region: str
    item_id: int
    gate_id: int
    token_id: int  # a token nobody else uses, so a route that revokes "the token in the path" harms no test

    def value_for(self, name: str) -> str:
        lowered = name.lower()
        if lowered in ("slug", "launch", "launch_slug"):
            return self.slug
        if "region" in lowered:
            return self.region
        if "item" in lowered:
            return str(self.item_id)
        if "gate" in lowered:
            return str(self.gate_id)
        if "token" in lowered:
            return str(self.token_id)
        return "1"

    def fill(self, operation: Operation) -> str:
        return PATH_PARAMETER.sub(lambda match: self.value_for(match.group(1)), operation.path)


def create_kicked_off_launch(client: httpx.Client, token: str, engine: Engine, spare_token_id: int) -> Fixtures:
    """POST a launch, kick it off, and pick an item (of the marketing team when there is one) and a gate."""
    created = client.post(f"{API_PREFIX}/launches", json=LAUNCH, headers=auth(token))
    assert created.status_code == 201, created.text
    kicked = client.post(f"{API_PREFIX}/launches/{LAUNCH['slug']}/kickoff", headers=auth(token))
    assert kicked.status_code == 200, kicked.text
    gates = [gate for rollout in kicked.json()["rollouts"] for gate in rollout["gates"]]
    assert gates, "the kicked-off launch has no gates"
    with Session(engine) as session:
        launch_id = session.exec(select(Launch.id).where(Launch.slug == LAUNCH["slug"])).one()
        marketing = session.exec(select(Team.id).where(Team.key == "marketing")).first()
        items = session.exec(
            select(ChecklistItem.id, ChecklistItem.owner_team_id)
            .where(ChecklistItem.launch_id == launch_id)
            .order_by(col(ChecklistItem.id))
        ).all()
    assert items, "the launch has no checklist items"
    item_id = next((item for item, team in items if team == marketing), items[0][0])
    assert item_id is not None
    return Fixtures(
        slug=LAUNCH["slug"], region="EU", item_id=item_id, gate_id=int(gates[0]["id"]), token_id=spare_token_id
    )


def send(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; sent again once if the server dropped the kept-alive connection (uvicorn closes
    it after an unhandled exception, so the request after a 500 may find it gone)."""
    try:
        return client.request(method, path, **kwargs)
    except (httpx.RemoteProtocolError, httpx.ReadError):
        return client.request(method, path, **kwargs)


def problem_shape_errors(response: httpx.Response) -> list[str]:
    """What is wrong with an error response as RFC 9457 problem+json (empty when it is right)."""
    wrong = []
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith(PROBLEM_JSON):
        wrong.append(f"content-type is {content_type!r}, not {PROBLEM_JSON}")
    try:
        body = response.json()
    except ValueError:
        return [*wrong, f"body is not JSON: {response.text[:200]!r}"]
    if not isinstance(body, dict):
        return [*wrong, f"body is not an object: {body!r}"]
    for field, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
        if not isinstance(body.get(field), kind):
            wrong.append(f"{field} missing or not a {kind.__name__}: {body.get(field)!r}")
    if body.get("status") != response.status_code:
        wrong.append(f"status field {body.get('status')!r} differs from the HTTP status {response.status_code}")
    return wrong


def detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("detail", "")) if isinstance(body, dict) else str(body)


# Two regions with private-beta exit criteria: the dashboard's beta matrix, in a page and a browser.
BETA_LAUNCH: dict[str, Any] = {
    **LAUNCH,
    "slug": "acme-beta",
    "regions": [
        {
            "region": region,
            "dates": {
                "private_beta": "2027-01-10T09:00:00+00:00",
                "public_beta": "2027-02-10T09:00:00+00:00",
                "ga": "2027-04-01T09:00:00+00:00",
            },
            "skip": ["internal"],
        }
        for region in ("EU", "NA")
    ],
    "beta_exit_criteria": {"private_beta": {"open_severity_1": 0, "active_accounts": 2}},
}


def served_with_fakes(request: Any, monkeypatch: Any, fakes: dict[Any, Any]) -> str:
    """``api_server``'s URL, its app answering the dependencies in ``fakes`` (dependency -> the
    function that replaces it) for this test only. The fakes go on the test process's reusable app,
    and ``monkeypatch`` takes them off after the server stops: no app is built per test for them."""
    app = request.getfixturevalue("reusable_app")
    for dependency, fake in fakes.items():
        monkeypatch.setitem(app.dependency_overrides, dependency, fake)
    url: str = request.getfixturevalue("api_server")
    return url
