"""The region rollout state machine through its services, on SQLite and PostgreSQL.

Every refused change is checked to leave the rollout row, the audit ledger and the outbox exactly as
they were; every repeated change is checked to write nothing.
"""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from orchestrator.core.enums import GateKind, GateStatus, LaunchStatus, Phase, RolloutState
from orchestrator.core.errors import AlreadyInState, IllegalTransition, InvalidInput, StaleVersion
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Launch, Outbox, RegionRollout
from orchestrator.items.service import check_item
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import (
    advance_phase,
    evaluate_rollout,
    halt_region,
    mark_live,
    resume_region,
    roll_back_region,
    set_exposure,
)
from tests.support.db import fresh, ledger, rollout_id
from tests.support.db import gate_of as gate
from tests.support.factories import BASE, item, make_launch, past_dates
from tests.support.rollouts import approve, go_live

S = RolloutState


def audit_actions(session):
    actions = list(session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
    session.commit()
    return actions


def outbox_topics(session):
    topics = list(session.execute(select(Outbox.topic).order_by(Outbox.id)).scalars())
    session.commit()
    return topics


def item_id(session, key):
    found = session.execute(select(ChecklistItem.id).where(ChecklistItem.key == key)).scalar_one()
    session.commit()
    return found


def drive(session, actor, to, *, percent=25):
    """A one-region (EU) launch with dates in the past, brought to ``to`` in the internal phase.

    "draft" stops before kick-off; GATED keeps one blocking item open; the others check it.
    """
    launch = make_launch(session, actor, dates=past_dates(), items=[item("press_kit")])
    rid = rollout_id(session, launch)
    if to == "draft":
        return launch, rid
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    if to is S.GATED:
        return launch, rid
    check_item(session=session, item_id=item_id(session, "press_kit"), actor=actor)
    if to is S.READY:
        return launch, rid
    set_exposure(session=session, rollout_id=rid, phase=Phase.INTERNAL, percent=percent, actor=actor)
    if to is S.ROLLING_OUT:
        return launch, rid
    assert to is S.LIVE
    go_live(session, actor, rid, Phase.INTERNAL)
    return launch, rid


def assert_unchanged(session, rid, before_row, before_ledger):
    assert fresh(session, RegionRollout, rid) == before_row
    assert ledger(session) == before_ledger


# ---- the happy path --------------------------------------------------------------------------


def test_launch_walks_every_phase_to_completion(seeded, actor):
    items = [item(f"ready_for_{phase.value}", phase=phase) for phase in Phase.ordered()]
    launch = make_launch(seeded, actor, dates=past_dates(), items=items)
    rid = rollout_id(seeded, launch)
    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.DRAFT
    start = fresh(seeded, RegionRollout, rid)
    assert (start["state"], start["phase"], start["percent"]) == (S.PLANNED, None, 0)

    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.ACTIVE

    for phase in Phase.ordered():
        row = fresh(seeded, RegionRollout, rid)
        assert (row["state"], row["phase"], row["percent"]) == (S.GATED, phase, 0), phase

        check_item(session=seeded, item_id=item_id(seeded, f"ready_for_{phase.value}"), actor=actor)
        if phase is Phase.GA:  # tier 2: GA also waits for a go/no-go vote
            assert fresh(seeded, RegionRollout, rid)["state"] is S.GATED
            approve(seeded, actor, rid, phase)
        assert fresh(seeded, RegionRollout, rid)["state"] is S.READY
        assert {g.status for g in _gates(seeded, rid, phase)} == {GateStatus.PASSED}

        for percent in (5, 25, 100):
            set_exposure(session=seeded, rollout_id=rid, phase=phase, percent=percent, actor=actor)
            row = fresh(seeded, RegionRollout, rid)
            assert (row["state"], row["phase"], row["percent"]) == (S.ROLLING_OUT, phase, percent)

        mark_live(session=seeded, rollout_id=rid, phase=phase, actor=actor)
        row = fresh(seeded, RegionRollout, rid)
        assert (row["state"], row["phase"], row["percent"]) == (S.LIVE, phase, 100)

        if phase is not Phase.GA:
            assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.ACTIVE
            advance_phase(session=seeded, rollout_id=rid, from_phase=phase, actor=actor)

    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.COMPLETED
    assert audit_actions(seeded).count("launch.completed") == 1
    assert outbox_topics(seeded).count("launch.completed") == 1
    assert audit_actions(seeded).count("rollout.live") == 4


def _gates(session, rid, phase):
    gates = list(
        session.execute(
            select(Gate).where(Gate.rollout_id == rid, Gate.phase == phase).execution_options(populate_existing=True)
        ).scalars()
    )
    session.commit()
    return gates


def test_advancing_out_of_the_last_phase_is_refused_and_changes_nothing(seeded, actor):
    launch = make_launch(seeded, actor, dates=past_dates(phases={Phase.GA}))
    rid = rollout_id(seeded, launch)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    approve(seeded, actor, rid, Phase.GA)
    go_live(seeded, actor, rid, Phase.GA)
    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.COMPLETED
    before_row, before_ledger = fresh(seeded, RegionRollout, rid), ledger(seeded)

    with pytest.raises(IllegalTransition, match="last phase"):
        advance_phase(session=seeded, rollout_id=rid, from_phase=Phase.GA, actor=actor)

    assert_unchanged(seeded, rid, before_row, before_ledger)


def test_a_region_skips_phases_it_has_no_date_for(seeded, actor):
    launch = make_launch(seeded, actor, dates=past_dates(phases={Phase.INTERNAL, Phase.PUBLIC_BETA}))
    rid = rollout_id(seeded, launch)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    go_live(seeded, actor, rid, Phase.INTERNAL)

    advance_phase(session=seeded, rollout_id=rid, from_phase=Phase.INTERNAL, actor=actor)

    row = fresh(seeded, RegionRollout, rid)
    assert (row["state"], row["phase"]) == (S.READY, Phase.PUBLIC_BETA)
    with pytest.raises(InvalidInput) as caught:
        advance_phase(session=seeded, rollout_id=rid, from_phase=Phase.PRIVATE_BETA, actor=actor)
    assert caught.value.field == "from_phase"


def test_launch_completes_only_when_every_region_is_live_in_its_last_phase(seeded, actor):
    launch = make_launch(
        seeded,
        actor,
        regions=("EU", "NA"),
        dates=past_dates(phases={Phase.INTERNAL, Phase.GA}),
    )
    eu, na = rollout_id(seeded, launch, "EU"), rollout_id(seeded, launch, "NA")
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    for rid in (eu, na):
        go_live(seeded, actor, rid, Phase.INTERNAL)
    advance_phase(session=seeded, rollout_id=eu, from_phase=Phase.INTERNAL, actor=actor)
    approve(seeded, actor, eu, Phase.GA)
    go_live(seeded, actor, eu, Phase.GA)

    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.ACTIVE  # NA is live in internal only

    advance_phase(session=seeded, rollout_id=na, from_phase=Phase.INTERNAL, actor=actor)
    approve(seeded, actor, na, Phase.GA)
    go_live(seeded, actor, na, Phase.GA)

    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.COMPLETED
    assert audit_actions(seeded).count("launch.completed") == 1


def test_launch_completes_when_the_last_region_is_resumed_live_in_its_last_phase(seeded, actor):
    launch = make_launch(seeded, actor, regions=("EU", "NA"), dates=past_dates(phases={Phase.GA}))
    eu, na = rollout_id(seeded, launch, "EU"), rollout_id(seeded, launch, "NA")
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    approve(seeded, actor, eu, Phase.GA)
    approve(seeded, actor, na, Phase.GA)
    go_live(seeded, actor, eu, Phase.GA)
    halt_region(session=seeded, rollout_id=eu, actor=actor, reason="error budget burn")
    go_live(seeded, actor, na, Phase.GA)  # EU is halted, so the launch is not complete yet
    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.ACTIVE

    resume_region(session=seeded, rollout_id=eu, actor=actor, reason="fixed")
    mark_live(session=seeded, rollout_id=eu, phase=Phase.GA, actor=actor)  # even asking again

    assert {fresh(seeded, RegionRollout, rid)["state"] for rid in (eu, na)} == {S.LIVE}
    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.COMPLETED


def test_time_gate_holds_a_region_until_the_sweep_runs_after_the_phase_date(seeded, actor):
    launch = make_launch(seeded, actor)  # dates from factories.BASE
    rid = rollout_id(seeded, launch)
    with freeze_time(BASE - timedelta(days=1)):
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    assert gate(seeded, rid, Phase.INTERNAL, GateKind.CHECKLIST).status is GateStatus.PASSED
    assert gate(seeded, rid, Phase.INTERNAL, GateKind.TIME).status is GateStatus.OPEN
    assert fresh(seeded, RegionRollout, rid)["state"] is S.GATED

    before_row, before_ledger = fresh(seeded, RegionRollout, rid), ledger(seeded)
    with freeze_time(BASE - timedelta(minutes=1)):
        evaluate_rollout(session=seeded, rollout_id=rid, actor=actor)
    assert_unchanged(seeded, rid, before_row, before_ledger)

    with freeze_time(BASE):
        evaluate_rollout(session=seeded, rollout_id=rid, actor=actor)
    assert gate(seeded, rid, Phase.INTERNAL, GateKind.TIME).status is GateStatus.PASSED
    assert fresh(seeded, RegionRollout, rid)["state"] is S.READY
    assert outbox_topics(seeded).count("rollout.ready") == 1


# ---- repeats are no-ops ----------------------------------------------------------------------


def _kick_off(session, actor, launch, rid):
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)


