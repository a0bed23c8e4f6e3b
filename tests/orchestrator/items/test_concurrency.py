"""Races on check-offs on real databases: concurrent check-offs of a gate's items pass it once.

Writers are released together by a barrier, each on its own session (tests/support/race.py). No
clock freezing here (freezegun is not thread-safe): phase dates are real dates in the past."""

from sqlalchemy import select

from orchestrator.core.enums import GateKind, GateStatus, ItemStatus, Phase, RolloutState
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Outbox, RegionRollout
from orchestrator.items.service import check_item
from orchestrator.launches.service import kick_off_launch
from tests.support.db import fresh, rollout_id, rows
from tests.support.factories import item, make_launch, past_dates
from tests.support.race import race


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
