"""Races on a region's rollout on real databases: concurrent advances move it once (or one is
stale), and two regions going live together complete the launch once.

Writers are released together by a barrier, each on its own session (tests/support/race.py). No
clock freezing here (freezegun is not thread-safe): phase dates are real dates in the past."""

import contextlib
import threading

import pytest
from sqlalchemy import event, func, select

from orchestrator.core.enums import GateKind, GateStatus, LaunchStatus, Phase, RolloutState, Vote
from orchestrator.core.errors import StaleVersion
from orchestrator.core.models import AuditEvent, Gate, Launch, Outbox, RegionRollout
from orchestrator.gates.approvals import cast_vote
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import advance_phase, mark_live, set_exposure
from tests.support.db import fresh, rollout_id, rows
from tests.support.factories import item, make_launch, past_dates
from tests.support.race import race


def count(session, model, action):
    total = session.execute(select(func.count()).where(model.action == action)).scalar_one()
    session.commit()
    return total


def live_in_internal(session, actor):
    """An EU launch live in its internal phase, with a blocking item that holds private beta."""
    launch = make_launch(session, actor, dates=past_dates(), items=[item("beta_cohort", phase=Phase.PRIVATE_BETA)])
    rid = rollout_id(session, launch)
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    set_exposure(session=session, rollout_id=rid, phase=Phase.INTERNAL, percent=100, actor=actor)
    mark_live(session=session, rollout_id=rid, phase=Phase.INTERNAL, actor=actor)
    row = fresh(session, RegionRollout, rid)
    assert (row["state"], row["phase"]) == (RolloutState.LIVE, Phase.INTERNAL)
    return launch, rid, row["version"]


def gated_events_into(session, rid, phase):
    events = rows(
        session,
        select(AuditEvent).where(
            AuditEvent.action == "rollout.gated", AuditEvent.entity_id == rid, AuditEvent.entity == "rollout"
        ),
    )
    return [e for e in events if (e.after or {}).get("phase") == phase.value]


def assert_advanced_once(session, rid, version):
    row = fresh(session, RegionRollout, rid)
    assert (row["state"], row["phase"], row["percent"]) == (RolloutState.GATED, Phase.PRIVATE_BETA, 0)
    assert row["version"] == version + 1
    assert len(gated_events_into(session, rid, Phase.PRIVATE_BETA)) == 1
    messages = rows(session, select(Outbox).where(Outbox.topic == "rollout.gated"))
    assert [m.payload["phase"] for m in messages] == ["private_beta"]
    gates = {g.kind: g for g in rows(session, select(Gate).where(Gate.phase == Phase.PRIVATE_BETA))}
    assert gates[GateKind.CHECKLIST].status is GateStatus.OPEN  # the beta cohort item is still open
    assert gates[GateKind.TIME].status is GateStatus.PASSED
    passed = rows(session, select(AuditEvent).where(AuditEvent.action == "gate.passed"))
    assert [e.entity_id for e in passed].count(gates[GateKind.TIME].id) == 1


# ---- races -----------------------------------------------------------------------------------


def test_two_concurrent_advances_move_the_region_exactly_once(engine, seeded, actor):
    _launch, rid, version = live_in_internal(seeded, actor)

    def advance(session):
        return advance_phase(session=session, rollout_id=rid, from_phase=Phase.INTERNAL, actor=actor).version

    outcomes = race(engine, [advance, advance])

    assert outcomes == [version + 1, version + 1]  # the loser saw it done and wrote nothing
    assert_advanced_once(seeded, rid, version)


def test_two_concurrent_advances_at_the_same_version_one_wins_one_is_stale(engine, seeded, actor):
    _launch, rid, version = live_in_internal(seeded, actor)

    def advance(session):
        return advance_phase(
            session=session, rollout_id=rid, from_phase=Phase.INTERNAL, actor=actor, expected_version=version
        ).version

    outcomes = race(engine, [advance, advance])

    assert [o for o in outcomes if not isinstance(o, StaleVersion)] == [version + 1]
    (stale,) = [o for o in outcomes if isinstance(o, StaleVersion)]
    assert (stale.expected, stale.actual) == (version, version + 1)
    assert_advanced_once(seeded, rid, version)


def test_two_regions_going_live_together_complete_the_launch(engine, seeded, actor):
    """Both regions reach their last phase at once; each commit is held until both have read the
    launch's regions, which is what happens on PostgreSQL when two flows finish together."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE; this interleaving cannot happen")
    launch = make_launch(seeded, actor, regions=("EU", "NA"), dates=past_dates(phases={Phase.GA}))
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    rids = [rollout_id(seeded, launch, region) for region in ("EU", "NA")]
    for rid in rids:
        (approval,) = rows(seeded, select(Gate).where(Gate.rollout_id == rid, Gate.kind == GateKind.APPROVAL))
        cast_vote(
            session=seeded,
            gate_id=approval.id,
            on_behalf_of="vp@example.com",
            on_behalf_reason="go/no-go meeting",
            vote=Vote.GO,
            actor=actor,
        )
        set_exposure(session=seeded, rollout_id=rid, phase=Phase.GA, percent=100, actor=actor)
    committing = threading.Barrier(2)

    def hold_commit_for_the_other(session):
        # A correct implementation serialises the two; then this wait times out and both go on.
        with contextlib.suppress(threading.BrokenBarrierError):
            committing.wait(timeout=2)

    def prepare(session):
        event.listen(session, "before_commit", hold_commit_for_the_other)

    def go_live(rid):
        return lambda session: mark_live(session=session, rollout_id=rid, phase=Phase.GA, actor=actor).state

    outcomes = race(engine, [go_live(rid) for rid in rids], prepare=prepare)

    assert outcomes == [RolloutState.LIVE, RolloutState.LIVE]
    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.COMPLETED
    assert count(seeded, AuditEvent, "launch.completed") == 1
