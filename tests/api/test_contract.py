"""The API's error contract over real HTTP: every error is RFC 9457 problem+json with type, title,
status and detail; bad input is a 422 naming each bad field; unknown things are 404s; and an
Idempotency-Key makes concurrent duplicates run once.

Several of these tests were written against bugs they found (500s on domain validation, a
PostgreSQL GROUP BY, field names in 422s); they now guard the fixes.
"""

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from api.app import create_app
from orchestrator.core.models import Launch
from tests.support.api import LAUNCH, api_operations, auth, create_kicked_off_launch, problem_shape_errors, send
from tests.support.db import before_any_query
from tests.support.factories import skips_for

HUGE = 10**30


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an error answer is `status` as problem+json, and return its body."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:500]}"
    wrong = problem_shape_errors(response)
    assert not wrong, f"{response.request.method} {response.request.url}: " + "; ".join(wrong)
    body: dict[str, Any] = response.json()
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [str(error.get("field")) for error in body.get("errors", [])]


def names(body: dict[str, Any], field: str) -> bool:
    """Whether the errors name `field`, however located ("query.limit", "regions.0.dates.x.[key]")."""
    return any(f".{field}." in f".{named}." for named in fields(body))


def launch(**changes: Any) -> dict[str, Any]:
    return {**LAUNCH, **changes}


def region(dates: dict[str, str], code: str = "EU") -> dict[str, Any]:
    return {"region": code, "dates": dates, "skip": skips_for(dates)}


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


@before_any_query
def test_wrong_types_name_every_field(client: httpx.Client, admin: dict[str, str]) -> None:
    wrong = {"slug": 5, "name": 7, "tier": "high", "owner": [], "regions": "EU", "flags": "x", "approvers": {}}
    body = problem(client.post("/api/v1/launches", json=wrong, headers=admin), 422)
    named = fields(body)
    missing = [field for field in wrong if not any(name.split(".")[0] == field for name in named)]
    assert not missing, f"fields not named in errors: {missing}; errors: {body['errors']}"
    assert all(error.get("message") for error in body["errors"])
    assert body["detail"].startswith("the request is not valid")

    nested = launch(regions=[{"region": 3, "dates": {"internal": "soon"}}])
    body = problem(client.post("/api/v1/launches", json=nested, headers=admin), 422)
    assert {"regions.0.region", "regions.0.dates.internal"} <= set(fields(body)), body


@before_any_query
def test_a_body_that_is_not_an_object_or_is_missing_is_a_422(client: httpx.Client, admin: dict[str, str]) -> None:
    not_objects: tuple[object, ...] = ([], "launch", 3, None)
    for sent in not_objects:
        body = problem(client.post("/api/v1/launches", json=sent, headers=admin), 422)
        assert fields(body) == ["body"], (sent, body)
    body = problem(client.post("/api/v1/launches", headers=admin), 422)
    assert fields(body) == ["body"], body


@before_any_query
def test_unknown_fields_are_refused(client: httpx.Client, admin: dict[str, str]) -> None:
    body = problem(client.post("/api/v1/launches", json=launch(colour="red"), headers=admin), 422)
    assert "colour" in fields(body), body
    extra_region = launch(regions=[{**LAUNCH["regions"][0], "capital": "Brussels"}])
    body = problem(client.post("/api/v1/launches", json=extra_region, headers=admin), 422)
    assert "regions.0.capital" in fields(body), body
    assert client.get("/api/v1/launches/acme-api", headers=admin).status_code == 404, "a refused body created a launch"
    created = client.post("/api/v1/launches", json=LAUNCH, headers=admin)
    assert created.status_code == 201, created.text
    body = problem(
        client.post("/api/v1/launches/acme-api/regions/EU/halt", json={"reason": "x", "why": 1}, headers=admin), 422
    )
    assert "why" in fields(body), body


