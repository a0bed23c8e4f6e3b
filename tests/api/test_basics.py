"""The API over real HTTP: health, auth, launches and region actions, problem+json, idempotency."""

import httpx
import pytest

from tests.support.api import LAUNCH, auth
from tests.support.db import before_any_query


def test_health_and_readiness(api_server):
    assert httpx.get(f"{api_server}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{api_server}/readyz").json() == {"status": "ready"}


@before_any_query
def test_no_token_is_a_401_problem(api_server, tokens):
    answer = httpx.get(f"{api_server}/api/v1/launches")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "launchdeck tokens create" in answer.json()["detail"]


def test_create_read_and_halt_a_launch(api_server, tokens):
    created = httpx.post(f"{api_server}/api/v1/launches", json=LAUNCH, headers=auth(tokens["prodops"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["template_version"].startswith("2026.11#")
    assert body["rollouts"][0]["items_total"] > 0
    read = httpx.get(f"{api_server}/api/v1/launches/acme-api", headers=auth(tokens["leadership"]))
    assert read.json()["slug"] == "acme-api"
    assert (
        httpx.post(f"{api_server}/api/v1/launches/acme-api/kickoff", headers=auth(tokens["prodops"])).status_code == 200
    )
    version = httpx.get(f"{api_server}/api/v1/launches/acme-api", headers=auth(tokens["prodops"])).json()["rollouts"][
        0
    ]["version"]
    stale = httpx.post(
        f"{api_server}/api/v1/launches/acme-api/regions/EU/halt",
        json={"reason": "incident"},
        headers={**auth(tokens["prodops"]), "If-Match": f'"{version - 1}"'},
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == version
    halted = httpx.post(
        f"{api_server}/api/v1/launches/acme-api/regions/EU/halt",
        json={"reason": "incident"},
        headers={**auth(tokens["prodops"]), "If-Match": f'"{version}"'},
    )
    assert halted.status_code == 200
    assert halted.json()["rollouts"][0]["state"] == "halted"


@pytest.mark.one_database(reason="role check over HTTP (tests/ONE_DATABASE.md)")
def test_leadership_may_read_but_not_change(api_server, tokens):
    answer = httpx.post(f"{api_server}/api/v1/launches", json=LAUNCH, headers=auth(tokens["leadership"]))
    assert answer.status_code == 403
    assert "allowed roles: admin, prodops" in answer.json()["detail"]


def test_a_retried_post_with_an_idempotency_key_returns_the_first_answer(api_server, tokens, seeded):
    headers = {**auth(tokens["prodops"]), "Idempotency-Key": "create-acme-1"}
    first = httpx.post(f"{api_server}/api/v1/launches", json=LAUNCH, headers=headers)
    again = httpx.post(f"{api_server}/api/v1/launches", json=LAUNCH, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = httpx.post(f"{api_server}/api/v1/launches", json={**LAUNCH, "slug": "other"}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]


def test_illegal_transition_is_a_409_naming_what_is_allowed(api_server, tokens):
    httpx.post(f"{api_server}/api/v1/launches", json=LAUNCH, headers=auth(tokens["prodops"]))
    answer = httpx.post(
        f"{api_server}/api/v1/launches/acme-api/regions/EU/resume", json={}, headers=auth(tokens["prodops"])
    )
    assert answer.status_code == 409
    assert answer.json()["current"] == "planned"
    assert "kick off" in answer.json()["allowed"]


@pytest.mark.one_database(reason="input validation (tests/ONE_DATABASE.md)")
def test_a_bad_slug_is_refused_with_the_rule_in_words_and_the_pattern_intact(api_server, tokens):
    answer = httpx.post(
        f"{api_server}/api/v1/launches", json={**LAUNCH, "slug": "Bad Slug"}, headers=auth(tokens["prodops"])
    )
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == "slug"
    assert error["message"] == (
        "'Bad Slug' is not a valid slug: use 3 to 80 lowercase letters, digits and dashes, starting and ending "
        "with a letter or a digit (e.g. acme-assistant; pattern ^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$)"
    )


def test_halting_or_resuming_twice_is_a_409_saying_what_stands_and_keeping_the_first_reason(api_server, tokens):
    headers = auth(tokens["prodops"])
    region = f"{api_server}/api/v1/launches/acme-api/regions/EU"
    httpx.post(f"{api_server}/api/v1/launches", json=LAUNCH, headers=headers)
    httpx.post(f"{api_server}/api/v1/launches/acme-api/kickoff", headers=headers)
    assert httpx.post(f"{region}/halt", json={"reason": "incident 42"}, headers=headers).status_code == 200

    again = httpx.post(f"{region}/halt", json={"reason": "another reason"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["detail"].startswith(
        "acme-api EU is already halted (reason: 'incident 42'): this halt changed nothing and was not recorded"
    )
    shown = httpx.get(f"{api_server}/api/v1/launches/acme-api", headers=headers).json()
    assert shown["rollouts"][0]["halt_reason"] == "incident 42"

    assert httpx.post(f"{region}/resume", json={}, headers=headers).status_code == 200
    resumed_again = httpx.post(f"{region}/resume", json={}, headers=headers)
    assert resumed_again.status_code == 409
    assert resumed_again.json()["detail"].startswith("acme-api EU is already running (gated): nothing to resume")


@pytest.mark.one_database(reason="input validation (tests/ONE_DATABASE.md)")
def test_an_owner_that_is_not_an_email_is_refused_naming_the_field(api_server, tokens):
    answer = httpx.post(
        f"{api_server}/api/v1/launches", json={**LAUNCH, "owner": "not-an-email"}, headers=auth(tokens["prodops"])
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": "owner",
            "message": "'not-an-email' is not an email address; give the owner's email, e.g. pat@example.com",
        }
    ]
    assert httpx.get(f"{api_server}/api/v1/launches", headers=auth(tokens["prodops"])).json()["data"] == []
