"""GET /launches/{slug}/blockers and the items listing's open filter, over real HTTP on SQLite and
PostgreSQL; the launch's GA date is sent as a plain date, which means 00:00 in the region's timezone
(Europe/Berlin for EU), as in every door."""

from datetime import UTC, date, datetime, timedelta

from orchestrator.core.clock import day_start
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

    start = day_start(date.fromisoformat(GA_DAY), timezone="Europe/Berlin")  # 00:00 in Berlin, as UTC
    midnight, said = start.isoformat().replace("+00:00", "Z"), f"{start:%Y-%m-%d %H:%M} UTC"
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
    assert found["next_step"] == (f"at {said}, when the time gate opens, if every other condition is met by then")
    assert "Waiting for a vote from prodops@example.com." in found["reasons"]
    assert f"The phase date is {said}, not reached yet." in found["reasons"]

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
