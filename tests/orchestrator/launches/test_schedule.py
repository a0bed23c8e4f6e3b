"""Rescheduling phase dates and go/no-go votes on approval gates, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, Phase, RolloutState, Vote
from orchestrator.core.errors import IllegalTransition, InvalidInput, NotFound, StaleVersion
from orchestrator.core.models import (
    AuditEvent,
    ChecklistItem,
    Decision,
    Gate,
    Outbox,
    PhaseDate,
    PhaseDateChange,
    RegionRollout,
)
from orchestrator.gates.approvals import cast_vote
from orchestrator.items.service import check_item
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from tests.support.factories import BASE, item, make_launch, phase_dates

BERLIN = ZoneInfo("Europe/Berlin")
DATES = phase_dates()  # internal 03-01, private beta 03-15, public beta 03-29, GA 04-12 (09:00 UTC)


# ---- helpers ---------------------------------------------------------------------------------


def fresh(session, model, row_id):
    row = session.execute(
        select(model).where(model.id == row_id).execution_options(populate_existing=True)
    ).scalar_one()
    session.commit()  # end the read: SQLite's BEGIN IMMEDIATE holds the write lock until then
    return row.model_dump()


def rows(session, statement):
    found = list(session.execute(statement.execution_options(populate_existing=True)).scalars())
    session.commit()
    return found


def ledger(session):
    counts = (
        session.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
        session.execute(select(func.count()).select_from(Outbox)).scalar_one(),
    )
    session.commit()
    return counts


def audit(session, action):
    return rows(session, select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))


def outbox(session, topic):
    return rows(session, select(Outbox).where(Outbox.topic == topic).order_by(Outbox.id))


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


def test_reschedule_with_a_stale_version_is_refused(planned, actor):
    session, rollout_id, ids, dates = planned
    before = snapshot(session, rollout_id, ids, dates)

    with pytest.raises(StaleVersion):
        reschedule_phase(
            session=session,
            rollout_id=rollout_id,
            phase=Phase.INTERNAL,
            new_at=BASE + timedelta(days=1),
            actor=actor,
            reason="slip",
            expected_version=before[0]["version"] - 1,
        )

    assert snapshot(session, rollout_id, ids, dates) == before


def test_rescheduling_a_phase_the_region_skips_is_not_found(seeded, actor):
    launch = make_launch(seeded, actor, dates={Phase.GA: BASE})
    (rollout_id,) = [r.id for r in rows(seeded, select(RegionRollout).where(RegionRollout.launch_id == launch.id))]

    with pytest.raises(NotFound, match="internal date"):
        reschedule_phase(
            session=seeded, rollout_id=rollout_id, phase=Phase.INTERNAL, new_at=BASE, actor=actor, reason="x"
        )


# ---- votes -----------------------------------------------------------------------------------

A, B, C = "ana@example.com", "ben@example.com", "cho@example.com"
LATER = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def approval(seeded, actor, request):
    """A GA-only EU launch, kicked off with its date in the past: only the approval gate is open.

    Parametrize indirectly with the approvers' emails (default: none named).
    """
    approvers = getattr(request, "param", [])
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    launch = make_launch(seeded, actor, dates={Phase.GA: past}, approvers=approvers)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    (rollout_id,) = [r.id for r in rows(seeded, select(RegionRollout))]
    gates = {g.kind: g for g in rows(seeded, select(Gate))}
    assert gates[GateKind.CHECKLIST].status is GateStatus.PASSED
    assert gates[GateKind.TIME].status is GateStatus.PASSED
    assert gates[GateKind.APPROVAL].status is GateStatus.OPEN
    return seeded, rollout_id, gates[GateKind.APPROVAL].id, gates[GateKind.CHECKLIST].id


def vote(session, actor, gate_id, voter, choice, **extra):
    return cast_vote(session=session, gate_id=gate_id, voter=voter, vote=choice, actor=actor, **extra)


def gate_status(session, gate_id):
    return fresh(session, Gate, gate_id)["status"]


def state_of(session, rollout_id, gate_id):
    return (
        fresh(session, RegionRollout, rollout_id),
        fresh(session, Gate, gate_id),
        rows(session, select(Decision.id)),
        ledger(session),
    )


def test_a_go_vote_passes_an_approval_gate_without_named_approvers(approval, actor):
    session, rollout_id, gate_id, _ = approval

    decision = vote(session, actor, gate_id, A, Vote.GO, comment="ship it")

    assert gate_status(session, gate_id) is GateStatus.PASSED
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.READY
    assert (decision.voter, decision.vote, decision.comment) == (A, Vote.GO, "ship it")
    (event,) = audit(session, "decision.cast")
    assert event.after == {"vote": "go", "voter": A, "phase": "ga"}
    assert len(outbox(session, "decision.go")) == 1


@pytest.mark.parametrize(
    ("conditions", "risk_accepted_by"),
    [(None, None), ("support staffed 24/7", None), ("  ", B)],
    ids=["neither", "no-risk-owner", "blank-conditions"],
)
def test_conditional_go_needs_conditions_and_who_accepts_the_risk(approval, actor, conditions, risk_accepted_by):
    session, rollout_id, gate_id, _ = approval
    before = state_of(session, rollout_id, gate_id)

    with pytest.raises(InvalidInput) as caught:
        vote(session, actor, gate_id, A, Vote.CONDITIONAL_GO, conditions=conditions, risk_accepted_by=risk_accepted_by)

    assert caught.value.field == "conditions"
    assert state_of(session, rollout_id, gate_id) == before


def test_conditional_go_with_conditions_counts_as_go_and_keeps_them(approval, actor):
    session, rollout_id, gate_id, _ = approval

    vote(session, actor, gate_id, A, Vote.CONDITIONAL_GO, conditions="support staffed 24/7", risk_accepted_by=B)

    (decision,) = rows(session, select(Decision))
    assert (decision.vote, decision.conditions, decision.risk_accepted_by) == (
        Vote.CONDITIONAL_GO,
        "support staffed 24/7",
        B,
    )
    assert gate_status(session, gate_id) is GateStatus.PASSED
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.READY


@pytest.mark.parametrize("reevaluate_at", [None, datetime(2030, 1, 15, 9, 0)], ids=["missing", "naive"])
def test_no_go_needs_an_aware_reevaluation_date(approval, actor, reevaluate_at):
    session, rollout_id, gate_id, _ = approval
    before = state_of(session, rollout_id, gate_id)

    with pytest.raises(InvalidInput) as caught:
        vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=reevaluate_at)

    assert caught.value.field == "reevaluate_at"
    assert state_of(session, rollout_id, gate_id) == before


def test_no_go_sets_the_regions_reevaluation_date_and_keeps_the_gate_closed(approval, actor):
    session, rollout_id, gate_id, _ = approval

    vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER, comment="churn risk")

    rollout = fresh(session, RegionRollout, rollout_id)
    assert as_utc(rollout["reevaluate_at"]) == LATER
    assert rollout["state"] is RolloutState.GATED
    assert gate_status(session, gate_id) is GateStatus.OPEN
    (decision,) = rows(session, select(Decision))
    assert (decision.vote, as_utc(decision.reevaluate_at)) == (Vote.NO_GO, LATER)
    assert len(outbox(session, "decision.no_go")) == 1
    assert gate_id not in [e.entity_id for e in audit(session, "gate.passed")]


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_one_no_go_holds_the_gate_until_it_is_changed(approval, actor):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER)
    vote(session, actor, gate_id, B, Vote.GO)
    assert gate_status(session, gate_id) is GateStatus.OPEN

    vote(session, actor, gate_id, A, Vote.GO)

    assert gate_status(session, gate_id) is GateStatus.PASSED
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.READY
    changed = [e for e in audit(session, "decision.cast") if e.before is not None]
    assert [(e.before, e.after["vote"]) for e in changed] == [({"vote": "no_go"}, "go")]
    assert len(rows(session, select(Decision))) == 2  # one current vote per voter


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_withdrawing_the_last_no_go_clears_the_reevaluation_date(approval, actor):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER)
    vote(session, actor, gate_id, B, Vote.NO_GO, reevaluate_at=LATER)

    vote(session, actor, gate_id, A, Vote.GO)
    assert as_utc(fresh(session, RegionRollout, rollout_id)["reevaluate_at"]) == LATER  # B still says No-Go

    vote(session, actor, gate_id, B, Vote.GO)
    assert fresh(session, RegionRollout, rollout_id)["reevaluate_at"] is None


@pytest.mark.parametrize("approval", [[A, B, C]], indirect=True)
def test_with_named_approvers_the_gate_passes_only_after_all_voted_go(approval, actor):
    session, rollout_id, gate_id, _ = approval

    vote(session, actor, gate_id, A, Vote.GO)
    assert gate_status(session, gate_id) is GateStatus.OPEN
    vote(session, actor, gate_id, B, Vote.CONDITIONAL_GO, conditions="rollback drill done", risk_accepted_by=B)
    assert gate_status(session, gate_id) is GateStatus.OPEN
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.GATED

    vote(session, actor, gate_id, C, Vote.GO)

    assert gate_status(session, gate_id) is GateStatus.PASSED
    assert fresh(session, RegionRollout, rollout_id)["state"] is RolloutState.READY
    assert len(audit(session, "gate.passed")) == 3  # checklist and time at kick-off, approval now


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_a_non_approver_is_refused_and_nothing_is_recorded(approval, actor):
    session, rollout_id, gate_id, _ = approval
    before = state_of(session, rollout_id, gate_id)

    with pytest.raises(InvalidInput) as caught:
        vote(session, actor, gate_id, C, Vote.GO)

    assert caught.value.field == "voter"
    assert A in caught.value.problem
    assert B in caught.value.problem
    assert state_of(session, rollout_id, gate_id) == before


def test_a_vote_on_a_passed_gate_is_refused_and_nothing_is_recorded(approval, actor):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.GO)
    before = state_of(session, rollout_id, gate_id)

    with pytest.raises(IllegalTransition) as caught:
        vote(session, actor, gate_id, B, Vote.NO_GO, reevaluate_at=LATER)

    assert caught.value.current == "passed"
    assert caught.value.allowed == []
    assert state_of(session, rollout_id, gate_id) == before


def test_votes_go_to_approval_gates_only(approval, actor):
    session, rollout_id, _gate_id, checklist_gate_id = approval
    before = state_of(session, rollout_id, checklist_gate_id)

    with pytest.raises(InvalidInput) as caught:
        vote(session, actor, checklist_gate_id, A, Vote.GO)

    assert caught.value.field == "gate_id"
    assert state_of(session, rollout_id, checklist_gate_id) == before


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_the_same_vote_twice_is_recorded_once(approval, actor):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.GO, comment="lgtm")
    before = state_of(session, rollout_id, gate_id)

    vote(session, actor, gate_id, A, Vote.GO, comment="lgtm")

    assert state_of(session, rollout_id, gate_id) == before
    assert len(audit(session, "decision.cast")) == 1


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_the_same_no_go_repeated_from_a_new_session_is_recorded_once(approval, actor, engine):
    session, rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER)
    before = state_of(session, rollout_id, gate_id)

    with Session(engine, expire_on_commit=False) as retry:  # e.g. a Slack retry in a new request
        vote(retry, actor, gate_id, A, Vote.NO_GO, reevaluate_at=LATER)

    assert state_of(session, rollout_id, gate_id) == before
    assert len(audit(session, "decision.cast")) == 1


@pytest.mark.parametrize("approval", [[A, B]], indirect=True)
def test_changing_who_accepts_the_risk_replaces_the_conditional_go(approval, actor):
    session, _rollout_id, gate_id, _ = approval
    vote(session, actor, gate_id, A, Vote.CONDITIONAL_GO, conditions="on-call doubled", risk_accepted_by=A)

    vote(session, actor, gate_id, A, Vote.CONDITIONAL_GO, conditions="on-call doubled", risk_accepted_by=C)

    (decision,) = rows(session, select(Decision))
    assert decision.risk_accepted_by == C
    assert len(audit(session, "decision.cast")) == 2
