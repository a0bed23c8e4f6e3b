"""Items, decisions, audit, rollup and directory routes over real HTTP, on SQLite and PostgreSQL.

Launches are built through the API itself (POST /launches, then kickoff), with phase dates
relative to now so "overdue" and "due soon" mean the same whenever the suite runs.
"""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.api import auth
from tests.support.factories import skips_for

NOW = datetime.now(UTC)
EVIDENCE = "https://wiki.example.com/launch/positioning"


def when(days):
    return (NOW + timedelta(days=days)).isoformat()


def launch_body(slug, regions, *, tier=2, approvers=("approver@example.com", "prodops@example.com")):
    return {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "tier": tier,
        "owner": "pat@example.com",
        "flags": ["personal_data"],
        "regions": [{"region": code, "dates": dates, "skip": skips_for(dates)} for code, dates in regions.items()],
        "approvers": list(approvers),
    }


class Api:
    """A thin client: one method per call the tests make, each asserting its expected status."""

    def __init__(self, base, tokens):
        self.http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
        self.tokens = tokens

    def call(self, method, path, role="prodops", expect=200, **kwargs):
        headers = {**auth(self.tokens[role]), **kwargs.pop("headers", {})}
        answer = self.http.request(method, path, headers=headers, **kwargs)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        if answer.status_code >= 400:
            assert answer.headers["content-type"].startswith("application/problem+json")
        return answer.json()

    def get(self, path, role="prodops", expect=200, **kwargs):
        return self.call("GET", path, role, expect, **kwargs)

    def post(self, path, body=None, role="prodops", expect=200, **kwargs):
        return self.call("POST", path, role, expect, json=body, **kwargs)

    def launch(self, slug, regions, *, kickoff=True, **options):
        self.post("/launches", launch_body(slug, regions, **options), expect=201)
        if kickoff:
            return self.post(f"/launches/{slug}/kickoff")
        return self.get(f"/launches/{slug}")

    def items(self, slug, **filters):
        return self.get(f"/launches/{slug}/items", params={"limit": 500, **filters})

    def item(self, slug, key, region="EU"):
        return next(item for item in self.items(slug)["data"] if item["key"] == key and item["region"] == region)

    def audit(self, slug, **filters):
        return self.get(f"/launches/{slug}/audit", params=filters)["data"]


@pytest.fixture
def api(api_server, tokens):
    client = Api(api_server, tokens)
    yield client
    client.http.close()


def field_errors(problem):
    return {error["field"] for error in problem["errors"]}


# ---- listing -----------------------------------------------------------------------------------