def _ramp_to_25(session, actor, launch, rid):
    set_exposure(session=session, rollout_id=rid, phase=Phase.INTERNAL, percent=25, actor=actor)


def _mark_live(session, actor, launch, rid):
    mark_live(session=session, rollout_id=rid, phase=Phase.INTERNAL, actor=actor)


def _advance(session, actor, launch, rid):
    advance_phase(session=session, rollout_id=rid, from_phase=Phase.INTERNAL, actor=actor)


def _halt(session, actor, launch, rid):
    halt_region(session=session, rollout_id=rid, actor=actor, reason="incident 42")


def _roll_back(session, actor, launch, rid):
    roll_back_region(session=session, rollout_id=rid, actor=actor, reason="error rate")


REPEATABLE = [
    pytest.param("draft", {}, _kick_off, id="kick_off"),
    pytest.param(S.READY, {}, _ramp_to_25, id="set_exposure"),
    pytest.param(S.ROLLING_OUT, {"percent": 100}, _mark_live, id="mark_live"),
    pytest.param(S.LIVE, {}, _advance, id="advance_phase"),
]


@pytest.mark.parametrize(("start", "options", "step"), REPEATABLE)
def test_repeating_a_step_writes_no_second_audit_event_or_outbox_row(seeded, actor, start, options, step):
    launch, rid = drive(seeded, actor, start, **options)
    counts_before = ledger(seeded)
    step(seeded, actor, launch, rid)
    counts_after_first = ledger(seeded)
    assert counts_after_first[0] > counts_before[0]
    assert counts_after_first[1] > counts_before[1]
    row, launch_row = fresh(seeded, RegionRollout, rid), fresh(seeded, Launch, launch.id)

    step(seeded, actor, launch, rid)

    assert ledger(seeded) == counts_after_first
    assert fresh(seeded, RegionRollout, rid) == row
    assert fresh(seeded, Launch, launch.id) == launch_row