@before_any_query
def test_out_of_range_numbers_and_unknown_enum_values_are_422s(client: httpx.Client, admin: dict[str, str]) -> None:
    cases: list[tuple[str, str, dict[str, Any] | None, str]] = [
        ("POST", "/api/v1/launches", launch(tier=HUGE), "tier"),
        ("POST", "/api/v1/launches", launch(tier=0), "tier"),
        ("POST", "/api/v1/launches", launch(tier=-(HUGE)), "tier"),
        ("POST", "/api/v1/launches", launch(wave_mode="sideways"), "wave_mode"),
        (
            "POST",
            "/api/v1/launches",
            launch(regions=[region({"someday": "2027-01-10T09:00:00+00:00"})]),
            "regions.0.dates.someday",
        ),
        ("GET", f"/api/v1/launches?limit={HUGE}", None, "limit"),
        ("GET", "/api/v1/launches?limit=-1", None, "limit"),
        ("GET", "/api/v1/launches?limit=0", None, "limit"),
        ("GET", "/api/v1/launches?offset=-1", None, "offset"),
        ("GET", f"/api/v1/launches?offset=-{HUGE}", None, "offset"),
        ("GET", "/api/v1/launches?limit=ten", None, "limit"),
        ("GET", "/api/v1/launches?status=launched", None, "status"),
        ("GET", "/api/v1/launches/acme-api/beta/feedback/ranked?limit=0", None, "limit"),
        ("GET", f"/api/v1/launches/acme-api/beta/feedback/ranked?limit={HUGE}", None, "limit"),
        ("GET", "/api/v1/launches/acme-api/beta/feedback/ranked?phase=someday", None, "phase"),
        (
            "POST",
            "/api/v1/launches/acme-api/beta/cohorts",
            {"region": "EU", "phase": "private_beta", "cap": HUGE},
            "cap",
        ),
        ("POST", "/api/v1/beta/cohorts/1/enrollments", {"account": "acme", "via": "carrier-pigeon"}, "via"),
        ("POST", "/api/v1/beta/feedback/1/merge", {"into": HUGE}, "into"),
        (
            "POST",
            "/api/v1/launches/acme-api/beta/feedback",
            {"region": "EU", "phase": "private_beta", "account": "a", "type": "bug", "severity": HUGE, "text": "x"},
            "severity",
        ),
        (
            "POST",
            "/api/v1/launches",
            launch(beta_exit_criteria={"private_beta": {"open_severity_1": -1}}),
            "open_severity_1",
        ),
        (
            "POST",
            "/api/v1/launches",
            launch(beta_exit_criteria={"private_beta": {"happiness": 1}}),
            "beta_exit_criteria",
        ),
    ]
    failures = []
    for method, path, payload, field in cases:
        answer = (
            send(client, method, path, json=payload, headers=admin)
            if payload
            else send(client, method, path, headers=admin)
        )
        where = f"{method} {path} {str(payload)[:80] if payload else ''}"
        if answer.status_code != 422:
            failures.append(f"{where}: expected 422 naming {field!r}, got {answer.status_code}: {answer.text[:300]}")
            continue
        failures.extend(f"{where}: {wrong}" for wrong in problem_shape_errors(answer))
        if not names(answer.json(), field):
            failures.append(f"{where}: 422 does not name {field!r}: {answer.json().get('errors')}")
    assert not failures, "\n".join(failures)