def test_listing_items_with_each_filter_and_pagination(api):
    api.launch("acme-api", {"EU": {"internal": when(-2), "ga": when(90)}, "NA": {"ga": when(120)}})
    everything = api.items("acme-api")
    items, total = everything["data"], everything["count"]
    assert total == len(items) > 50

    def keys(**filters):
        page = api.items("acme-api", **filters)
        assert page["count"] == len(page["data"])
        return page["data"]

    eu = keys(region="EU")
    assert eu
    assert {item["region"] for item in eu} == {"EU"}
    assert len(eu) < total
    assert {item["phase"] for item in keys(phase="ga")} == {"ga"}
    assert {item["owner_team"] for item in keys(team="marketing")} == {"marketing"}
    assert keys(team="nobody") == []
    advisory = keys(blocking="false")
    assert advisory
    assert not any(item["blocking"] for item in advisory)
    assert len(advisory) + len(keys(blocking="true")) == total

    overdue = keys(overdue="true")
    assert overdue
    assert all(item["overdue"] and item["due_at"] < NOW.isoformat() for item in overdue)
    assert {item["phase"] for item in overdue} == {"internal"}  # internal began two days ago
    assert len(overdue) + len(keys(overdue="false")) == total

    tier = api.item("acme-api", "int.tier_confirmed")
    assert tier["overdue"] is True
    checked = api.post(f"/items/{tier['id']}/check", {})
    assert checked["status"] == "done"
    assert checked["overdue"] is False
    assert [item["id"] for item in keys(status="done")] == [tier["id"]]
    assert tier["id"] not in [item["id"] for item in keys(overdue="true")]

    member = api.post(
        "/members", {"email": "mia@example.com", "name": "Mia", "team": "product"}, role="admin", expect=201
    )
    api.post(f"/items/{tier['id']}/assign", {"assignee_id": member["id"]})
    assert [item["id"] for item in keys(assignee_id=member["id"])] == [tier["id"]]
    combined = keys(region="EU", phase="internal", team="product", blocking="true")
    assert combined
    assert all(
        (item["region"], item["phase"], item["owner_team"], item["blocking"]) == ("EU", "internal", "product", True)
        for item in combined
    )

    pages = [api.get("/launches/acme-api/items", params={"limit": 20, "offset": offset}) for offset in (0, 20, 40)]
    assert all(page["count"] == total and page["limit"] == 20 for page in pages)
    paged = [item["id"] for page in pages for item in page["data"]]
    assert paged == [item["id"] for item in items[:60]]  # stable order, no overlap, no gap
    assert api.get("/launches/acme-api/items", params={"offset": total})["data"] == []

    assert api.get(f"/items/{tier['id']}", role="leadership")["key"] == "int.tier_confirmed"
    for params, field in (
        ({"status": "finished"}, "status"),
        ({"phase": "alpha"}, "phase"),
        ({"region": "eu; drop"}, "region"),
        ({"overdue": "maybe"}, "overdue"),
        ({"assignee_id": 2**40}, "assignee_id"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ):
        assert field in field_errors(api.get("/launches/acme-api/items", expect=422, params=params))
    assert "nope" in api.get("/launches/nope/items", expect=404)["detail"]
    api.get("/launches/NOT A SLUG/items", expect=404)
    assert "999999" in api.get("/items/999999", expect=404)["detail"]
    assert "item_id" in field_errors(api.get(f"/items/{2**63}", expect=422))


# ---- item changes ------------------------------------------------------------------------------


def test_each_item_change_writes_its_audit_event(api):
    api.launch("acme-api", {"EU": {"internal": when(30), "ga": when(90)}})
    item = api.item("acme-api", "int.tier_confirmed")
    path = f"/items/{item['id']}"

    def last_event(action):
        events = api.audit("acme-api", action=action)
        assert events, f"no {action} event"
        assert events[0]["entity"] == "item"
        assert events[0]["entity_id"] == item["id"]
        assert events[0]["actor"] == "token:prodops-bot"
        assert events[0]["source"] == "api"
        return events[0]

    started = api.post(f"{path}/start")
    assert started["status"] == "in_progress"
    assert started["version"] == item["version"] + 1
    assert last_event("item.started")["after"]["status"] == "in_progress"

    blocked = api.post(f"{path}/block", {"reason": "waiting for the pricing call"})
    assert (blocked["status"], blocked["blocked_reason"]) == ("blocked", "waiting for the pricing call")
    assert last_event("item.blocked")["reason"] == "waiting for the pricing call"

    stale = api.post(f"{path}/check", {}, expect=409, headers={"If-Match": f'"{item["version"]}"'})
    assert stale["current_version"] == blocked["version"]
    api.post(f"{path}/check", {"version": 1}, expect=422, headers={"If-Match": '"2"'})
    checked = api.post(f"{path}/check", {}, headers={"If-Match": f'W/"{blocked["version"]}"'})
    assert (checked["status"], checked["checked_by"]) == ("done", "token:prodops-bot")
    assert last_event("item.checked")["before"]["status"] == "blocked"
    assert api.post(f"{path}/check", {})["version"] == checked["version"]  # a retried check changes nothing
    assert len(api.audit("acme-api", action="item.checked")) == 1

    reopened = api.post(f"{path}/uncheck", {"reason": "tier is being revisited", "version": checked["version"]})
    assert reopened["status"] == "todo"
    assert reopened["checked_by"] is None
    assert last_event("item.reopened")["reason"] == "tier is being revisited"

    with_link = api.post(f"{path}/evidence", {"url": EVIDENCE})
    assert (with_link["status"], with_link["evidence_url"]) == ("todo", EVIDENCE)  # the status stays
    event = last_event("item.evidence_attached")
    assert (event["before"], event["after"]) == ({"evidence_url": None}, {"evidence_url": EVIDENCE})
    assert api.post(f"{path}/evidence", {"url": EVIDENCE})["version"] == with_link["version"]  # same link: no-op
    assert len(api.audit("acme-api", action="item.evidence_attached")) == 1

    member = api.post(
        "/members", {"email": "ana@example.com", "name": "Ana", "team": "product"}, role="admin", expect=201
    )
    assigned = api.post(f"{path}/assign", {"assignee_id": member["id"]})
    assert assigned["assignee_id"] == member["id"]
    assert last_event("item.assigned")["after"] == {"assignee_id": member["id"]}
    assert api.post(f"{path}/assign", {"assignee_id": None})["assignee_id"] is None
    assert "999999" in api.post(f"{path}/assign", {"assignee_id": 999999}, expect=404)["detail"]

    comment = api.post(f"{path}/comment", {"text": "Heads of product meet on Thursday."}, expect=201)
    assert (comment["action"], comment["reason"], comment["entity_id"]) == (
        "item.commented",
        "Heads of product meet on Thursday.",
        item["id"],
    )
    assert last_event("item.commented")["id"] == comment["id"]
    assert api.get(path)["version"] == assigned["version"] + 1  # a comment leaves the item's version alone

    waived = api.post(f"{path}/waive", {"reason": "tier agreed in the exec review", "expires_at": when(60)})
    assert waived["status"] == "waived"
    assert last_event("item.waived")["reason"] == "tier agreed in the exec review"

    other = api.item("acme-api", "int.launch_channel")
    skipped = api.post(f"/items/{other['id']}/not-applicable", {"reason": "the launch shares #launch-acme"})
    assert skipped["status"] == "n_a"
    assert api.audit("acme-api", action="item.not_applicable")[0]["entity_id"] == other["id"]

    newest_first = api.audit("acme-api", entity="item", limit=3)
    assert [event["action"] for event in newest_first] == ["item.not_applicable", "item.waived", "item.commented"]
    page_two = api.audit("acme-api", entity="item", limit=3, offset=3)
    assert page_two[0]["id"] < newest_first[-1]["id"]
    assert api.audit("acme-api", actor="token:member-bot") == []
    assert api.get("/launches/acme-api/audit", params={"action": "item.checked"})["count"] == 1
    api.get("/launches/nope/audit", expect=404)


def test_evidence_rule_and_team_ownership(api):
    api.launch("acme-api", {"EU": {"internal": when(30), "ga": when(90)}})
    positioning = api.item("acme-api", "ga.positioning_locked")  # marketing's, needs evidence
    assert positioning["owner_team"] == "marketing"
    assert positioning["evidence_required"]

    refused = api.post(f"/items/{positioning['id']}/check", {}, role="member", expect=409)
    assert "evidence" in refused["detail"]
    assert api.get(f"/items/{positioning['id']}")["status"] == "todo"
    api.post(f"/items/{positioning['id']}/evidence", {"url": EVIDENCE}, role="member")
    done = api.post(f"/items/{positioning['id']}/check", {}, role="member")
    assert (done["status"], done["evidence_url"], done["checked_by"]) == ("done", EVIDENCE, "token:member-bot")

    product_item = api.item("acme-api", "int.tier_confirmed")
    events_before = api.get("/launches/acme-api/audit")["count"]
    for action, body in (
        ("check", {}),
        ("start", None),
        ("block", {"reason": "x"}),
        ("evidence", {"url": EVIDENCE}),
        ("assign", {"assignee_id": None}),
        ("comment", {"text": "mine now"}),
    ):
        forbidden = api.post(f"/items/{product_item['id']}/{action}", body, role="member", expect=403)
        assert "belongs to the product team" in forbidden["detail"]
    assert api.get(f"/items/{product_item['id']}") == product_item  # nothing changed
    assert api.get("/launches/acme-api/audit")["count"] == events_before

    assert (
        "allowed roles: admin, prodops"
        in api.post(f"/items/{positioning['id']}/waive", {"reason": "ours"}, role="member", expect=403)["detail"]
    )
    api.post(f"/items/{product_item['id']}/check", {}, role="leadership", expect=403)
    api.post(f"/items/{product_item['id']}/check", {}, role="approver", expect=403)


def test_bad_input_is_a_422_or_404_naming_what_is_wrong(api):
    api.launch("acme-api", {"EU": {"internal": when(30), "ga": when(90)}})
    item_id = api.item("acme-api", "int.tier_confirmed")["id"]
    path = f"/items/{item_id}"
    for action, body, field in (
        ("check", {"evidence_url": "ftp://files.example.com/x"}, "evidence_url"),
        ("check", {"evidence_url": "https://example.com/" + "x" * 2000}, "evidence_url"),
        ("check", {"unknown": 1}, "unknown"),
        ("check", {"version": 10**30}, "version"),
        ("check", {"version": 0}, "version"),
        ("uncheck", {"reason": "   "}, "reason"),
        ("block", {}, "reason"),
        ("block", {"reason": ""}, "reason"),
        ("not-applicable", {"reason": "a\x00b"}, "reason"),
        ("waive", {"reason": "ok", "expires_at": "2027-01-01T09:00:00"}, "expires_at"),
        ("waive", {"reason": "ok", "expires_at": "9999-12-31T23:59:00-05:00"}, "expires_at"),
        ("waive", {"reason": "ok", "expires_at": "next week"}, "expires_at"),
        ("assign", {}, "assignee_id"),
        ("assign", {"assignee_id": 2**40}, "assignee_id"),
        ("assign", {"assignee_id": "bob"}, "assignee_id"),
        ("evidence", {"url": ""}, "url"),
        ("comment", {"text": ""}, "text"),
        ("comment", {"text": "x" * 1001}, "text"),
    ):
        problem = api.post(f"{path}/{action}", body, expect=422)
        assert field in field_errors(problem), (action, body, problem)
    api.post(f"{path}/check", content=b"{not json", expect=422, headers={"content-type": "application/json"})
    api.post(f"{path}/start", {"version": "two"}, expect=422)
    api.post(f"{path}/check", {}, expect=422, headers={"If-Match": "yesterday"})
    for action, body in (
        ("check", {}),
        ("start", None),
        ("comment", {"text": "hello"}),
        ("evidence", {"url": EVIDENCE}),
    ):
        assert "999999" in api.post(f"/items/999999/{action}", body, expect=404)["detail"]
    assert api.get(path)["version"] == 1  # nothing above changed the item


# ---- decisions ---------------------------------------------------------------------------------


def test_a_vote_under_another_approvers_name_is_refused_and_nothing_is_written(api):
    launch = api.launch("forged", {"EU": {"ga": when(30)}})
    approval = {gate["kind"]: gate for gate in launch["rollouts"][0]["gates"]}["approval"]["id"]
    votes = f"/gates/{approval}/votes"

    for body in ({"vote": "go", "voter": "prodops@example.com"}, {"vote": "go", "on_behalf_of": "prodops@example.com"}):
        refused = api.post(votes, {**body, "on_behalf_reason": "I say so"}, role="approver", expect=403)
        assert "a vote counts for the person who casts it" in refused["detail"]

    assert api.get("/launches/forged/decisions")["votes"] == []
    assert api.audit("forged", action="decision.cast") == []
    own = api.post(votes, {"vote": "go", "voter": "approver@example.com"}, role="approver")
    assert (own["voter"], own["recorded_by"]) == ("approver@example.com", None)
    proxy = {"vote": "go", "on_behalf_of": "approver@example.com", "on_behalf_reason": "go/no-go meeting"}
    recorded = api.post(votes, proxy, role="prodops")
    assert (recorded["voter"], recorded["recorded_by"]) == ("approver@example.com", "prodops@example.com")


def test_votes_pass_an_approval_gate_and_the_decision_log_keeps_votes_and_waivers(api):
    launch = api.launch("beta-go", {"EU": {"ga": when(30)}})  # GA only: the region waits at GA's gates
    gates = {gate["kind"]: gate for gate in launch["rollouts"][0]["gates"]}
    approval, checklist = gates["approval"]["id"], gates["checklist"]["id"]
    votes = f"/gates/{approval}/votes"

    missing = api.post(votes, {"vote": "no_go"}, role="approver", expect=422)
    assert field_errors(missing) == {"reevaluate_at"}
    naive = api.post(votes, {"vote": "no_go", "reevaluate_at": "2027-01-01T00:00:00"}, role="approver", expect=422)
    assert "timezone offset" in naive["detail"]
    assert "vote" in field_errors(api.post(votes, {"vote": "maybe"}, role="approver", expect=422))
    assert "voter" in field_errors(api.post(votes, {"vote": "go", "voter": ""}, role="approver", expect=422))

    no_go = api.post(
        votes, {"vote": "no_go", "reevaluate_at": when(7), "comment": "support not staffed"}, role="approver"
    )
    assert (no_go["vote"], no_go["voter"], no_go["gate_status"]) == ("no_go", "approver@example.com", "open")
    assert (no_go["phase"], no_go["region"]) == ("ga", "EU")
    conditional = {"vote": "conditional_go", "conditions": "EU support rota in place"}
    assert "conditions" in field_errors(api.post(votes, conditional, expect=422))
    cond = api.post(votes, {**conditional, "risk_accepted_by": "vp-eng@example.com"})
    assert cond["gate_status"] == "open"  # the approver's No-Go still holds it
    go = api.post(votes, {"vote": "go", "comment": "rota confirmed"}, role="approver")
    # Every vote is Go now, but the approval gate is judged last: it waits for the checklist and the date.
    assert (go["id"], go["vote"], go["gate_status"]) == (no_go["id"], "go", "open")
    read = api.get("/launches/beta-go")["rollouts"][0]
    assert {gate["kind"]: gate["status"] for gate in read["gates"]}["approval"] == "open"

    assert "gate_id" in field_errors(api.post(f"/gates/{checklist}/votes", {"vote": "go"}, expect=422))
    assert "999999" in api.post("/gates/999999/votes", {"vote": "go"}, expect=404)["detail"]
    api.post(votes, {"vote": "go"}, role="member", expect=403)
    api.post(votes, {"vote": "go"}, role="leadership", expect=403)
    assert len(api.audit("beta-go", action="decision.cast")) == 3

    positioning = api.item("beta-go", "ga.positioning_locked")
    api.post(f"/items/{positioning['id']}/waive", {"reason": "positioning reused from v1", "expires_at": when(45)})
    log = api.get("/launches/beta-go/decisions", role="leadership")
    assert [(vote["voter"], vote["vote"]) for vote in log["votes"]] == [
        ("approver@example.com", "go"),
        ("prodops@example.com", "conditional_go"),
    ]
    assert log["votes"][1]["risk_accepted_by"] == "vp-eng@example.com"
    assert log["votes"][1]["conditions"] == "EU support rota in place"
    assert log["votes"][0]["reevaluate_at"] is None  # the Go replaced the No-Go and its date
    [waiver] = log["waivers"]
    assert (waiver["item_key"], waiver["region"], waiver["approver"], waiver["reason"]) == (
        "ga.positioning_locked",
        "EU",
        "token:prodops-bot",
        "positioning reused from v1",
    )
    assert waiver["revoked_at"] is None
    assert waiver["expires_at"] is not None
    api.post(f"/items/{positioning['id']}/uncheck", {"reason": "positioning changes after all"})
    assert api.get("/launches/beta-go/decisions")["waivers"][0]["revoked_at"] is not None
    api.get("/launches/nope/decisions", expect=404)


# ---- rollup ------------------------------------------------------------------------------------


def test_rollup_colours_launches_with_reasons_readiness_and_slips(api):
    api.launch("red-launch", {"EU": {"internal": when(-2), "ga": when(60)}})
    api.launch("amber-launch", {"EU": {"internal": when(100), "ga": when(200)}})
    api.post(
        "/launches/amber-launch/regions/EU/reschedule",
        {"phase": "internal", "date": when(110), "reason": "legal review moved"},
    )
    api.launch("green-launch", {"NA": {"internal": when(300)}})
    api.launch("draft-launch", {"EU": {"internal": when(30)}}, kickoff=False)
    product = api.items("red-launch", team="product", blocking="true")["data"]
    first = next(item for item in product if not item["depends_on"] and not item["evidence_required"])
    api.post(f"/items/{first['id']}/check", {})

    rollup = api.get("/rollup", role="leadership")
    launches = {launch["slug"]: launch for launch in rollup["launches"]}
    assert list(launches) == ["red-launch", "amber-launch", "green-launch"]  # red first; drafts are not active
    assert rollup["counts"] == {"red": 1, "amber": 1, "green": 1}

    red = launches["red-launch"]
    assert red["rag"] == "red"
    assert "EU:" in red["reason"]
    assert "overdue" in red["reason"]
    [region] = red["regions"]
    assert (region["region"], region["state"], region["phase"], region["percent"]) == ("EU", "gated", "internal", 0)
    assert region["overdue_blocking"] > 0
    assert region["open_blocking"] >= region["overdue_blocking"]
    items = api.items("red-launch")["data"]
    teams = {team["team"]: team for team in red["teams"]}
    assert sum(team["total"] for team in teams.values()) == len(items)
    assert sum(team["blocking_total"] for team in teams.values()) == sum(item["blocking"] for item in items)
    assert (teams["product"]["blocking_done"], teams["product"]["done"]) == (1, 1)
    assert teams["marketing"]["total"] == sum(item["owner_team"] == "marketing" for item in items)
    assert red["slips"] == []

    amber = launches["amber-launch"]
    assert amber["rag"] == "amber"
    assert "internal slipped 10 days" in amber["reason"]
    assert (amber["regions"][0]["slip_days"], amber["regions"][0]["slip_phase"]) == (10, "internal")
    [slip] = amber["slips"]
    assert (slip["region"], slip["phase"], slip["reason"]) == ("EU", "internal", "legal review moved")
    assert slip["slip_days"] == pytest.approx(10, abs=0.01)

    green = launches["green-launch"]
    assert green["rag"] == "green"
    assert green["reason"].startswith("on track")
    assert green["regions"][0]["next_gate_phase"] == "internal"
    assert green["regions"][0]["next_gate_criteria"] == []  # no beta exit gate there


# ---- directory ---------------------------------------------------------------------------------


def test_admin_upserts_the_directory_and_others_only_read_it(api):
    team = {"key": "growth", "name": "Growth", "slack_channel": "#growth"}
    created = api.post("/teams", team, role="admin", expect=201)
    assert api.post("/teams", team, role="admin")["id"] == created["id"]  # unchanged: 200, same row
    renamed = api.post("/teams", {**team, "name": "Growth marketing"}, role="admin")
    assert (renamed["id"], renamed["name"]) == (created["id"], "Growth marketing")
    listed = api.get("/teams", role="member")
    assert "growth" in [row["key"] for row in listed["data"]]
    assert listed["count"] == 11
    assert "key" in field_errors(api.post("/teams", {"key": "Growth!", "name": "x"}, role="admin", expect=422))
    assert "name" in field_errors(api.post("/teams", {"key": "growth", "name": " "}, role="admin", expect=422))
    for role in ("prodops", "member", "leadership", "approver"):
        assert "allowed roles: admin" in api.post("/teams", team, role=role, expect=403)["detail"]
        api.post("/regions", {"code": "MEA", "name": "x", "timezone": "Asia/Dubai"}, role=role, expect=403)
        api.post("/members", {"email": "a@example.com", "name": "A"}, role=role, expect=403)

    region = {"code": "MEA", "name": "Middle East and Africa", "timezone": "Asia/Dubai", "rollout_order": 50}
    mea = api.post("/regions", region, role="admin", expect=201)
    assert (mea["code"], mea["parent"]) == ("MEA", None)
    uae = api.post(
        "/regions",
        {"code": "MEA:AE", "name": "UAE", "timezone": "Asia/Dubai", "parent": "MEA"},
        role="admin",
        expect=201,
    )
    assert uae["parent"] == "MEA"
    assert api.post("/regions", {**region, "rollout_order": 55}, role="admin")["rollout_order"] == 55
    regions = {row["code"]: row for row in api.get("/regions", role="leadership", params={"limit": 500})["data"]}
    assert regions["MEA:AE"]["parent"] == "MEA"
    assert regions["MEA"]["rollout_order"] == 55
    for body, field in (
        ({"code": "MEA:SA", "name": "Saudi Arabia", "timezone": "Asia/Riyadh"}, "parent"),
        ({"code": "MEA:SA", "name": "Saudi Arabia", "timezone": "Asia/Riyadh", "parent": "XX"}, "parent"),
        ({"code": "MEA:SA", "name": "Saudi Arabia", "timezone": "Asia/Riyadh", "parent": "MEA:AE"}, "parent"),
        ({**region, "parent": "EU"}, "parent"),  # MEA has a sub-region: it cannot become one
        ({**region, "timezone": "Europe"}, "timezone"),
        ({**region, "timezone": "Mars/Olympus"}, "timezone"),
        ({**region, "timezone": "x" * 300}, "timezone"),
        ({**region, "rollout_order": 2**64}, "rollout_order"),
        ({**region, "code": "mea"}, "code"),
        ({**region, "colour": "blue"}, "colour"),
    ):
        assert field in field_errors(api.post("/regions", body, role="admin", expect=422)), body

    member = {
        "email": "lee@example.com",
        "name": "Lee",
        "team": "growth",
        "role": "approver",
        "slack_user_id": "U123ABC",
    }
    lee = api.post("/members", member, role="admin", expect=201)
    assert (lee["team"], lee["role"]) == ("growth", "approver")
    assert api.post("/members", {**member, "name": "Lee Park"}, role="admin")["id"] == lee["id"]
    clash = {"email": "kim@example.com", "name": "Kim", "slack_user_id": "U123ABC"}
    assert "U123ABC" in api.post("/members", clash, role="admin", expect=409)["detail"]
    assert "team" in field_errors(api.post("/members", {**member, "team": "nobody"}, role="admin", expect=422))
    assert "role" in field_errors(api.post("/members", {**member, "role": "owner"}, role="admin", expect=422))
    assert "email" in field_errors(api.post("/members", {**member, "email": "not-an-email"}, role="admin", expect=422))
    listed = [row["email"] for row in api.get("/members", role="approver")["data"]]
    assert "lee@example.com" in listed  # beside the members the role tokens belong to
    assert "kim@example.com" not in listed
    assert api.get("/teams", params={"limit": 2, "offset": 10})["data"][0]["key"] in {"growth", "support"}
