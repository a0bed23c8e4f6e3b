"""Races on real databases: writers released together by a barrier, each on its own session.

No clock freezing here (freezegun is not thread-safe): phase dates are real dates in the past.
"""

import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session

from orchestrator.core.enums import GateKind, GateStatus, ItemStatus, LaunchStatus, Phase, RolloutState, Vote
from orchestrator.core.errors import StaleVersion
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Launch, Outbox, Region, RegionRollout
from orchestrator.gates.approvals import cast_vote
from orchestrator.items.service import check_item
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import advance_phase, mark_live, set_exposure
from tests.support.factories import item, make_launch, phase_dates

TIMEOUT = 30  # seconds; SQLite writers queue on its 30 s busy timeout, so never wait less


# ---- helpers ---------------------------------------------------------------------------------


def past_dates(*, phases=None):
    dates = phase_dates(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60), step_days=7)
    return {phase: when for phase, when in dates.items() if phases is None or phase in phases}


def rows(session, statement):
    found = list(session.execute(statement.execution_options(populate_existing=True)).scalars())
    session.commit()  # end the read: SQLite's BEGIN IMMEDIATE would otherwise block the threads
    return found


def fresh(session, model, row_id):
    (row,) = rows(session, select(model).where(model.id == row_id))
    return row.model_dump()


def count(session, model, action):
    total = session.execute(select(func.count()).where(model.action == action)).scalar_one()
    session.commit()
    return total


def rollout_id(session, launch, region="EU"):
    (found,) = rows(
        session,
        select(RegionRollout)
        .join(Region, Region.id == RegionRollout.region_id)
        .where(RegionRollout.launch_id == launch.id, Region.code == region),
    )
    return found.id


def race(engine, calls, *, prepare=None):
    """Run each call on its own session and thread, all released at once; return what each
    returned or raised, in order."""
    start = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            with Session(engine, expire_on_commit=False) as session:
                if prepare is not None:
                    prepare(session)
                start.wait(timeout=TIMEOUT)
                outcomes[index] = call(session)
        except Exception as exc:  # noqa: BLE001 - handed to the test thread to assert on
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return outcomes


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


def test_six_concurrent_check_offs_pass_the_gate_exactly_once(engine, seeded, actor):
    keys = [f"task_{n}" for n in range(6)]
    launch = make_launch(seeded, actor, dates=past_dates(), items=[item(key) for key in keys])
    rid = rollout_id(seeded, launch)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    assert fresh(seeded, RegionRollout, rid)["state"] is RolloutState.GATED
    (checklist,) = rows(
        seeded,
        select(Gate).where(Gate.rollout_id == rid, Gate.phase == Phase.INTERNAL, Gate.kind == GateKind.CHECKLIST),
    )
    item_ids = [i.id for i in rows(seeded, select(ChecklistItem).order_by(ChecklistItem.id))]
    assert len(item_ids) == 6

    def checker(item_id):
        return lambda session: check_item(session=session, item_id=item_id, actor=actor).item.status

    outcomes = race(engine, [checker(item_id) for item_id in item_ids])

    assert outcomes == [ItemStatus.DONE] * 6
    assert fresh(seeded, Gate, checklist.id)["status"] is GateStatus.PASSED
    assert fresh(seeded, RegionRollout, rid)["state"] is RolloutState.READY
    passed = rows(seeded, select(AuditEvent).where(AuditEvent.action == "gate.passed"))
    assert [e.entity_id for e in passed].count(checklist.id) == 1
    assert len(rows(seeded, select(Outbox).where(Outbox.topic == "rollout.ready"))) == 1
    assert len(rows(seeded, select(Outbox).where(Outbox.topic == "gate.passed"))) == 2  # time, checklist
    assert len(rows(seeded, select(AuditEvent).where(AuditEvent.action == "item.checked"))) == 6


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
        cast_vote(session=seeded, gate_id=approval.id, voter="vp@example.com", vote=Vote.GO, actor=actor)
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


def test_locking_a_launch_does_not_wait_for_inserts_that_reference_it(engine, seeded, actor):
    """Audit and outbox inserts take a KEY SHARE lock on their launch; the services' row lock must
    not wait on it, or two regions going live together deadlock (seen under load)."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no row locks; BEGIN IMMEDIATE serialises writers instead")
    from sqlalchemy import text

    from orchestrator.core.unit import lock

    launch = make_launch(seeded, actor, regions=("EU",), dates=past_dates(phases={Phase.GA}))
    with Session(engine) as inserting, Session(engine) as locking:
        inserting.add(AuditEvent(launch_id=launch.id, entity="launch", action="test.insert", actor="t", source="cli"))
        inserting.flush()  # holds KEY SHARE on the launch row until the transaction ends
        locking.execute(text("SET LOCAL lock_timeout = '2s'"))
        locked = lock(locking, Launch, launch.id, "launch")  # fails with LockNotAvailable if it waits
        assert locked.id == launch.id
        locking.rollback()
        inserting.rollback()


def test_200_check_offs_from_20_http_clients_lose_nothing_and_audit_each_once(
    engine, seeded, actor, api_server, tokens
):
    """20 clients, each with its own connection, check off 10 items apiece over real HTTP at once
    (and each repeats its first request, as a client retrying after a lost answer would)."""
    import httpx

    keys = [f"task_{n:03d}" for n in range(200)]
    launch = make_launch(seeded, actor, dates=past_dates(), items=[item(key) for key in keys])
    rid = rollout_id(seeded, launch)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    item_ids = [i.id for i in rows(seeded, select(ChecklistItem).order_by(ChecklistItem.id))]
    assert len(item_ids) == 200
    shares = [item_ids[client::20] for client in range(20)]
    start = threading.Barrier(20)
    answers = [[] for _ in range(20)]
    headers = {"Authorization": f"Bearer {tokens['prodops']}"}

    def client(index):
        with httpx.Client(base_url=api_server, headers=headers, timeout=TIMEOUT * 2) as http:
            start.wait(timeout=TIMEOUT)
            for item_id in [*shares[index], shares[index][0]]:
                answers[index].append(http.post(f"/api/v1/items/{item_id}/check", json={}).status_code)

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 4)
    assert not any(thread.is_alive() for thread in threads), "a client never finished"

    assert answers == [[200] * 11] * 20
    statuses = {row.id: row.status for row in rows(seeded, select(ChecklistItem))}
    assert set(statuses.values()) == {ItemStatus.DONE}
    checked = rows(seeded, select(AuditEvent).where(AuditEvent.action == "item.checked"))
    assert sorted(event.entity_id for event in checked) == sorted(item_ids)  # one each, none lost
    queued = rows(seeded, select(Outbox).where(Outbox.topic == "item.checked"))
    assert sorted(row.payload["item_id"] for row in queued) == sorted(item_ids)
    assert fresh(seeded, RegionRollout, rid)["state"] is RolloutState.READY
    (checklist,) = rows(
        seeded,
        select(Gate).where(Gate.rollout_id == rid, Gate.phase == Phase.INTERNAL, Gate.kind == GateKind.CHECKLIST),
    )
    assert fresh(seeded, Gate, checklist.id)["status"] is GateStatus.PASSED
    passed = rows(seeded, select(AuditEvent).where(AuditEvent.action == "gate.passed"))
    assert [e.entity_id for e in passed].count(checklist.id) == 1
    assert len(rows(seeded, select(Outbox).where(Outbox.topic == "rollout.ready"))) == 1