def test_bad_versions_on_region_actions(
    client: httpx.Client, admin: dict[str, str], tokens: dict[str, str], engine: Engine
) -> None:
    create_kicked_off_launch(client, tokens["prodops"], engine, spare_token_id=0)
    halt = "/api/v1/launches/acme-api/regions/EU/halt"
    for version in (0, -1, "three"):
        body = problem(client.post(halt, json={"reason": "x", "version": version}, headers=admin), 422)
        assert "version" in fields(body), body
    body = problem(client.post(halt, json={"reason": "x"}, headers={**admin, "If-Match": '"three"'}), 422)
    assert "If-Match" in fields(body), body
    # A version no row can reach is refused as input, whichever way it is sent: never a 500.
    body = problem(client.post(halt, json={"reason": "x", "version": HUGE}, headers=admin), 422)
    assert "version" in fields(body), body
    body = problem(client.post(halt, json={"reason": "x"}, headers={**admin, "If-Match": f'"{HUGE}"'}), 422)
    assert "If-Match" in fields(body), body
    body = problem(client.post(halt, json={"reason": "x", "version": 1}, headers={**admin, "If-Match": '"2"'}), 422)
    assert "version" in fields(body), body
    body = problem(
        client.post(
            "/api/v1/launches/acme-api/regions/EU/reschedule",
            json={"phase": "beta", "date": "2027-02-01T09:00:00+00:00", "reason": "x"},
            headers=admin,
        ),
        422,
    )
    assert "phase" in fields(body), body


@before_any_query
def test_a_phase_date_without_timezone_is_a_clear_422(client: httpx.Client, admin: dict[str, str]) -> None:
    naive = launch(regions=[region({"internal": "2027-01-10T09:00:00", "ga": "2027-04-01T09:00:00+00:00"})])
    body = problem(client.post("/api/v1/launches", json=naive, headers=admin), 422)
    assert any(field.startswith("regions.0.dates") for field in fields(body)), body
    assert "timezone" in body["detail"].lower(), body


