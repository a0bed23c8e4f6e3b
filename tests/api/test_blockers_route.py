"""GET /launches/{slug}/blockers and the items listing's open filter, over real HTTP on SQLite and
PostgreSQL; the launch's GA date is sent as a plain date, which means 00:00 UTC as in the CLI."""

from datetime import UTC, datetime, timedelta

import pytest

from api.schemas.items import WaiveIn
from cli.dates import parse_date
from orchestrator.core.clock import parse_moment, plain_date_start
from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.launches.spec import RegionPlan
from tests.api.test_routes import Api, field_errors

GA_DAY = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


def test_blockers_of_a_region_and_the_open_filter(api_server, tokens):
    api = Api(api_server, tokens)
    try:
        _check(api)
    finally:
        api.http.close()


def _check(api):
    launch = api.launch("acme-blk", {"EU": {"ga": GA_DAY}})  # GA only: EU waits at GA's gates
    gates = {gate["kind"]: gate for gate in launch["rollouts"][0]["gates"]}
    api.post(f"/gates/{gates['approval']['id']}/votes", {"vote": "go"}, role="approver")
    query = {"region": "EU", "phase": "ga"}

    found = api.get("/launches/acme-blk/blockers", role="leadership", params=query)

    midnight = f"{GA_DAY}T00:00:00Z"
    assert (found["slug"], found["region"], found["phase"], found["state"], found["current_phase"]) == (
        "acme-blk", "EU", "ga", "gated", "ga",
    )  # fmt: skip
    assert (found["halted"], found["halt_reason"], found["reached"], found["beta_exit"]) == (False, None, False, None)
    assert found["time"] == {"status": "open", "phase_at": midnight, "opens_at": midnight, "reached": False}
    assert found["wave"] == {"mode": "parallel", "waiting_for": []}
    approval = found["approval"]
    assert [(vote["voter"], vote["vote"], vote["counts"]) for vote in approval["votes"]] == [
        ("approver@example.com", "go", True)
    ]
    assert (approval["needed"], approval["gos"], approval["missing"], approval["holds"]) == (
        2, ["approver@example.com"], ["prodops@example.com"], False,
    )  # fmt: skip
    assert found["next_step_at"] == midnight
    assert found["next_step"] == (
        f"at {GA_DAY} 00:00 UTC, when the time gate opens, if every other condition is met by then"
    )
    assert "Waiting for a vote from prodops@example.com." in found["reasons"]
    assert f"The phase date is {GA_DAY} 00:00 UTC, not reached yet." in found["reasons"]

    # The open filter lists exactly the read model's items (blocking ones), and a check-off moves one.
    items = found["items"]
    assert items
    assert all(item["days_late"] == 0 for item in items if not item["overdue"])
    assert all(item["owner_team"] and item["due_at"] for item in items)
    still = api.items("acme-blk", open="true", blocking="true", **query)
    assert sorted(item["key"] for item in still["data"]) == sorted(item["key"] for item in items)
    assert {item["status"] for item in still["data"]} <= {"todo", "in_progress", "blocked"}
    total = api.items("acme-blk")["count"]
    assert api.items("acme-blk", open="true")["count"] + api.items("acme-blk", open="false")["count"] == total
    free = next(item for item in items if not item["depends_on"])
    api.post(f"/items/{free['id']}/check", {"evidence_url": "https://wiki.example.com/done"})
    assert [item["id"] for item in api.items("acme-blk", open="false")["data"]] == [free["id"]]
    after = api.get("/launches/acme-blk/blockers", params=query)
    assert free["key"] not in [item["key"] for item in after["items"]]
    assert "open" in field_errors(api.get("/launches/acme-blk/items", params={"open": "maybe"}, expect=422))

    # Unknown region: 404 naming the launch's regions; unknown or skipped phase, bad region: 422.
    missing = api.get("/launches/acme-blk/blockers", params={**query, "region": "NA"}, expect=404)
    assert "its regions: EU" in missing["detail"]
    assert "acme-nope" in api.get("/launches/acme-nope/blockers", params=query, expect=404)["detail"]
    assert "phase" in field_errors(
        api.get("/launches/acme-blk/blockers", params={**query, "phase": "beta"}, expect=422)
    )
    assert "region" in field_errors(
        api.get("/launches/acme-blk/blockers", params={**query, "region": "eu"}, expect=422)
    )
    skipped = api.get("/launches/acme-blk/blockers", params={**query, "phase": "internal"}, expect=422)
    assert "EU skips internal; its phases: ga" in skipped["detail"]
    api.get("/launches/acme-blk/blockers", params={"region": "EU"}, expect=422)


def test_a_plain_date_means_midnight_utc_in_every_door():
    midnight = datetime(2027, 4, 1, tzinfo=UTC)
    assert plain_date_start("2027-04-01") == midnight
    assert plain_date_start("2027-04-01T09:00:00+02:00") is None
    assert parse_date("--ga", "2027-04-01") == midnight
    assert parse_moment("2027-04-01T09:00:00", field="--date") == datetime(2027, 4, 1, 9, tzinfo=UTC)
    assert WaiveIn.model_validate({"reason": "r", "expires_at": "2027-04-01"}).expires_at == midnight
    plan = RegionPlan.model_validate(
        {"region": "EU", "dates": {"ga": "2027-04-01"}, "skip": ["internal", "private_beta", "public_beta"]}
    )
    assert plan.dates == {Phase.GA: midnight}
    with pytest.raises(InvalidInput, match="'2027-02-31' is not a date"):
        parse_date("--ga", "2027-02-31")
    with pytest.raises(ValueError, match="'2027-02-31' is not a calendar date"):
        WaiveIn.model_validate({"reason": "r", "expires_at": "2027-02-31"})
