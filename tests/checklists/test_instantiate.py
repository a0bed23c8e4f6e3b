"""Launches created from templates on real databases: due dates at 09:00 local across DST weeks,
the template version kept, later edits applied only on request, reschedules moving open items."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlmodel import select

from checklists.instantiate import apply_library, create_launch_from_templates, load_for_session
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import ItemStatus, Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import AuditEvent, ChecklistItem, Launch
from orchestrator.items.service import check_item
from orchestrator.launches.queries import launch_detail
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.spec import LaunchSpec
from tests.support.checklists import make_library
from tests.support.factories import region_plan

# EU leaves summer time on Sunday 2026-10-25; NA on Sunday 2026-11-01 (a week apart in autumn).
EU_DST_WEEK_GA = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
NA_DST_WEEK_GA = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)


def spec(*, slug="acme-ai", tier=1, flags=(), dates=None):
    return LaunchSpec(
        slug=slug,
        name="Acme AI",
        tier=tier,
        owner="pat@example.com",
        flags=list(flags),
        regions=[
            region_plan("EU", dates or {Phase.GA: EU_DST_WEEK_GA}),
            region_plan("NA", dates or {Phase.GA: NA_DST_WEEK_GA}),
        ],
    )


def items_by_key(session, launch, region_code):
    detail = launch_detail(session=session, slug=launch.slug)
    rollout_id = next(r.id for r in detail.rollouts if r.region == region_code)
    return {
        item.key: item for item in session.exec(select(ChecklistItem).where(ChecklistItem.rollout_id == rollout_id))
    }


def test_due_dates_are_nine_local_across_the_dst_change_in_eu_and_na(seeded, actor, tmp_path):
    library = make_library(tmp_path)
    launch = create_launch_from_templates(
        session=seeded, spec=spec(flags=["personal_data"]), library=library, actor=actor
    )
    eu = items_by_key(seeded, launch, "EU")
    na = items_by_key(seeded, launch, "NA")
    # EU: T-14 is 2026-10-14 (CEST, UTC+2); T-0 would be CET; T+7 is 2026-11-04 (CET, UTC+1).
    assert as_utc(eu["ga.legal_review"].due_at) == datetime(2026, 10, 14, 7, 0, tzinfo=UTC)
    assert as_utc(eu["ga.retro"].due_at) == datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
    # NA: T-7 is 2026-10-28 (EDT, UTC-4); T+7 is 2026-11-11 (EST, UTC-5).
    assert as_utc(na["ga.sales_training"].due_at) == datetime(2026, 10, 28, 13, 0, tzinfo=UTC)
    assert as_utc(na["ga.retro"].due_at) == datetime(2026, 11, 11, 14, 0, tzinfo=UTC)


def test_overdue_counts_follow_the_frozen_clock(seeded, actor, tmp_path):
    library = make_library(tmp_path)
    launch = create_launch_from_templates(session=seeded, spec=spec(), library=library, actor=actor)
    # 06:59 UTC on 2026-10-14 is 08:59 in Berlin: the legal review (due 09:00 local) is not late yet.
    with freeze_time("2026-10-14 06:59:00"):
        before = launch_detail(session=seeded, slug=launch.slug, now=datetime.now(UTC))
    with freeze_time("2026-10-14 07:01:00"):
        after = launch_detail(session=seeded, slug=launch.slug, now=datetime.now(UTC))
    eu_before = next(r for r in before.rollouts if r.region == "EU")
    eu_after = next(r for r in after.rollouts if r.region == "EU")
    assert eu_after.items_overdue == eu_before.items_overdue + 1


def test_the_launch_keeps_its_template_version_and_items_when_templates_change(seeded, actor, tmp_path):
    original = make_library(tmp_path / "v1")
    launch = create_launch_from_templates(session=seeded, spec=spec(), library=original, actor=actor)
    assert launch.template_version == original.version
    edited = make_library(
        tmp_path / "v2",
        extra={
            "ours.yaml": "items:\n  - {key: ga.retro, title: Retro with the sponsor, owner: product, phase: ga, due: 14}\n"
        },
    )
    assert edited.version != original.version
    # Nothing happens to the running launch until the new templates are applied.
    stored = seeded.exec(select(Launch).where(Launch.slug == launch.slug)).one()
    assert stored.template_version == original.version
    assert items_by_key(seeded, launch, "EU")["ga.retro"].title == "Week-one retro"


def test_applying_new_templates_adds_updates_retires_and_leaves_done_work(seeded, actor, tmp_path):
    launch = create_launch_from_templates(
        session=seeded, spec=spec(), library=make_library(tmp_path / "v1"), actor=actor
    )
    eu = items_by_key(seeded, launch, "EU")
    done = eu["ga.battlecard"]
    check_item(session=seeded, item_id=done.id, actor=actor)
    company = {
        "ours.yaml": (
            "items:\n"
            "  - {key: ga.retro, title: Retro with the sponsor, owner: product, phase: ga, due: 14, gate: advisory}\n"
            "  - {key: ga.status_page, title: Status page ready, owner: support, phase: ga, due: -2}\n"
            "  - {key: ga.battlecard, title: Battlecard v2, owner: sales, phase: ga, tiers: [1], due: -21}\n"
            "  - {key: ga.sales_training, enabled: false}\n"
        )
    }
    newer = make_library(tmp_path / "v2", extra=company)
    preview = apply_library(session=seeded, slug=launch.slug, library=newer, actor=actor, dry_run=True)
    assert sorted(preview.added) == ["EU/ga/ga.status_page", "NA/ga/ga.status_page"]
    # NA's battlecard is still open, so it takes the new title; EU's is done and stays as it was.
    assert sorted(preview.updated) == ["EU/ga/ga.retro", "NA/ga/ga.battlecard", "NA/ga/ga.retro"]
    assert sorted(preview.retired) == ["EU/ga/ga.sales_training", "NA/ga/ga.sales_training"]
    assert "EU/ga/ga.battlecard" in preview.kept_done
    assert "ga.status_page" not in items_by_key(seeded, launch, "EU")  # the dry run wrote nothing

    result = apply_library(session=seeded, slug=launch.slug, library=newer, actor=actor)
    assert result.changes == 7
    eu = items_by_key(seeded, launch, "EU")
    assert eu["ga.retro"].title == "Retro with the sponsor"
    assert as_utc(eu["ga.retro"].due_at) == datetime(2026, 11, 11, 8, 0, tzinfo=UTC)
    assert eu["ga.sales_training"].status == ItemStatus.NOT_APPLICABLE
    assert eu["ga.battlecard"].status == ItemStatus.DONE
    assert eu["ga.battlecard"].title == "Battlecard"
    assert seeded.exec(select(Launch).where(Launch.slug == launch.slug)).one().template_version == newer.version
    events = seeded.exec(select(AuditEvent).where(AuditEvent.action == "launch.template_applied")).all()
    assert len(events) == 1

    again = apply_library(session=seeded, slug=launch.slug, library=newer, actor=actor)
    assert again.changes == 0


def test_rescheduling_moves_open_items_keeping_nine_local(seeded, actor, tmp_path):
    launch = create_launch_from_templates(session=seeded, spec=spec(), library=make_library(tmp_path), actor=actor)
    eu = items_by_key(seeded, launch, "EU")
    check_item(session=seeded, item_id=eu["ga.battlecard"].id, actor=actor)
    rollout_id = eu["ga.legal_review"].rollout_id
    reschedule_phase(
        session=seeded,
        rollout_id=rollout_id,
        phase=Phase.GA,
        new_at=datetime(2026, 9, 30, 12, 0, tzinfo=UTC),
        actor=actor,
        reason="Moved up for the conference",
    )
    moved = items_by_key(seeded, launch, "EU")
    # T-14 of 2026-09-30 is 2026-09-16, still summer time in Berlin (UTC+2).
    assert as_utc(moved["ga.legal_review"].due_at) == datetime(2026, 9, 16, 7, 0, tzinfo=UTC)
    assert moved["ga.battlecard"].due_at == eu["ga.battlecard"].due_at  # done work keeps its date


def test_unknown_flags_are_refused_before_anything_is_written(seeded, actor, tmp_path):
    with pytest.raises(InvalidInput, match="unknown flag"):
        create_launch_from_templates(
            session=seeded, spec=spec(flags=["telepathy"]), library=make_library(tmp_path), actor=actor
        )
    assert seeded.exec(select(Launch)).all() == []


def test_the_default_library_validates_against_the_seeded_database(seeded):
    library = load_for_session(seeded)
    assert len(library.items) >= 60