def test_a_phase_with_neither_a_date_nor_a_skip_is_a_422_naming_the_region_the_phase_and_the_skip(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    dates = {"internal": "2027-01-10T09:00:00+00:00", "ga": "2027-04-01T09:00:00+00:00"}
    silent = launch(regions=[{"region": "EU", "dates": dates, "skip": ["private_beta"]}])
    body = problem(client.post("/api/v1/launches", json=silent, headers=admin), 422)
    assert fields(body) == ["regions.0.skip"], body
    assert "region EU: public_beta has no date" in body["detail"], body
    assert '"skip": ["public_beta"]' in body["detail"], body
    everything = ["internal", "private_beta", "public_beta", "ga"]
    nothing = launch(regions=[{"region": "EU", "dates": {}, "skip": everything}])
    body = problem(client.post("/api/v1/launches", json=nothing, headers=admin), 422)
    assert "region EU has no phase date; give at least one phase a date" in body["detail"], body
    assert client.get("/api/v1/launches/acme-api", headers=admin).status_code == 404


def test_the_phases_a_region_skips_are_kept_and_read_back(client: httpx.Client, admin: dict[str, str]) -> None:
    created = client.post("/api/v1/launches", json=LAUNCH, headers=admin)
    assert created.status_code == 201, created.text
    (rollout,) = client.get("/api/v1/launches/acme-api", headers=admin).json()["rollouts"]
    assert rollout["skipped_phases"] == ["private_beta", "public_beta"]
    assert [phase["phase"] for phase in rollout["phases"]] == ["internal", "ga"]


def test_launch_bodies_the_domain_refuses_are_422s_not_500s(client: httpx.Client, admin: dict[str, str]) -> None:
    eu = LAUNCH["regions"][0]
    refused = {
        "dates out of order": launch(
            regions=[region({"internal": "2027-04-01T09:00:00+00:00", "ga": "2027-01-10T09:00:00+00:00"})]
        ),
        "a region twice": launch(regions=[eu, eu]),
        "a phase both dated and skipped": launch(regions=[{**eu, "skip": ["private_beta", "public_beta", "ga"]}]),
        "a ramp plan with an unknown phase": launch(ramp_plan={"someday": [{"nonsense": 1}]}),
    }
    failures = []
    for what, payload in refused.items():
        answer = client.post("/api/v1/launches", json=payload, headers=admin)
        if answer.status_code != 422 or problem_shape_errors(answer):
            failures.append(f"{what}: expected a 422 problem, got {answer.status_code}: {answer.text[:300]}")
    assert not failures, "\n".join(failures)


@pytest.mark.one_database(reason="input validation (tests/ONE_DATABASE.md)")
def test_a_naive_reschedule_date_names_the_date_field(
    client: httpx.Client, admin: dict[str, str], tokens: dict[str, str], engine: Engine
) -> None:
    create_kicked_off_launch(client, tokens["prodops"], engine, spare_token_id=0)
    answer = client.post(
        "/api/v1/launches/acme-api/regions/EU/reschedule",
        json={"phase": "ga", "date": "2027-05-01T09:00:00", "reason": "supplier late"},
        headers=admin,
    )
    body = problem(answer, 422)
    assert "timezone" in body["detail"].lower(), body
    assert fields(body) == ["date"], body


@before_any_query
def test_a_malformed_json_body_is_a_422_naming_the_body(client: httpx.Client, admin: dict[str, str]) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    failures = []
    for raw in (b'{"slug":', b"not json", b'{"slug": "a",}', b"8\xff?", b"\x01\xff\x12"):
        answer = client.post("/api/v1/launches", content=raw, headers=headers)
        if answer.status_code != 422 or problem_shape_errors(answer):
            failures.append(f"{raw!r}: expected a 422 problem, got {answer.status_code}: {answer.text[:200]}")
        elif "body" not in fields(answer.json()) or "body" not in answer.json()["detail"]:
            failures.append(f"{raw!r}: the 422 does not name 'body': {answer.text[:300]}")
    assert not failures, "\n".join(failures)


@before_any_query
def test_malformed_json_is_refused_before_anything_runs(client: httpx.Client, admin: dict[str, str]) -> None:
    """The part of the malformed-body contract that holds today: a 422 problem, and nothing created."""
    answer = client.post(
        "/api/v1/launches", content=b'{"slug": "acme-api",', headers={**admin, "Content-Type": "application/json"}
    )
    body = problem(answer, 422)
    assert "JSON" in body["detail"], body
    assert client.get("/api/v1/launches/acme-api", headers=admin).status_code == 404


def test_unknown_things_are_404_problems(
    client: httpx.Client, admin: dict[str, str], tokens: dict[str, str], engine: Engine
) -> None:
    problem(client.get("/api/v1/launches/no-such-launch", headers=admin), 404)
    problem(client.post("/api/v1/launches/no-such-launch/kickoff", headers=admin), 404)
    problem(client.post("/api/v1/launches/no-such-launch/regions/EU/halt", json={"reason": "x"}, headers=admin), 404)
    problem(client.get("/api/v1/no-such-collection", headers=admin), 404)
    problem(client.get("/api/v2/launches", headers=admin), 404)
    create_kicked_off_launch(client, tokens["prodops"], engine, spare_token_id=0)
    body = problem(client.post("/api/v1/launches/acme-api/regions/MARS/halt", json={"reason": "x"}, headers=admin), 404)
    assert "EU" in body["detail"], "the 404 should name the launch's regions"
    problem(client.delete("/api/v1/launches", headers=admin), 405)


def test_odd_path_parameters_on_every_read_route_are_4xx_problems(
    client: httpx.Client, admin: dict[str, str], tokens: dict[str, str], engine: Engine
) -> None:
    """Each GET route (found at run time) with each path parameter in turn replaced by a huge
    number, a negative one, text, or text with a NUL (which PostgreSQL cannot compare): a 404 or
    422 problem, never a 500."""
    fixtures = create_kicked_off_launch(client, tokens["prodops"], engine, spare_token_id=0)
    failures = []
    checked = 0
    for operation in api_operations(create_app(engine=engine)):
        if operation.method != "GET" or not operation.path_parameters:
            continue
        for name in operation.path_parameters:
            for odd in (str(HUGE), "-1", "0", "%20", "x" * 300, "EU%00"):
                checked += 1
                path = operation.path
                for other in operation.path_parameters:
                    path = path.replace("{" + other + "}", odd if other == name else fixtures.value_for(other))
                answer = send(client, "GET", path, headers=admin)
                where = f"{operation.label} with {name}={odd[:20]}"
                if answer.status_code not in (404, 422):
                    failures.append(f"{where}: expected 404 or 422, got {answer.status_code}: {answer.text[:200]}")
                else:
                    failures.extend(f"{where}: {wrong}" for wrong in problem_shape_errors(answer))
    assert checked, "no GET route with path parameters was found"
    assert not failures, "\n".join(failures)


def test_listing_launches_pages_and_filters(
    request: pytest.FixtureRequest, client: httpx.Client, admin: dict[str, str], engine: Engine
) -> None:
    for slug in ("list-one", "list-two"):
        assert client.post("/api/v1/launches", json=launch(slug=slug), headers=admin).status_code == 201
    page = client.get("/api/v1/launches?limit=1&offset=1&status=draft", headers=admin)
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["count"], body["limit"], body["offset"], len(body["data"])) == (2, 1, 1, 1)
    assert body["data"][0]["items_total"] > 0


