"""Races over real HTTP: 200 check-offs from 20 clients at once lose nothing and audit each once.

The clients start together at a barrier, each on its own connection. No clock freezing here
(freezegun is not thread-safe): phase dates are real dates in the past."""

import threading

from sqlalchemy import select

from orchestrator.core.enums import GateKind, GateStatus, ItemStatus, Phase, RolloutState
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Outbox, RegionRollout
from orchestrator.launches.service import kick_off_launch
from tests.support.db import fresh, rollout_id, rows
from tests.support.factories import item, make_launch, past_dates
from tests.support.race import TIMEOUT


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
