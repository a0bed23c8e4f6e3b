"""Dry runs (orchestrator/planning/conflicts.py): what creating a launch or moving a phase date
would collide with, before anything is saved, proven to write nothing (no row in any table, no
INSERT, UPDATE or DELETE sent); refusals as the real change refuses; and the leadership digest's
top collisions of the week. On SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import update

from notifications.messages.digest import leadership_digest
from notifications.messages.snapshots import DigestMessage
from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import LaunchStatus, Phase, Role, Source
from orchestrator.core.errors import AlreadyExists, Forbidden, InvalidInput
from orchestrator.core.models import Launch
from orchestrator.launches.queries import rollout_id_for
from orchestrator.launches.spec import LaunchSpec
from orchestrator.planning.collisions import CollisionKind
from orchestrator.planning.conflicts import preview_new_launch, preview_reschedule
from orchestrator.reporting.digest import build_leadership_digest
from tests.support.factories import region_plan
from tests.support.planning import planned_launch, statements_sent, table_counts, writes

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def at(month, day, hour=9):
    return datetime(2027, month, day, hour, tzinfo=UTC)


def new_spec(slug="bolt", tier=2):
    return LaunchSpec(
        slug=slug,
        name=slug.title(),
        tier=tier,
        owner="owner@example.com",
        regions=[region_plan("EU", {Phase.GA: at(4, 19)}), region_plan("NA", {Phase.GA: at(7, 5, hour=0)})],
    )


@pytest.fixture
def acme(seeded, actor):
    launch = planned_launch(seeded, actor, "acme", {Phase.INTERNAL: at(3, 15), Phase.GA: at(4, 15)}, tier=1)
    seeded.execute(update(Launch).where(Launch.slug == "acme").values(status=LaunchStatus.ACTIVE))
    seeded.commit()
    return launch


def test_a_new_launchs_dry_run_lists_its_collisions_and_writes_nothing(acme, seeded, engine, actor):
    before = table_counts(seeded)
    with freeze_time(NOW), statements_sent(engine) as sent:
        preview = preview_new_launch(session=seeded, spec=new_spec(), actor=actor, now=utcnow())
        seeded.rollback()

    assert [(c.kind, c.day.isoformat(), c.slugs) for c in preview.conflicts] == [
        (CollisionKind.OVERLAP, "2027-04-15", ("acme", "bolt")),
        (CollisionKind.HOLIDAY, "2027-07-04", ("bolt",)),
    ]
    # 00:00 UTC on 5 July is the evening of 4 July in New York: the region's day counts.
    assert preview.conflicts[1].sentence == "bolt NA GA on 2027-07-04 is a public holiday: Independence Day (US)"
    assert preview.summary == "new launch bolt: 2 collisions (nothing saved)"
    assert sent, "the dry run read nothing at all"
    assert writes(sent) == []
    assert table_counts(seeded) == before


def test_a_reschedules_dry_run_lists_what_the_new_date_brings_and_ends_and_writes_nothing(acme, seeded, engine, actor):
    planned_launch(seeded, actor, "bolt", {Phase.GA: at(4, 19)}, tier=2)
    eu = rollout_id_for(session=seeded, slug="acme", region="EU")
    before = table_counts(seeded)
    with freeze_time(NOW), statements_sent(engine) as sent:
        preview = preview_reschedule(
            session=seeded, rollout_id=eu, phase=Phase.GA, new_at=at(10, 3), actor=actor, now=utcnow()
        )
        seeded.rollback()

    assert [c.sentence for c in preview.conflicts] == [
        "acme EU GA on 2027-10-03 is a public holiday: German Unity Day (DE)"
    ]
    assert [c.sentence for c in preview.resolved] == [
        "acme (tier 1) and bolt (tier 2) both enter EU GA 4 days apart (2027-04-15 and 2027-04-19)"
    ]
    assert preview.summary == "acme EU GA to 2027-10-03: 1 collision; it would end 1 (nothing saved)"
    assert writes(sent) == []
    assert table_counts(seeded) == before


def test_dry_runs_refuse_what_the_change_itself_would_refuse(acme, seeded, actor):
    eu = rollout_id_for(session=seeded, slug="acme", region="EU")
    with pytest.raises(AlreadyExists):
        preview_new_launch(session=seeded, spec=new_spec("acme"), actor=actor, now=NOW)
    unknown = new_spec().model_copy(update={"regions": [region_plan("MARS", {Phase.GA: at(4, 19)})]})
    with pytest.raises(InvalidInput, match=r"unknown region\(s\) MARS"):
        preview_new_launch(session=seeded, spec=unknown, actor=actor, now=NOW)
    with pytest.raises(InvalidInput, match="ga cannot be before internal"):
        preview_reschedule(session=seeded, rollout_id=eu, phase=Phase.GA, new_at=at(3, 1), actor=actor, now=NOW)
    with pytest.raises(InvalidInput, match="acme EU skips public_beta"):
        preview_reschedule(
            session=seeded, rollout_id=eu, phase=Phase.PUBLIC_BETA, new_at=at(4, 1), actor=actor, now=NOW
        )
    member = Actor(name="ann@example.com", source=Source.API, role=Role.MEMBER)
    with pytest.raises(Forbidden):
        preview_new_launch(session=seeded, spec=new_spec(), actor=member, now=NOW)
    seeded.rollback()


def test_the_leadership_digest_lists_the_top_collisions_of_the_coming_week(acme, seeded, actor):
    planned_launch(seeded, actor, "bolt", {Phase.GA: at(4, 19)}, tier=2)
    planned_launch(seeded, actor, "unity", {Phase.GA: at(10, 3)}, tier=3)  # months away: not this week
    with freeze_time(at(4, 12, hour=8)):
        digest = build_leadership_digest(session=seeded, now=utcnow(), with_collisions=True)
        seeded.commit()
        far = build_leadership_digest(session=seeded, now=at(3, 1), with_collisions=True)
        dashboard = build_leadership_digest(session=seeded, now=utcnow())  # the pages' colours: no collisions read
        seeded.commit()

    assert [(c.kind, c.slugs) for c in digest.collisions] == [(CollisionKind.OVERLAP, ("acme", "bolt"))]
    assert digest.collisions_in_week == 1
    assert digest.to_payload()["collisions"] == [
        {
            "kind": "overlap",
            "region": "EU",
            "phase": "ga",
            "date": "2027-04-15",
            "launches": ["acme", "bolt"],
            "sentence": "acme (tier 1) and bolt (tier 2) both enter EU GA 4 days apart (2027-04-15 and 2027-04-19)",
        }
    ]
    (message,) = leadership_digest(DigestMessage(digest=digest))
    text = "\n".join(block["text"]["text"] for block in message.blocks if block.get("block_id") == "digest:collisions")
    assert "*Top collisions of the week* (1 in the next 7 days)" in text
    assert "Thu 15 Apr · overlap: acme (tier 1) and bolt (tier 2) both enter EU GA 4 days apart" in text
    assert (far.collisions, far.collisions_in_week) == ((), 0)
    assert (dashboard.collisions, dashboard.collisions_in_week) == ((), 0)