def _resume(session, actor, launch, rid):
    resume_region(session=session, rollout_id=rid, actor=actor, reason="mitigated")


def _halt_again(session, actor, launch, rid):
    halt_region(session=session, rollout_id=rid, actor=actor, reason="a second, different reason")


def _roll_back_again(session, actor, launch, rid):
    roll_back_region(session=session, rollout_id=rid, actor=actor, reason="a second, different reason")


# The operator's brakes and resume share one rule for a repeat: refused (409), naming what stands.
REPEATED_BRAKES = [
    pytest.param(
        _halt,
        _halt_again,
        "acme-assistant EU is already halted (reason: 'incident 42'): this halt changed nothing and was not "
        "recorded; allowed from halted: resume, roll back",
        id="halt",
    ),
    pytest.param(
        _roll_back,
        _roll_back_again,
        "acme-assistant EU is already rolled back (reason: 'error rate'): this roll back changed nothing and was "
        "not recorded; allowed from rolled_back: resume",
        id="roll_back",
    ),
    pytest.param(
        _halt,
        _resume,
        "acme-assistant EU is already running (rolling_out): nothing to resume: this resume changed nothing and "
        "was not recorded; allowed from rolling_out: change exposure of, halt, mark live, roll back",
        id="resume",
    ),
]


