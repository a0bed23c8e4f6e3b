"""What the API accepts fits both databases: text within its column's length (SQLite stores an
over-long string, PostgreSQL refuses it) and without the characters PostgreSQL text cannot hold
(NUL, and lone surrogates no driver encodes), refused as a 422 naming the field, wherever it comes:
path, query or body. Run on both backends, so they cannot disagree again. And numbers and dates
come as JSON numbers and ISO text, not read from whatever resembles them."""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from orchestrator.core.models import AuditEvent, Member, RegionRollout, text_limit
from tests.support.api import LAUNCH, PROBLEM_JSON, auth, create_kicked_off_launch
from tests.support.db import before_any_query


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


def refused_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, f"expected 422, got {response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    return [error["field"] for error in response.json()["errors"]]


def test_a_halt_reason_longer_than_the_column_keeping_it_is_a_422_and_one_that_fits_is_kept(
    client: httpx.Client, admin: dict[str, str], tokens: dict[str, str], engine: Engine
) -> None:
    """The halt reason is kept as the region's halt_reason (500) and audited (1000): the shorter
    column is the limit, as the OpenAPI document says."""
    limit = text_limit(RegionRollout.halt_reason, AuditEvent.reason)
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ReasonIn"]
    assert schema["properties"]["reason"]["maxLength"] == limit
    create_kicked_off_launch(client, tokens["prodops"], engine, spare_token_id=0)
    halt = "/api/v1/launches/acme-api/regions/EU/halt"
    assert refused_fields(client.post(halt, json={"reason": "x" * (limit + 1)}, headers=admin)) == ["reason"]
    kept = client.post(halt, json={"reason": "x" * limit}, headers=admin)
    assert kept.status_code == 200, kept.text
    assert kept.json()["rollouts"][0]["halt_reason"] == "x" * limit


def test_a_slack_user_id_longer_than_its_column_is_a_422(client: httpx.Client, admin: dict[str, str]) -> None:
    member = {"email": "sam@example.com", "name": "Sam", "slack_user_id": "U" + "A" * text_limit(Member.slack_user_id)}
    assert refused_fields(client.post("/api/v1/members", json=member, headers=admin)) == ["slack_user_id"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/v1/launches/acme%00api", None, "slug"),
        ("POST", "/api/v1/launches/acme-api/regions/E%00U/halt", {"reason": "x"}, "region"),
        ("GET", "/api/v1/launches?status=draft&note=a%00b", None, "note"),
        ("POST", "/api/v1/launches", {"slug": "nul-name", "name": "a\x00b"}, "name"),
        ("POST", "/api/v1/launches", {"slug": "lone-surrogate", "flags": ["ok", "a\ud800b"]}, "flags.1"),
        ("POST", "/api/v1/launches", {"ramp_plan": {"g\x00a": []}}, "ramp_plan.g\x00a"),
    ],
)
def test_nul_and_lone_surrogates_are_a_422_naming_the_field_wherever_they_come(
    client: httpx.Client, admin: dict[str, str], method: str, path: str, body: dict[str, Any] | None, field: str
) -> None:
    sent = None if body is None else json.dumps(body)  # escaped as JSON sends them: "\u0000", "\ud800"
    answer = client.request(method, path, content=sent, headers={**admin, "Content-Type": "application/json"})
    assert field in refused_fields(answer)
    assert "NUL" in answer.json()["detail"]


@before_any_query
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tier": "1"}, "tier"),
        ({"tier": True}, "tier"),
        ({"regions": [{"region": "EU", "dates": {"ga": 1800000000}}]}, "regions.0.dates.ga"),
        (
            {"beta_exit_criteria": {"private_beta": {"active_accounts": "20"}}},
            "beta_exit_criteria.private_beta.active_accounts",
        ),
    ],
)
def test_numbers_in_strings_and_dates_as_numbers_are_422s_not_guesses(
    client: httpx.Client, admin: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    """A person sending "1" for a tier, or seconds since 1970 for a date, made a mistake that a
    lax reading would turn into a launch they did not mean."""
    answer = client.post("/api/v1/launches", json={**LAUNCH, **changes}, headers=admin)
    assert field in refused_fields(answer)
    assert client.post("/api/v1/launches", json=LAUNCH, headers=admin).status_code == 201  # JSON ints and ISO dates
