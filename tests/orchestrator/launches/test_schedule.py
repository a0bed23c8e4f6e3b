"""Rescheduling phase dates (launches/schedule.py): the baseline kept, open items moved to 09:00
local, every change recorded, and a refused reschedule changing nothing; on SQLite and PostgreSQL."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput, StaleVersion
from orchestrator.core.models import ChecklistItem, PhaseDate, PhaseDateChange, RegionRollout
from orchestrator.items.service import check_item
from orchestrator.launches.schedule import reschedule_phase
from tests.support.db import audit, fresh, ledger, outbox, rows
from tests.support.factories import BASE, item, make_launch, phase_dates

BERLIN = ZoneInfo("Europe/Berlin")
DATES = phase_dates()  # internal 03-01, private beta 03-15, public beta 03-29, GA 04-12 (09:00 UTC)


def berlin_nine(day):
    """09:00 Europe/Berlin on ``day``, as UTC."""
    return datetime.combine(day, time(9, 0), tzinfo=BERLIN).astimezone(UTC)


# ---- reschedule ------------------------------------------------------------------------------


@pytest.fixture
def planned(seeded, actor):
    """An EU launch (factories.BASE dates) with open, done and undated items in several phases."""
    make_launch(
        seeded,
        actor,
        items=[
            item("press_kit", offset=-7),
            item("faq", team="support", offset=-3),
            item("no_due_date", team="docs", offset=None),
            item("beta_cohort", phase=Phase.PRIVATE_BETA, offset=-7),
            item("pricing_page", phase=Phase.PUBLIC_BETA, offset=-7),
        ],
    )
    ids = {i.key: i.id for i in rows(seeded, select(ChecklistItem))}
    check_item(session=seeded, item_id=ids["faq"], actor=actor)
    (rollout_id,) = [r.id for r in rows(seeded, select(RegionRollout))]
    dates = {d.phase: d.id for d in rows(seeded, select(PhaseDate))}
    return seeded, rollout_id, ids, dates


def snapshot(session, rollout_id, ids, dates):
    """Everything a reschedule may touch."""
    return (
        fresh(session, RegionRollout, rollout_id),
        [fresh(session, PhaseDate, d) for d in dates.values()],
        [fresh(session, ChecklistItem, i) for i in ids.values()],
        rows(session, select(PhaseDateChange.id)),
        ledger(session),
    )


def test_reschedule_keeps_the_baseline_and_records_the_change(planned, actor):
    session, rollout_id, _ids, dates = planned
    version = fresh(session, RegionRollout, rollout_id)["version"]
    new_at = BASE + timedelta(days=7)

    reschedule_phase(
        session=session,
        rollout_id=rollout_id,
        phase=Phase.INTERNAL,
        new_at=new_at,
        actor=actor,
        reason="  security review slipped  ",
    )

    row = fresh(session, PhaseDate, dates[Phase.INTERNAL])
    assert as_utc(row["baseline_at"]) == BASE
    assert as_utc(row["current_at"]) == new_at
    (change,) = rows(session, select(PhaseDateChange))
    assert change.phase_date_id == dates[Phase.INTERNAL]
    assert (change.actor, change.reason) == (actor.name, "security review slipped")
    assert (as_utc(change.old_at), as_utc(change.new_at)) == (BASE, new_at)
    (event,) = audit(session, "phase.rescheduled")
    assert event.reason == "security review slipped"
    assert event.after["items_moved"] == 1  # press_kit; faq is done, no_due_date has no due date
    (message,) = outbox(session, "phase.rescheduled")
    assert message.payload["slip_days"] == 7.0
    assert fresh(session, RegionRollout, rollout_id)["version"] == version + 1
    assert as_utc(fresh(session, PhaseDate, dates[Phase.PRIVATE_BETA])["current_at"]) == DATES[Phase.PRIVATE_BETA]


def test_reschedule_moves_open_items_to_nine_local_and_leaves_done_items(planned, actor):
    session, rollout_id, ids, _dates = planned
    done_before = fresh(session, ChecklistItem, ids["faq"])
    other_phase_before = fresh(session, ChecklistItem, ids["beta_cohort"])
    assert as_utc(fresh(session, ChecklistItem, ids["press_kit"])["due_at"]) == berlin_nine(
        datetime(2027, 2, 22).date()
    )

    reschedule_phase(
        session=session,
        rollout_id=rollout_id,
        phase=Phase.INTERNAL,
        new_at=datetime(2027, 3, 10, 23, 30, tzinfo=UTC),  # already 03-11 in Berlin
        actor=actor,
        reason="waiting on legal",
    )

    moved = as_utc(fresh(session, ChecklistItem, ids["press_kit"])["due_at"])
    assert moved == berlin_nine(datetime(2027, 3, 4).date())  # local day 03-11, minus 7 days
    assert moved.astimezone(BERLIN).time() == time(9, 0)
    assert fresh(session, ChecklistItem, ids["faq"]) == done_before
    assert fresh(session, ChecklistItem, ids["no_due_date"])["due_at"] is None
    assert fresh(session, ChecklistItem, ids["beta_cohort"]) == other_phase_before


def test_reschedule_across_the_dst_change_keeps_nine_local(planned, actor):
    session, rollout_id, ids, _dates = planned
    before = as_utc(fresh(session, ChecklistItem, ids["pricing_page"])["due_at"])
    assert before == datetime(2027, 3, 22, 8, 0, tzinfo=UTC)  # 09:00 CET

    reschedule_phase(
        session=session,
        rollout_id=rollout_id,
        phase=Phase.PUBLIC_BETA,
        new_at=DATES[Phase.PUBLIC_BETA] + timedelta(days=7),
        actor=actor,
        reason="beta cohort too small",
    )

    after = as_utc(fresh(session, ChecklistItem, ids["pricing_page"])["due_at"])
    assert after == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST, after 2027-03-28
    assert after.astimezone(BERLIN).time() == time(9, 0)


def test_rescheduling_twice_keeps_the_first_baseline_and_the_whole_history(planned, actor):
    session, rollout_id, _ids, dates = planned
    for days, reason in ((3, "first slip"), (5, "second slip")):
        reschedule_phase(
            session=session,
            rollout_id=rollout_id,
            phase=Phase.INTERNAL,
            new_at=BASE + timedelta(days=days),
            actor=actor,
            reason=reason,
        )

    row = fresh(session, PhaseDate, dates[Phase.INTERNAL])
    assert (as_utc(row["baseline_at"]), as_utc(row["current_at"])) == (BASE, BASE + timedelta(days=5))
    history = rows(session, select(PhaseDateChange).order_by(PhaseDateChange.id))
    assert [(as_utc(c.old_at), as_utc(c.new_at), c.reason) for c in history] == [
        (BASE, BASE + timedelta(days=3), "first slip"),
        (BASE + timedelta(days=3), BASE + timedelta(days=5), "second slip"),
    ]


def test_rescheduling_to_the_same_date_writes_nothing(planned, actor):
    session, rollout_id, ids, dates = planned
    before = snapshot(session, rollout_id, ids, dates)

    reschedule_phase(
        session=session, rollout_id=rollout_id, phase=Phase.INTERNAL, new_at=BASE, actor=actor, reason="noop"
    )

    assert snapshot(session, rollout_id, ids, dates) == before


def test_reschedule_needs_a_reason_and_changes_nothing(planned, actor):
    session, rollout_id, ids, dates = planned
    before = snapshot(session, rollout_id, ids, dates)

    with pytest.raises(InvalidInput) as caught:
        reschedule_phase(
            session=session,
            rollout_id=rollout_id,
            phase=Phase.INTERNAL,
            new_at=BASE + timedelta(days=2),
            actor=actor,
            reason="   ",
        )

    assert caught.value.field == "reason"
    assert snapshot(session, rollout_id, ids, dates) == before


def test_reschedule_needs_an_aware_date(planned, actor):
    session, rollout_id, ids, dates = planned
    before = snapshot(session, rollout_id, ids, dates)

    with pytest.raises(InvalidInput) as caught:
        reschedule_phase(
            session=session,
            rollout_id=rollout_id,
            phase=Phase.INTERNAL,
            new_at=datetime(2027, 3, 3, 9, 0),
            actor=actor,
            reason="naive",
        )

    assert caught.value.field == "new_at"
    assert snapshot(session, rollout_id, ids, dates) == before


@pytest.mark.parametrize(
    ("phase", "new_at", "neighbour"),
    [
        (Phase.GA, DATES[Phase.PUBLIC_BETA] - timedelta(days=1), "public_beta"),
        (Phase.INTERNAL, DATES[Phase.PRIVATE_BETA] + timedelta(days=1), "private_beta"),
        (Phase.PRIVATE_BETA, DATES[Phase.INTERNAL] - timedelta(hours=1), "internal"),
    ],
    ids=["ga-before-public-beta", "internal-after-private-beta", "private-beta-before-internal"],
)
def test_reschedule_out_of_phase_order_is_refused_and_changes_nothing(planned, actor, phase, new_at, neighbour):
    session, rollout_id, ids, dates = planned
    before = snapshot(session, rollout_id, ids, dates)

    with pytest.raises(InvalidInput) as caught:
        reschedule_phase(session=session, rollout_id=rollout_id, phase=phase, new_at=new_at, actor=actor, reason="oops")

    assert caught.value.field == "new_at"
    assert neighbour in caught.value.problem
    assert "move that first" in caught.value.problem
    assert snapshot(session, rollout_id, ids, dates) == before


def test_reschedule_with_a_stale_version_is_refused_naming_the_launch_and_region(planned, actor):
    session, rollout_id, ids, dates = planned
    before = snapshot(session, rollout_id, ids, dates)

    with pytest.raises(StaleVersion) as refused:
        reschedule_phase(
            session=session,
            rollout_id=rollout_id,
            phase=Phase.INTERNAL,
            new_at=BASE + timedelta(days=1),
            actor=actor,
            reason="slip",
            expected_version=before[0]["version"] - 1,
        )

    assert refused.value.message.startswith("region 'acme-assistant EU' changed since you read it")
    assert snapshot(session, rollout_id, ids, dates) == before


def test_rescheduling_a_phase_the_region_skips_says_so_naming_launch_and_region_not_the_rollout_id(seeded, actor):
    launch = make_launch(seeded, actor, dates={Phase.GA: BASE})
    (rollout_id,) = [r.id for r in rows(seeded, select(RegionRollout).where(RegionRollout.launch_id == launch.id))]

    with pytest.raises(InvalidInput) as refused:
        reschedule_phase(
            session=seeded, rollout_id=rollout_id, phase=Phase.INTERNAL, new_at=BASE, actor=actor, reason="x"
        )

    assert refused.value.problem == "acme-assistant EU skips internal, so it has no date to move (its phases: ga)"
    assert "rollout" not in refused.value.message