@pytest.mark.parametrize(("first", "again", "message"), REPEATED_BRAKES)
def test_a_repeated_halt_roll_back_or_resume_is_refused_alike_naming_what_stands(seeded, actor, first, again, message):
    launch, rid = drive(seeded, actor, S.ROLLING_OUT)
    first(seeded, actor, launch, rid)
    if again is _resume:
        _resume(seeded, actor, launch, rid)
    before_row, before_ledger = fresh(seeded, RegionRollout, rid), ledger(seeded)

    with pytest.raises(AlreadyInState) as refused:
        again(seeded, actor, launch, rid)

    assert refused.value.message == message
    assert_unchanged(seeded, rid, before_row, before_ledger)


def test_asking_for_less_exposure_than_the_region_has_writes_nothing(seeded, actor):
    _launch, rid = drive(seeded, actor, S.ROLLING_OUT, percent=50)
    before_row, before_ledger = fresh(seeded, RegionRollout, rid), ledger(seeded)

    set_exposure(session=seeded, rollout_id=rid, phase=Phase.INTERNAL, percent=25, actor=actor)

    assert_unchanged(seeded, rid, before_row, before_ledger)


def test_advance_repeated_after_the_region_moved_on_is_a_no_op(seeded, actor):
    _launch, rid = drive(seeded, actor, S.LIVE)
    _advance(seeded, actor, None, rid)
    go_live(seeded, actor, rid, Phase.PRIVATE_BETA)
    advance_phase(session=seeded, rollout_id=rid, from_phase=Phase.PRIVATE_BETA, actor=actor)
    before_row, before_ledger = fresh(seeded, RegionRollout, rid), ledger(seeded)

    _advance(seeded, actor, None, rid)  # a stale retry of the first advance

    assert_unchanged(seeded, rid, before_row, before_ledger)
    assert before_row["phase"] is Phase.PUBLIC_BETA


# ---- halt, resume, roll back -----------------------------------------------------------------


@pytest.mark.parametrize("interrupted", [S.GATED, S.READY, S.ROLLING_OUT, S.LIVE])
def test_halt_then_resume_returns_to_the_exact_interrupted_state(seeded, actor, interrupted):
    _launch, rid = drive(seeded, actor, interrupted)
    before = fresh(seeded, RegionRollout, rid)

    halt_region(session=seeded, rollout_id=rid, actor=actor, reason="  incident 42  ")
    halted = fresh(seeded, RegionRollout, rid)
    assert halted["state"] is S.HALTED
    assert halted["halted_from"] is interrupted
    assert halted["halt_reason"] == "incident 42"
    assert (halted["phase"], halted["percent"]) == (before["phase"], before["percent"])

    resume_region(session=seeded, rollout_id=rid, actor=actor, reason="mitigated")
    resumed = fresh(seeded, RegionRollout, rid)
    assert (resumed["state"], resumed["phase"], resumed["percent"]) == (
        interrupted,
        before["phase"],
        before["percent"],
    )
    assert resumed["halted_from"] is None
    assert resumed["halt_reason"] is None
    assert resumed["version"] == before["version"] + 2
    assert audit_actions(seeded)[-2:] == ["rollout.halted", "rollout.resumed"]
    assert outbox_topics(seeded)[-2:] == ["rollout.halted", "rollout.resumed"]


def test_halt_is_audited_with_its_reason_and_actor(seeded, actor):
    _launch, rid = drive(seeded, actor, S.ROLLING_OUT)

    halt_region(session=seeded, rollout_id=rid, actor=actor, reason="incident 42")

    event = seeded.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    seeded.commit()
    assert (event.action, event.entity, event.entity_id) == ("rollout.halted", "rollout", rid)
    assert (event.actor, event.source, event.reason) == (actor.name, actor.source, "incident 42")
    assert event.before == {"state": "rolling_out", "phase": "internal", "percent": 25}
    assert event.after == {"state": "halted", "phase": "internal", "percent": 25}


