"""Planning over real HTTP on SQLite and PostgreSQL: the timeline, load and collisions answers (and
their 404/422s), ``?dry_run=true`` on create and reschedule answering the would-be collisions and
writing nothing (no statement that writes, no row anywhere, the Idempotency-Key left unused), the
directory's capacity and holiday countries, and the dashboard pages with their statement counts.

The server runs on the real clock, so dates are counted from today; the regions' holiday countries
are cleared (holidays have their own tests) so the collisions here are exactly the ones built."""

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import update

from orchestrator.core.enums import LaunchStatus, Phase
from orchestrator.core.models import Launch, Region
from orchestrator.core.settings import reset_settings
from orchestrator.launches.queries import rollout_id_for
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.planning.load import week_of
from tests.support.api import API_PREFIX, auth
from tests.support.factories import item
from tests.support.planning import planned_launch, statements_sent, table_counts, writes
from tests.support.web import csrf_of, member_signed_in, signed_in

TODAY = datetime.now(UTC).date()


def day(offset: int) -> datetime:
    return datetime.combine(TODAY + timedelta(days=offset), time(9, 0), tzinfo=UTC)


@pytest.fixture
def two_launches(seeded, actor):
    """acme (tier 1, active) and bolt (tier 2, draft) entering EU GA three days apart; acme's GA
    moved two days later once; one marketing item of acme due 7 days before its internal date."""
    seeded.execute(update(Region).values(holiday_countries=[]))
    seeded.commit()
    planned_launch(
        seeded,
        actor,
        "acme",
        {Phase.INTERNAL: day(20), Phase.GA: day(30)},
        items=[item("press_kit", offset=-7)],
    )
    planned_launch(seeded, actor, "bolt", {Phase.GA: day(35)}, tier=2)
    seeded.execute(update(Launch).where(Launch.slug == "acme").values(status=LaunchStatus.ACTIVE))
    seeded.commit()
    eu = rollout_id_for(session=seeded, slug="acme", region="EU")
    reschedule_phase(session=seeded, rollout_id=eu, phase=Phase.GA, new_at=day(32), actor=actor, reason="Legal review")
    return seeded


OVERLAP = f"acme (tier 1) and bolt (tier 2) both enter EU GA 3 days apart ({day(32):%Y-%m-%d} and {day(35):%Y-%m-%d})"


