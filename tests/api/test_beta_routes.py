"""Beta routes over real HTTP: cohorts, enrollment by role, feedback with merge and ranking, and
exit criteria with value and threshold on the launch's gates."""

from typing import Any

import httpx

from tests.support.api import LAUNCH, auth, problem_shape_errors

BETA_LAUNCH: dict[str, Any] = {
    **LAUNCH,
    "slug": "acme-beta",
    "regions": [
        {
            "region": "EU",
            "dates": {
                "private_beta": "2027-01-10T09:00:00+00:00",
                "public_beta": "2027-02-10T09:00:00+00:00",
                "ga": "2027-04-01T09:00:00+00:00",
            },
            "skip": ["internal"],
        }
    ],
    "beta_exit_criteria": {"private_beta": {"open_severity_1": 0, "active_accounts": 2}},
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text[:500]
    return response.json()


def refused(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert not problem_shape_errors(response)
    body: dict[str, Any] = response.json()
    return body


def test_a_beta_program_end_to_end_over_http(client: httpx.Client, tokens: dict[str, str]) -> None:
    prodops, member, leadership = auth(tokens["prodops"]), auth(tokens["member"]), auth(tokens["leadership"])
    ok(client.post("/api/v1/launches", json=BETA_LAUNCH, headers=prodops), 201)
    detail = ok(client.get("/api/v1/launches/acme-beta", headers=leadership))
    (exit_gate,) = [g for g in detail["rollouts"][0]["gates"] if g["kind"] == "beta_exit"]
    assert exit_gate["phase"] == "public_beta"
    assert {(c["metric"], c["value"], c["comparator"], c["threshold"], c["met"]) for c in exit_gate["criteria"]} == {
        ("open_severity_1", 0, "<=", 0, True),
        ("active_accounts", 0, ">=", 2, False),
    }

    cohort = ok(
        client.post(
            "/api/v1/launches/acme-beta/beta/cohorts",
            json={"region": "EU", "phase": "private_beta", "cap": 1, "plans": ["enterprise"]},
            headers=prodops,
        ),
        201,
    )
    refused(
        client.post(
            "/api/v1/launches/acme-beta/beta/cohorts",
            json={"region": "EU", "phase": "private_beta", "cap": 1},
            headers=member,
        ),
        403,
    )
    enrollments = f"/api/v1/beta/cohorts/{cohort['id']}/enrollments"

    body = refused(
        client.post(enrollments, json={"account": "acme", "via": "invite", "plan": "enterprise"}, headers=member), 403
    )
    assert "nominate" in body["detail"]
    first = ok(
        client.post(
            enrollments,
            json={
                "account": "acme",
                "via": "nomination",
                "plan": "enterprise",
                "terms_accepted_by": "cto@acme.example",
            },
            headers=member,
        ),
        201,
    )
    assert first["status"] == "enrolled"
    body = refused(
        client.post(enrollments, json={"account": "globex", "via": "self", "plan": "free"}, headers=member), 422
    )
    assert "plan" in body["detail"]
    second = ok(
        client.post(enrollments, json={"account": "globex", "via": "invite", "plan": "enterprise"}, headers=prodops),
        201,
    )
    assert second["status"] == "waitlisted"

    out = ok(client.post(f"/api/v1/beta/cohorts/{cohort['id']}/opt-out", json={"account": "acme"}, headers=member))
    assert out["status"] == "opted_out"
    listed = ok(client.get(enrollments, headers=leadership))
    assert [(row["account"], row["status"]) for row in listed] == [("globex", "enrolled"), ("acme", "opted_out")]
    body = refused(
        client.post(enrollments, json={"account": "acme", "via": "invite", "plan": "enterprise"}, headers=prodops), 409
    )
    assert "opted out" in body["detail"]
    ok(
        client.post(
            f"/api/v1/beta/enrollments/{second['id']}/terms", json={"accepted_by": "it@globex.example"}, headers=member
        )
    )
    (view,) = ok(client.get("/api/v1/launches/acme-beta/beta/cohorts", headers=leadership))
    assert (view["enrolled"], view["waitlisted"], view["opted_out"], view["active"]) == (1, 0, 1, 1)

    feedback = "/api/v1/launches/acme-beta/beta/feedback"
    report = {
        "region": "EU",
        "phase": "private_beta",
        "account": "globex",
        "type": "bug",
        "severity": 2,
        "text": "Export times out",
    }
    one = ok(client.post(feedback, json=report, headers=member), 201)
    two = ok(
        client.post(
            feedback,
            json={**report, "account": "initech", "severity": 1, "link": "https://t.example/1"},
            headers=member,
        ),
        201,
    )
    ok(client.post(feedback, json={**report, "type": "praise", "severity": 4, "text": "Love it"}, headers=member), 201)
    merged = ok(client.post(f"/api/v1/beta/feedback/{two['id']}/merge", json={"into": one["id"]}, headers=prodops))
    assert (merged["reports"], merged["accounts"], merged["severity"]) == (2, ["globex", "initech"], 1)

    ranked = ok(client.get("/api/v1/launches/acme-beta/beta/feedback/ranked?region=EU", headers=leadership))
    assert (ranked[0]["rank"], ranked[0]["feedback_id"]) == (1, one["id"])
    assert len(ranked) == 2
    assert ranked[0]["score"] > ranked[1]["score"]

    gates = ok(client.get("/api/v1/launches/acme-beta", headers=leadership))["rollouts"][0]["gates"]
    (exit_gate,) = [g for g in gates if g["kind"] == "beta_exit"]
    assert {(c["metric"], c["value"], c["met"]) for c in exit_gate["criteria"]} == {
        ("open_severity_1", 1, False),
        ("active_accounts", 1, False),
    }
    ok(client.post(f"/api/v1/beta/feedback/{one['id']}/resolve", json={}, headers=member))
    assert ok(client.get("/api/v1/launches/acme-beta/beta/feedback/ranked", headers=leadership))[0]["type"] == "praise"


def test_bad_beta_input_names_the_field(client: httpx.Client, tokens: dict[str, str]) -> None:
    prodops = auth(tokens["prodops"])
    ok(client.post("/api/v1/launches", json=BETA_LAUNCH, headers=prodops), 201)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/api/v1/launches/acme-beta/beta/cohorts", {"region": "EU", "phase": "private_beta", "cap": 0}, "cap"),
        ("/api/v1/launches/acme-beta/beta/cohorts", {"region": "EU", "phase": "ga", "cap": 3}, "phase"),
        (
            "/api/v1/launches/acme-beta/beta/feedback",
            {"region": "EU", "phase": "private_beta", "account": "a", "type": "rant", "severity": 2, "text": "x"},
            "type",
        ),
        (
            "/api/v1/launches/acme-beta/beta/feedback",
            {"region": "EU", "phase": "private_beta", "account": "a", "type": "bug", "severity": 9, "text": "x"},
            "severity",
        ),
        (
            "/api/v1/launches/acme-beta/beta/feedback",
            {
                "region": "EU",
                "phase": "private_beta",
                "account": "a",
                "type": "bug",
                "severity": 2,
                "text": "x",
                "link": "nope",
            },
            "link",
        ),
    ]
    for path, body, field in cases:
        answer = refused(client.post(path, json=body, headers=prodops), 422)
        named = [str(error.get("field")) for error in answer.get("errors", [])] + [answer["detail"]]
        assert any(field in name for name in named), (path, body, answer)
    body = refused(
        client.post(
            "/api/v1/launches/acme-beta/beta/feedback",
            json={"region": "MARS", "phase": "private_beta", "account": "a", "type": "bug", "severity": 2, "text": "x"},
            headers=prodops,
        ),
        404,
    )
    assert "EU" in body["detail"]
    bad_criteria = {**BETA_LAUNCH, "slug": "bad-crit", "beta_exit_criteria": {"ga": {"open_severity_1": 0}}}
    refused(client.post("/api/v1/launches", json=bad_criteria, headers=prodops), 422)
    assert client.get("/api/v1/launches/bad-crit", headers=prodops).status_code == 404


def test_exit_criteria_can_be_set_and_cleared_on_a_running_launch(client: httpx.Client, tokens: dict[str, str]) -> None:
    prodops, member = auth(tokens["prodops"]), auth(tokens["member"])
    plain = {key: value for key, value in BETA_LAUNCH.items() if key != "beta_exit_criteria"}
    ok(client.post("/api/v1/launches", json=plain, headers=prodops), 201)
    path = "/api/v1/launches/acme-beta/beta/exit-criteria"
    body = {"phase": "private_beta", "criteria": {"fix_weeks": 2}}
    refused(client.put(path, json=body, headers=member), 403)
    detail = ok(client.put(path, json=body, headers=prodops))
    (gate,) = [g for g in detail["rollouts"][0]["gates"] if g["kind"] == "beta_exit"]
    assert (gate["phase"], gate["status"]) == ("public_beta", "pending")
    assert [(c["metric"], c["threshold"], c["comparator"]) for c in gate["criteria"]] == [("fix_weeks", 2, ">=")]
    answer = refused(client.put(path, json={"phase": "ga", "criteria": {}}, headers=prodops), 422)
    assert "beta phase" in answer["detail"]
    detail = ok(client.put(path, json={"phase": "private_beta", "criteria": {}}, headers=prodops))
    (gate,) = [g for g in detail["rollouts"][0]["gates"] if g["kind"] == "beta_exit"]
    assert gate["criteria"] == []