def test_items_checked_while_halted_pass_the_gate_on_resume(seeded, actor):
    _launch, rid = drive(seeded, actor, S.GATED)
    halt_region(session=seeded, rollout_id=rid, actor=actor, reason="legal review")
    check_item(session=seeded, item_id=item_id(seeded, "press_kit"), actor=actor)
    assert gate(seeded, rid, Phase.INTERNAL, GateKind.CHECKLIST).status is GateStatus.OPEN
    assert fresh(seeded, RegionRollout, rid)["state"] is S.HALTED

    resume_region(session=seeded, rollout_id=rid, actor=actor)

    assert gate(seeded, rid, Phase.INTERNAL, GateKind.CHECKLIST).status is GateStatus.PASSED
    assert fresh(seeded, RegionRollout, rid)["state"] is S.READY


@pytest.mark.parametrize("brake", [halt_region, roll_back_region], ids=["halt", "roll_back"])
def test_halt_and_roll_back_need_a_reason(seeded, actor, brake):
    _launch, rid = drive(seeded, actor, S.ROLLING_OUT)
    before_row, before_ledger = fresh(seeded, RegionRollout, rid), ledger(seeded)

    with pytest.raises(InvalidInput) as caught:
        brake(session=seeded, rollout_id=rid, actor=actor, reason="   \t")

    assert caught.value.field == "reason"
    assert_unchanged(seeded, rid, before_row, before_ledger)


@pytest.mark.parametrize(("interrupted", "percent"), [(S.ROLLING_OUT, 25), (S.LIVE, 100)])
def test_roll_back_then_resume_re_ramps_from_ready(seeded, actor, interrupted, percent):
    _launch, rid = drive(seeded, actor, interrupted)
    assert fresh(seeded, RegionRollout, rid)["percent"] == percent

    roll_back_region(session=seeded, rollout_id=rid, actor=actor, reason="error rate 4%")
    rolled_back = fresh(seeded, RegionRollout, rid)
    assert (rolled_back["state"], rolled_back["phase"], rolled_back["percent"]) == (
        S.ROLLED_BACK,
        Phase.INTERNAL,
        0,
    )
    assert rolled_back["halted_from"] is interrupted
    assert rolled_back["halt_reason"] == "error rate 4%"

    resume_region(session=seeded, rollout_id=rid, actor=actor, reason="patched")
    resumed = fresh(seeded, RegionRollout, rid)
    assert (resumed["state"], resumed["phase"], resumed["percent"]) == (S.READY, Phase.INTERNAL, 0)
    assert (resumed["halted_from"], resumed["halt_reason"]) == (None, None)

    set_exposure(session=seeded, rollout_id=rid, phase=Phase.INTERNAL, percent=5, actor=actor)
    assert fresh(seeded, RegionRollout, rid)["state"] is S.ROLLING_OUT
    assert outbox_topics(seeded).count("rollout.rolled_back") == 1


def test_roll_back_of_a_gated_region_resumes_gated(seeded, actor):
    _launch, rid = drive(seeded, actor, S.GATED)
    roll_back_region(session=seeded, rollout_id=rid, actor=actor, reason="scope change")

    resume_region(session=seeded, rollout_id=rid, actor=actor)

    row = fresh(seeded, RegionRollout, rid)
    assert (row["state"], row["phase"]) == (S.GATED, Phase.INTERNAL)


def test_roll_back_of_a_halted_region_resumes_from_ready(seeded, actor):
    _launch, rid = drive(seeded, actor, S.LIVE)
    halt_region(session=seeded, rollout_id=rid, actor=actor, reason="incident")

    roll_back_region(session=seeded, rollout_id=rid, actor=actor, reason="incident got worse")
    assert fresh(seeded, RegionRollout, rid)["halted_from"] is S.LIVE  # what the halt interrupted

    resume_region(session=seeded, rollout_id=rid, actor=actor)
    row = fresh(seeded, RegionRollout, rid)
    assert (row["state"], row["percent"]) == (S.READY, 0)


# ---- refused changes change nothing ----------------------------------------------------------