def test_timeline_load_and_collisions_answer_as_the_core_computes_them(two_launches, client, tokens):
    leader = auth(tokens["leadership"])
    timeline = client.get(f"{API_PREFIX}/launches/acme/timeline", headers=leader)
    assert timeline.status_code == 200, timeline.text
    (eu,) = timeline.json()["launch"]["regions"]
    internal, ga = eu["phases"]
    assert (ga["slip_days"], ga["conflicts"], [c["reason"] for c in ga["changes"]]) == (2, [OVERLAP], ["Legal review"])
    assert (internal["slip_days"], internal["conflicts"]) == (0, [])
    assert timeline.json()["axis"]["today"] == TODAY.isoformat()

    portfolio = client.get(f"{API_PREFIX}/timeline", headers=leader).json()
    assert (portfolio["count"], [lane["slug"] for lane in portfolio["launches"]]) == (1, ["acme"])  # bolt: a draft

    collisions = client.get(f"{API_PREFIX}/collisions", headers=leader).json()
    assert collisions["counts"] == {"overlap": 1, "freeze": 0, "holiday": 0}
    assert [(c["kind"], c["sentence"]) for c in collisions["data"]] == [("overlap", OVERLAP)]

    load = client.get(f"{API_PREFIX}/load", params={"weeks": 4}, headers=leader).json()
    marketing = next(team for team in load["teams"] if team["team"] == "marketing")
    due_week = week_of(TODAY + timedelta(days=13)).isoformat()  # due 09:00 Berlin, 7 days before internal
    assert {cell["week"]: cell["items"] for cell in marketing["weeks"] if cell["items"]} == {due_week: 1}
    cell = client.get(f"{API_PREFIX}/load/marketing/{due_week}", headers=leader).json()
    assert (cell["total"], [i["key"] for i in cell["items"]], cell["overloaded"]) == (1, ["press_kit"], False)

    for path, status in (
        ("/launches/nope/timeline", 404),
        ("/load/nobody/overdue", 404),
        ("/load/marketing/2027-13-01", 422),
        ("/load/marketing/someday", 422),
        ("/load?weeks=27", 422),
    ):
        answer = client.get(API_PREFIX + path, headers=leader)
        assert (path, answer.status_code) == (path, status), answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_dry_runs_answer_the_collisions_and_write_nothing(two_launches, client, tokens, engine):
    prodops = auth(tokens["prodops"])
    body = {
        "slug": "cask",
        "name": "Cask",
        "tier": 2,
        "owner": "owner@example.com",
        "regions": [
            {"region": "EU", "dates": {"ga": day(33).isoformat()}, "skip": ["internal", "private_beta", "public_beta"]}
        ],
        "approvers": ["approver@example.com"],
    }
    keyed = {**prodops, "Idempotency-Key": "cask-1"}
    before = table_counts(two_launches)
    with statements_sent(engine) as sent:
        preview = client.post(f"{API_PREFIX}/launches", params={"dry_run": "true"}, json=body, headers=keyed)
        moved = client.post(
            f"{API_PREFIX}/launches/acme/regions/EU/reschedule",
            params={"dry_run": "true"},
            json={"phase": "ga", "date": day(60).isoformat(), "reason": "Try later"},
            headers=prodops,
        )
    assert preview.status_code == 200, preview.text
    assert preview.json()["dry_run"] is True
    assert [[entry["launch"] for entry in c["launches"]] for c in preview.json()["conflicts"]] == [
        ["acme", "cask", "bolt"]
    ]
    assert preview.json()["summary"] == "new launch cask: 1 collision (nothing saved)"
    assert moved.status_code == 200, moved.text
    assert ([c["sentence"] for c in moved.json()["resolved"]], moved.json()["conflicts"]) == ([OVERLAP], [])
    assert writes(sent) == []
    assert table_counts(two_launches) == before

    # The dry run took no Idempotency-Key: the same key creates the launch for real now.
    created = client.post(f"{API_PREFIX}/launches", json=body, headers=keyed)
    assert created.status_code == 201, created.text
    refused = client.post(
        f"{API_PREFIX}/launches", params={"dry_run": "true"}, json=body, headers=auth(tokens["member"])
    )
    assert refused.status_code == 403


def test_the_directory_sets_team_capacity_and_region_holiday_countries(client, tokens, seeded):
    admin = auth(tokens["admin"])
    team = client.post(
        f"{API_PREFIX}/teams", json={"key": "growth", "name": "Growth", "capacity_per_week": 4}, headers=admin
    )
    assert (team.status_code, team.json()["capacity_per_week"]) == (201, 4)
    region = {"code": "MEA", "name": "Middle East", "timezone": "Asia/Dubai", "holiday_countries": ["AE", "SA"]}
    made = client.post(f"{API_PREFIX}/regions", json=region, headers=admin)
    assert (made.status_code, made.json()["holiday_countries"]) == (201, ["AE", "SA"])
    for countries, problem in (
        (["XX"], "'XX' is not a country with a holiday calendar"),
        (["CA-ZZ"], "CA has no subdivision 'ZZ'"),
    ):
        bad = client.post(f"{API_PREFIX}/regions", json={**region, "holiday_countries": countries}, headers=admin)
        assert bad.status_code == 422, bad.text
        assert problem in bad.text
    bad = client.post(
        f"{API_PREFIX}/teams", json={"key": "growth", "name": "Growth", "capacity_per_week": 0}, headers=admin
    )
    assert bad.status_code == 422


def test_the_planning_pages_show_the_timeline_load_and_collisions(two_launches, api_server, tokens):
    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get("/dashboard/launches/acme/timeline")
        assert page.status_code == 200, page.text
        assert '<svg class="timeline-chart"' in page.text
        assert '<tr data-region="EU" data-phase="ga">' in page.text
        assert '<span class="late">+2</span>' in page.text
        assert OVERLAP in page.text
        assert 'href="/dashboard/launches/acme/timeline"' in client.get("/dashboard/launches/acme").text
        assert '<li data-slug="acme">' in client.get("/dashboard/timeline").text
        load = client.get("/dashboard/load")
        assert load.status_code == 200
        assert '<tr data-team="marketing">' in load.text
        assert '<tr data-kind="overlap" data-region="EU" data-phase="ga">' in client.get("/dashboard/collisions").text
        assert "Nothing open is due before this week." in client.get("/dashboard/load/marketing/overdue").text
        for path, status in (
            ("/dashboard/timeline?page=x", 422),
            ("/dashboard/load?weeks=99", 422),
            ("/dashboard/collisions?page=0", 422),
            ("/dashboard/load/nobody/overdue", 404),
            ("/dashboard/launches/nope/timeline", 404),
        ):
            assert (path, client.get(path).status_code) == (path, status)