@before_any_query
def test_idempotency_key_over_200_characters_is_refused(
    client: httpx.Client, admin: dict[str, str], engine: Engine
) -> None:
    body = problem(client.post("/api/v1/launches", json=LAUNCH, headers={**admin, "Idempotency-Key": "k" * 201}), 422)
    assert "200" in body["detail"], body
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Launch)).one() == 0
    answer = client.post("/api/v1/launches", json=LAUNCH, headers={**admin, "Idempotency-Key": "k" * 200})
    assert answer.status_code == 201, answer.text


def _race(api_server: str, headers: dict[str, str], payload: dict[str, Any]) -> list[httpx.Response | BaseException]:
    """The same POST from two threads, released together by a barrier once both are connected."""
    barrier = threading.Barrier(2)
    answers: list[httpx.Response | BaseException] = []
    lock = threading.Lock()

    def post() -> None:
        with httpx.Client(base_url=api_server, timeout=60) as own:
            own.get("/healthz")  # connect first, so the barrier releases two ready requests
            barrier.wait(timeout=30)
            answer: httpx.Response | BaseException
            try:
                answer = own.post("/api/v1/launches", json=payload, headers=headers)
            except httpx.HTTPError as exc:
                answer = exc
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_concurrent_duplicates_with_one_idempotency_key_run_once(
    api_server: str, admin: dict[str, str], engine: Engine
) -> None:
    failures = []
    for attempt in range(3):
        slug = f"race-{attempt}"
        answers = _race(api_server, {**admin, "Idempotency-Key": f"race-key-{attempt}"}, launch(slug=slug))
        assert len(answers) == 2, f"attempt {attempt}: a request did not finish: {answers}"
        responses = [answer for answer in answers if isinstance(answer, httpx.Response)]
        if len(responses) != 2:
            failures.append(f"attempt {attempt}: transport error {answers}")
            continue
        first = [r for r in responses if r.status_code == 201 and r.headers.get("idempotent-replayed") != "true"]
        others = [r for r in responses if r not in first]
        if len(first) != 1:
            failures.append(
                f"attempt {attempt}: expected one fresh 201, got {[(r.status_code, r.text[:200]) for r in responses]}"
            )
            continue
        other = others[0]
        if other.status_code == 201:
            if other.headers.get("idempotent-replayed") != "true" or other.json() != first[0].json():
                failures.append(f"attempt {attempt}: the second 201 is not a replay of the first: {other.text[:200]}")
        elif other.status_code == 409:
            wrong = problem_shape_errors(other)
            if wrong or "still running" not in other.json()["detail"]:
                failures.append(
                    f"attempt {attempt}: the 409 is not the 'still running' problem: {wrong} {other.text[:200]}"
                )
        else:
            failures.append(f"attempt {attempt}: the duplicate got {other.status_code}: {other.text[:300]}")
        with Session(engine) as session:
            rows = session.exec(select(func.count()).select_from(Launch).where(Launch.slug == slug)).one()
        if rows != 1:
            failures.append(f"attempt {attempt}: {rows} launch rows for {slug}")
    assert not failures, "\n".join(failures)
