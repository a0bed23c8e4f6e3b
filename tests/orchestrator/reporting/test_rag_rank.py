"""The database's colouring of launches (orchestrator/reporting/rag_rank.py, which orders the
portfolio's pages) agrees with ``rag_for`` (what the pages show) on both databases: launch by
launch, in the same order, at each threshold and on either side of it."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import update
from sqlmodel import col, select

from orchestrator.core.enums import LaunchStatus, Phase
from orchestrator.core.models import ChecklistItem, Launch, RegionRollout
from orchestrator.items.service import block_item
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.digest import build_leadership_digest
from orchestrator.reporting.rag import Rag, RagRules
from orchestrator.reporting.rag_rank import ranked_launches, slip_threshold_seconds
from orchestrator.rollouts.service import halt_region, roll_back_region
from tests.support.db import rollout_id
from tests.support.factories import BASE, item, make_launch

KICKOFF = BASE - timedelta(days=20)
DUE = datetime(2027, 2, 22, 8, 0, tzinfo=UTC)  # an item's default due date: BASE - 7 days, 09:00 Berlin
LATER = KICKOFF + timedelta(days=1)


def kicked_off(session, actor, slug, *specs, regions=("EU",)):
    created = make_launch(session, actor, slug=slug, regions=regions, items=list(specs))
    with freeze_time(KICKOFF):
        kick_off_launch(session=session, launch_id=created.id, actor=actor)
    return created


def item_of(session, launch, key):
    found = session.exec(
        select(ChecklistItem.id).where(ChecklistItem.launch_id == launch.id, ChecklistItem.key == key)
    ).one()
    session.commit()
    return found


def slipped(session, actor, launch, days, phase=Phase.INTERNAL, region="EU"):
    with freeze_time(LATER):
        reschedule_phase(
            session=session,
            rollout_id=rollout_id(session, launch, region),
            phase=phase,
            new_at=BASE + timedelta(days=days) + timedelta(days=14 * Phase.ordered().index(phase)),
            actor=actor,
            reason="vendor late",
        )


@pytest.fixture
def launches(seeded, actor):
    """One launch per edge of the rule."""
    session = seeded
    kicked_off(session, actor, "calm-one", item("press_kit", offset=-2))
    kicked_off(session, actor, "due-one", item("press_kit"))  # due at DUE: the time thresholds' edges
    kicked_off(session, actor, "no-due-date", item("press_kit", offset=None))
    blocked = kicked_off(session, actor, "blocked-one", item("press_kit"), item("briefing", blocking=False, offset=-15))
    advisory = kicked_off(session, actor, "advisory-blocked", item("brief", blocking=False, offset=-15))
    with freeze_time(LATER):
        block_item(session=session, item_id=item_of(session, blocked, "press_kit"), actor=actor, reason="legal")
        block_item(session=session, item_id=item_of(session, advisory, "brief"), actor=actor, reason="no slot")
    for slug, brake in (("halted-one", halt_region), ("rolled-back-one", roll_back_region)):
        braked = kicked_off(session, actor, slug, regions=("EU", "NA"))
        with freeze_time(LATER):
            brake(session=session, rollout_id=rollout_id(session, braked, "NA"), actor=actor, reason="incident")
    for name, days in (("seven", 7), ("seven-and-a-half", 7.5), ("six-and-a-half", 6.5), ("eight", 8)):
        slipped(session, actor, kicked_off(session, actor, f"slip-{name}"), days)
    ga_late = kicked_off(session, actor, "slip-ga-later-phase")
    slipped(session, actor, ga_late, 9, phase=Phase.GA)
    moved_on = kicked_off(session, actor, "slip-behind-the-region")
    slipped(session, actor, moved_on, 10)
    session.execute(  # the region is past the phase that slipped: history, not risk
        update(RegionRollout)
        .where(col(RegionRollout.id) == rollout_id(session, moved_on, "EU"))
        .values(phase=Phase.PRIVATE_BETA)
    )
    session.commit()
    return session


# Moments on either side of each time threshold (built once: the launches take seconds to make).
MOMENTS = [
    LATER + timedelta(hours=1),  # nothing due soon yet
    DUE - timedelta(days=3, minutes=1),  # just outside "due within three days"
    DUE - timedelta(days=3),  # exactly three days: amber
    DUE - timedelta(seconds=1),
    DUE,  # due now: not overdue yet
    DUE + timedelta(seconds=1),  # overdue
    BASE + timedelta(days=30),
]


def test_the_database_colours_every_launch_as_rag_for_does_in_the_same_order(launches):
    for rules in (RagRules(), RagRules(due_soon=timedelta(days=1), slip_amber_days=6)):
        for now in MOMENTS:
            digest = build_leadership_digest(session=launches, now=now, rules=rules)
            ranked = ranked_launches(launches, which=col(Launch.status) == LaunchStatus.ACTIVE, now=now, rules=rules)
            launches.commit()
            expected = [(launch.id, launch.slug, launch.rag) for launch in digest.launches]
            slugs = {launch_id: slug for launch_id, slug, _rag in expected}
            assert [(i, slugs.get(i), rag) for i, rag in ranked] == expected, (now, rules)
            assert len({rag for _id, rag in ranked}) == 3, "every colour should be present: the edges prove nothing"


def test_the_slip_threshold_rounds_half_days_as_the_digest_does():
    # More than seven whole days, rounded half to even: 7.5 days rounds to 8 (amber) ...
    assert slip_threshold_seconds(7) == 7 * 86400 + 43200
    # ... and 6.5 days to 6, so more than six needs a second past the half day.
    assert slip_threshold_seconds(6) == 6 * 86400 + 43200 + 1
    assert [round(seconds / 86400) for seconds in (7 * 86400 + 43199, 7 * 86400 + 43200)] == [7, 8]


def test_nothing_active_ranks_nothing(seeded):
    assert ranked_launches(seeded, which=col(Launch.status) == LaunchStatus.ACTIVE, now=BASE, rules=RagRules()) == []
    assert Rag.RED.severity == 0