def test_the_planning_pages_run_the_same_statements_for_2_and_8_launches(
    api_server, tokens, seeded, actor, engine, monkeypatch
):
    def add(start: int, count: int) -> None:
        for number in range(start, start + count):
            dates = {Phase.INTERNAL: day(10 + number), Phase.GA: day(40 + number)}
            items = [item("brief", offset=-3), item("faq", region="NA", team="support")]
            planned_launch(seeded, actor, f"bulk-{number}", dates, regions=("EU", "NA"), items=items)
        seeded.execute(update(Launch).values(status=LaunchStatus.ACTIVE))
        seeded.commit()

    pages = ("/dashboard/launches/bulk-1/timeline", "/dashboard/timeline", "/dashboard/load", "/dashboard/collisions")
    with signed_in(api_server, tokens["leadership"]) as client:

        def measure() -> list[int]:
            counts = []
            for path in pages:
                with statements_sent(engine) as sent:
                    assert client.get(path).status_code == 200
                counts.append(len([s for s in sent if not s.startswith("BEGIN")]))  # SQLite's own BEGINs
            return counts

        monkeypatch.setenv("LAUNCHDECK_DASHBOARD_CACHE_SECONDS", "0")  # every page reads all it shows
        reset_settings()
        add(0, 2)
        few = measure()
        add(2, 6)
        many = measure()
        monkeypatch.delenv("LAUNCHDECK_DASHBOARD_CACHE_SECONDS")
        reset_settings()
        kept = measure()[:2], measure()  # the snapshot made by the first page serves the others
        eu = rollout_id_for(session=seeded, slug="bulk-1", region="EU")
        reschedule_phase(session=seeded, rollout_id=eu, phase=Phase.GA, new_at=day(70), actor=actor, reason="Later")
        moved = client.get("/dashboard/launches/bulk-1/timeline").text  # a recorded change: read again
    reset_settings()
    assert f'<td data-label="Current" class="current-at">{day(70):%Y-%m-%d}</td>' in moved
    assert few == many
    # The sign-in's read, then the snapshot's four (regions; launches, their regions, their dates),
    # the launch's reschedules, the load's one statement.
    assert few == [6, 5, 2, 5], few
    # Reused until the next recorded change: the change marker's two instead of the snapshot's four.
    assert kept == ([8, 3], [4, 3, 2, 3]), kept


def test_the_console_shows_collisions_before_a_launch_is_created_or_rescheduled(
    two_launches, api_server, tokens, engine
):
    new = "/dashboard/launches/new"
    with member_signed_in(api_server, engine, "prodops@example.com") as client:
        form = {
            "csrf": csrf_of(client.get(new).text),
            "name": "Cask",
            "slug": "cask",
            "tier": "1",
            "owner": "owner@example.com",
            "region.EU": "yes",
            "wave_mode": "parallel",
            "date.EU.ga": day(34).date().isoformat(),
            **{f"skip.EU.{phase}": "yes" for phase in ("internal", "private_beta", "public_beta")},
            "do": "preview",
        }
        before = table_counts(two_launches)
        preview = client.post(new, data=form)
        assert preview.status_code == 200, preview.text
        assert 'id="preview-collisions"' in preview.text
        assert "3 tier 1-2 launches enter EU GA within 3 days" in preview.text

        launch_page = client.get("/dashboard/launches/acme").text
        check = client.post(
            "/dashboard/launches/acme/regions/EU/reschedule",
            data={
                "csrf": csrf_of(launch_page),
                "phase": "ga",
                "date": day(60).date().isoformat(),
                "reason": "",
                "do": "check",
            },
        )
        assert check.status_code == 200, check.text
        assert 'id="reschedule-EU-check"' in check.text
        assert f"acme EU GA to {day(60):%Y-%m-%d}: no collision; it would end 1 (nothing saved)" in check.text
        assert OVERLAP in check.text  # the one it would end
        assert table_counts(two_launches) == before