ILLEGAL = [
    pytest.param(
        S.GATED,
        {},
        lambda s, a, rid: set_exposure(session=s, rollout_id=rid, phase=Phase.INTERNAL, percent=25, actor=a),
        IllegalTransition,
        ["halt", "pass the gates of", "roll back"],
        id="set_exposure-while-gated",
    ),
    pytest.param(
        S.ROLLING_OUT,
        {"percent": 50},
        lambda s, a, rid: mark_live(session=s, rollout_id=rid, phase=Phase.INTERNAL, actor=a),
        InvalidInput,
        "percent",
        id="mark_live-at-50-percent",
    ),
    pytest.param(
        S.READY,
        {},
        lambda s, a, rid: mark_live(session=s, rollout_id=rid, phase=Phase.INTERNAL, actor=a),
        IllegalTransition,
        ["change exposure of", "halt", "roll back"],
        id="mark_live-while-ready",
    ),
    pytest.param(
        S.ROLLING_OUT,
        {},
        lambda s, a, rid: advance_phase(session=s, rollout_id=rid, from_phase=Phase.INTERNAL, actor=a),
        IllegalTransition,
        ["change exposure of", "halt", "mark live", "roll back"],
        id="advance-while-rolling-out",
    ),
    pytest.param(
        S.READY,
        {},
        lambda s, a, rid: set_exposure(session=s, rollout_id=rid, phase=Phase.PRIVATE_BETA, percent=5, actor=a),
        IllegalTransition,
        [],
        id="ramp-a-phase-the-region-is-not-in",
    ),
    pytest.param(
        S.READY,
        {},
        lambda s, a, rid: resume_region(session=s, rollout_id=rid, actor=a),
        IllegalTransition,
        ["change exposure of", "halt", "roll back"],
        id="resume-a-running-region",
    ),
    pytest.param(
        "draft",
        {},
        lambda s, a, rid: halt_region(session=s, rollout_id=rid, actor=a, reason="why not"),
        IllegalTransition,
        ["kick off"],
        id="halt-before-kick-off",
    ),
    pytest.param(
        S.READY,
        {},
        lambda s, a, rid: set_exposure(session=s, rollout_id=rid, phase=Phase.INTERNAL, percent=101, actor=a),
        InvalidInput,
        "percent",
        id="exposure-above-100",
    ),
    pytest.param(
        S.READY,
        {},
        lambda s, a, rid: set_exposure(session=s, rollout_id=rid, phase=Phase.INTERNAL, percent=0, actor=a),
        InvalidInput,
        "percent",
        id="exposure-of-0",
    ),
]


@pytest.mark.parametrize(("start", "options", "attempt", "error", "detail"), ILLEGAL)
def test_illegal_change_raises_and_changes_nothing(seeded, actor, start, options, attempt, error, detail):
    _launch, rid = drive(seeded, actor, start, **options)
    before_row, before_ledger = fresh(seeded, RegionRollout, rid), ledger(seeded)

    with pytest.raises(error) as caught:
        attempt(seeded, actor, rid)

    if error is IllegalTransition:
        assert caught.value.allowed == detail
    else:
        assert caught.value.field == detail
    assert_unchanged(seeded, rid, before_row, before_ledger)


STALE = [
    pytest.param(
        S.READY,
        lambda s, a, rid, v: set_exposure(
            session=s, rollout_id=rid, phase=Phase.INTERNAL, percent=5, actor=a, expected_version=v
        ),
        id="set_exposure",
    ),
    pytest.param(
        S.ROLLING_OUT,
        lambda s, a, rid, v: halt_region(session=s, rollout_id=rid, actor=a, reason="incident", expected_version=v),
        id="halt",
    ),
    pytest.param(
        S.LIVE,
        lambda s, a, rid, v: advance_phase(
            session=s, rollout_id=rid, from_phase=Phase.INTERNAL, actor=a, expected_version=v
        ),
        id="advance_phase",
    ),
    pytest.param(
        S.LIVE,
        lambda s, a, rid, v: roll_back_region(session=s, rollout_id=rid, actor=a, reason="errors", expected_version=v),
        id="roll_back",
    ),
]


@pytest.mark.parametrize(("start", "attempt"), STALE)
def test_expected_version_mismatch_raises_stale_version_and_changes_nothing(seeded, actor, start, attempt):
    _launch, rid = drive(seeded, actor, start)
    before_row, before_ledger = fresh(seeded, RegionRollout, rid), ledger(seeded)
    stale = before_row["version"] - 1

    with pytest.raises(StaleVersion) as caught:
        attempt(seeded, actor, rid, stale)

    assert (caught.value.expected, caught.value.actual) == (stale, before_row["version"])
    assert "reload it and try again" in caught.value.message
    assert_unchanged(seeded, rid, before_row, before_ledger)

    attempt(seeded, actor, rid, before_row["version"])  # the current version goes through
    assert fresh(seeded, RegionRollout, rid)["version"] > before_row["version"]
