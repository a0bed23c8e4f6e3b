"""Checklist item services and the gate consequences of each change, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, ItemStatus, Phase, RolloutState
from orchestrator.core.errors import IllegalTransition, InvalidInput, NotFound, PreconditionFailed, StaleVersion
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Member, RegionRollout, Waiver
from orchestrator.directory.seed import MemberSeed, SeedConfig
from orchestrator.directory.service import apply_seed
from orchestrator.items.details import assign_item
from orchestrator.items.service import block_item, check_item, mark_not_applicable, reopen_item, start_item, waive_item
from orchestrator.launches.service import kick_off_launch
from tests.support.db import audit, fresh, ledger, outbox, rows
from tests.support.factories import BASE, item, make_launch

AFTER_INTERNAL = BASE + timedelta(hours=1)  # the internal phase date has passed
BEFORE_INTERNAL = BASE - timedelta(days=2)
EVIDENCE = "https://wiki.example.com/launch/press-kit"


def ids_by_key(session, launch):
    statement = select(ChecklistItem.key, ChecklistItem.id).where(ChecklistItem.launch_id == launch.id)
    found = {key: item_id for key, item_id in session.execute(statement)}
    session.commit()
    return found


def setup(session, actor, *specs, kick_off_at=None):
    """A one-region (EU) launch with ``specs`` as its items; kicked off at ``kick_off_at`` if given."""
    launch = make_launch(session, actor, items=list(specs))
    if kick_off_at is not None:
        with freeze_time(kick_off_at):
            kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    keys = ids_by_key(session, launch)
    rollout = session.execute(select(RegionRollout.id).where(RegionRollout.launch_id == launch.id)).scalar_one()
    session.commit()
    return launch, rollout, keys


def gate(session, rollout_id, kind=GateKind.CHECKLIST, phase=Phase.INTERNAL):
    (found,) = rows(session, select(Gate).where(Gate.rollout_id == rollout_id, Gate.phase == phase, Gate.kind == kind))
    return found


def assert_unchanged(session, item_id, before_item, before_ledger):
    assert fresh(session, ChecklistItem, item_id) == before_item
    assert ledger(session) == before_ledger


# ---- single transitions ----------------------------------------------------------------------


def test_check_marks_the_item_done_with_who_when_and_evidence(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("press_kit"))
    item_id = keys["press_kit"]
    before = fresh(seeded, ChecklistItem, item_id)

    with freeze_time(AFTER_INTERNAL):
        check_item(session=seeded, item_id=item_id, actor=actor, evidence_url=f"  {EVIDENCE} ")

    after = fresh(seeded, ChecklistItem, item_id)
    assert after["status"] is ItemStatus.DONE
    assert after["evidence_url"] == EVIDENCE
    assert after["checked_by"] == actor.name
    assert as_utc(after["checked_at"]) == AFTER_INTERNAL
    assert after["version"] == before["version"] + 1
    (event,) = audit(seeded, "item.checked")
    assert (event.entity, event.entity_id, event.actor) == ("item", item_id, actor.name)
    assert event.before["status"] == "todo"
    assert event.after["status"] == "done"
    assert event.after["evidence_url"] == EVIDENCE
    (message,) = outbox(seeded, "item.checked")
    assert message.payload["item_id"] == item_id


def test_check_refuses_an_evidence_link_that_is_not_http(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("press_kit"))
    before_item, before_ledger = fresh(seeded, ChecklistItem, keys["press_kit"]), ledger(seeded)

    with pytest.raises(InvalidInput) as caught:
        check_item(session=seeded, item_id=keys["press_kit"], actor=actor, evidence_url="wiki/press-kit")

    assert caught.value.field == "evidence_url"
    assert_unchanged(seeded, keys["press_kit"], before_item, before_ledger)


def test_checking_twice_writes_one_audit_event(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("press_kit"))
    check_item(session=seeded, item_id=keys["press_kit"], actor=actor)
    before_item, before_ledger = fresh(seeded, ChecklistItem, keys["press_kit"]), ledger(seeded)

    check_item(session=seeded, item_id=keys["press_kit"], actor=actor)

    assert len(audit(seeded, "item.checked")) == 1
    assert len(outbox(seeded, "item.checked")) == 1
    assert_unchanged(seeded, keys["press_kit"], before_item, before_ledger)


def test_evidence_required_refuses_a_check_without_url_and_changes_nothing(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("dpia", team="legal", evidence=True))
    before_item, before_ledger = fresh(seeded, ChecklistItem, keys["dpia"]), ledger(seeded)

    with pytest.raises(PreconditionFailed, match=r"'dpia' needs an evidence link"):
        check_item(session=seeded, item_id=keys["dpia"], actor=actor)

    assert_unchanged(seeded, keys["dpia"], before_item, before_ledger)
    check_item(session=seeded, item_id=keys["dpia"], actor=actor, evidence_url=EVIDENCE)
    assert fresh(seeded, ChecklistItem, keys["dpia"])["status"] is ItemStatus.DONE


def test_depends_on_blocks_a_check_until_the_dependency_is_done(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("pricing_page"), item("announce", depends_on=("pricing_page",)))
    before_item, before_ledger = fresh(seeded, ChecklistItem, keys["announce"]), ledger(seeded)

    with pytest.raises(PreconditionFailed, match="depends on items not done yet: pricing_page"):
        check_item(session=seeded, item_id=keys["announce"], actor=actor)
    assert_unchanged(seeded, keys["announce"], before_item, before_ledger)

    check_item(session=seeded, item_id=keys["pricing_page"], actor=actor)
    check_item(session=seeded, item_id=keys["announce"], actor=actor)
    assert fresh(seeded, ChecklistItem, keys["announce"])["status"] is ItemStatus.DONE


def test_a_waived_dependency_no_longer_blocks(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("pricing_page"), item("announce", depends_on=("pricing_page",)))
    waive_item(session=seeded, item_id=keys["pricing_page"], actor=actor, reason="no price change")

    check_item(session=seeded, item_id=keys["announce"], actor=actor)

    assert fresh(seeded, ChecklistItem, keys["announce"])["status"] is ItemStatus.DONE


def test_reopen_clears_the_check_and_keeps_the_reason(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("press_kit"))
    check_item(session=seeded, item_id=keys["press_kit"], actor=actor)

    reopen_item(session=seeded, item_id=keys["press_kit"], actor=actor, reason="wrong logo")

    row = fresh(seeded, ChecklistItem, keys["press_kit"])
    assert row["status"] is ItemStatus.TODO
    assert (row["checked_by"], row["checked_at"]) == (None, None)
    (event,) = audit(seeded, "item.reopened")
    assert event.reason == "wrong logo"
    assert (event.before["status"], event.after["status"]) == ("done", "todo")


def test_start_block_and_restart_track_the_blocked_reason(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("press_kit"))
    item_id = keys["press_kit"]

    start_item(session=seeded, item_id=item_id, actor=actor)
    assert fresh(seeded, ChecklistItem, item_id)["status"] is ItemStatus.IN_PROGRESS

    before_item, before_ledger = fresh(seeded, ChecklistItem, item_id), ledger(seeded)
    with pytest.raises(InvalidInput) as caught:
        block_item(session=seeded, item_id=item_id, actor=actor, reason="  ")
    assert caught.value.field == "reason"
    assert_unchanged(seeded, item_id, before_item, before_ledger)

    block_item(session=seeded, item_id=item_id, actor=actor, reason="waiting on brand review")
    row = fresh(seeded, ChecklistItem, item_id)
    assert (row["status"], row["blocked_reason"]) == (ItemStatus.BLOCKED, "waiting on brand review")

    start_item(session=seeded, item_id=item_id, actor=actor)
    row = fresh(seeded, ChecklistItem, item_id)
    assert (row["status"], row["blocked_reason"]) == (ItemStatus.IN_PROGRESS, None)
    assert [
        e.action for e in rows(seeded, select(AuditEvent).where(AuditEvent.entity == "item").order_by(AuditEvent.id))
    ] == [
        "item.started",
        "item.blocked",
        "item.started",
    ]


def test_not_applicable_needs_a_reason_and_is_recorded(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("sku_setup", team="finance"))
    before_item, before_ledger = fresh(seeded, ChecklistItem, keys["sku_setup"]), ledger(seeded)

    with pytest.raises(InvalidInput):
        mark_not_applicable(session=seeded, item_id=keys["sku_setup"], actor=actor, reason="")
    assert_unchanged(seeded, keys["sku_setup"], before_item, before_ledger)

    mark_not_applicable(session=seeded, item_id=keys["sku_setup"], actor=actor, reason="no new SKU")
    row = fresh(seeded, ChecklistItem, keys["sku_setup"])
    assert (row["status"], row["checked_by"]) == (ItemStatus.NOT_APPLICABLE, actor.name)
    assert audit(seeded, "item.not_applicable")[0].reason == "no new SKU"


def test_waiver_creates_a_waiver_row_with_approver_and_reason(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("dpia", team="legal"))
    expires = BASE + timedelta(days=30)

    waive_item(session=seeded, item_id=keys["dpia"], actor=actor, reason="covered by 2026 DPIA", expires_at=expires)

    row = fresh(seeded, ChecklistItem, keys["dpia"])
    assert (row["status"], row["checked_by"]) == (ItemStatus.WAIVED, actor.name)
    (waiver,) = rows(seeded, select(Waiver).where(Waiver.item_id == keys["dpia"]))
    assert (waiver.approver, waiver.reason) == (actor.name, "covered by 2026 DPIA")
    assert as_utc(waiver.expires_at) == expires
    assert waiver.revoked_at is None
    assert audit(seeded, "item.waived")[0].reason == "covered by 2026 DPIA"


def test_waiver_without_a_reason_is_refused_and_writes_no_waiver(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("dpia", team="legal"))
    before_item, before_ledger = fresh(seeded, ChecklistItem, keys["dpia"]), ledger(seeded)

    with pytest.raises(InvalidInput) as caught:
        waive_item(session=seeded, item_id=keys["dpia"], actor=actor, reason=" ")

    assert caught.value.field == "reason"
    assert rows(seeded, select(Waiver)) == []
    assert_unchanged(seeded, keys["dpia"], before_item, before_ledger)


def test_reopening_a_waived_item_revokes_its_waiver(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("dpia", team="legal"))
    waive_item(session=seeded, item_id=keys["dpia"], actor=actor, reason="covered elsewhere")
    reopener = actor.__class__(name="lee@example.com", source=actor.source)

    reopen_item(session=seeded, item_id=keys["dpia"], actor=reopener, reason="not covered after all")

    assert fresh(seeded, ChecklistItem, keys["dpia"])["status"] is ItemStatus.TODO
    (waiver,) = rows(seeded, select(Waiver).where(Waiver.item_id == keys["dpia"]))
    assert waiver.revoked_at is not None
    assert waiver.revoked_by == "lee@example.com"


def test_a_closed_item_must_be_reopened_before_it_is_closed_another_way(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("press_kit"))
    check_item(session=seeded, item_id=keys["press_kit"], actor=actor)
    before_item, before_ledger = fresh(seeded, ChecklistItem, keys["press_kit"]), ledger(seeded)

    with pytest.raises(IllegalTransition) as caught:
        waive_item(session=seeded, item_id=keys["press_kit"], actor=actor, reason="meh")

    assert caught.value.allowed == ["reopen (todo)"]
    assert rows(seeded, select(Waiver)) == []
    assert_unchanged(seeded, keys["press_kit"], before_item, before_ledger)


def test_stale_item_version_is_refused_and_changes_nothing(seeded, actor):
    _launch, _rollout, keys = setup(seeded, actor, item("press_kit"))
    start_item(session=seeded, item_id=keys["press_kit"], actor=actor)
    before_item, before_ledger = fresh(seeded, ChecklistItem, keys["press_kit"]), ledger(seeded)

    with pytest.raises(StaleVersion):
        check_item(
            session=seeded,
            item_id=keys["press_kit"],
            actor=actor,
            expected_version=before_item["version"] - 1,
        )

    assert_unchanged(seeded, keys["press_kit"], before_item, before_ledger)


def test_an_unknown_item_is_not_found(seeded, actor):
    with pytest.raises(NotFound, match="checklist item 424242"):
        check_item(session=seeded, item_id=424242, actor=actor)


def test_assign_sets_and_clears_the_assignee(seeded, actor):
    apply_seed(
        session=seeded,
        config=SeedConfig(members=[MemberSeed(email="sam@example.com", name="Sam", team="marketing")]),
        actor=actor,
    )
    (sam,) = rows(seeded, select(Member).where(Member.email == "sam@example.com"))
    _launch, _rollout, keys = setup(seeded, actor, item("press_kit"))
    item_id = keys["press_kit"]

    assign_item(session=seeded, item_id=item_id, assignee_id=sam.id, actor=actor)
    assert fresh(seeded, ChecklistItem, item_id)["assignee_id"] == sam.id
    (event,) = audit(seeded, "item.assigned")
    assert (event.before, event.after) == ({"assignee_id": None}, {"assignee_id": sam.id})
    assert outbox(seeded, "item.assigned")[0].payload == {
        "item_id": item_id,
        "assignee_id": sam.id,
        "actor": actor.name,
    }

    before_item, before_ledger = fresh(seeded, ChecklistItem, item_id), ledger(seeded)
    assign_item(session=seeded, item_id=item_id, assignee_id=sam.id, actor=actor)  # same again
    assert_unchanged(seeded, item_id, before_item, before_ledger)

    with pytest.raises(NotFound, match="member"):
        assign_item(session=seeded, item_id=item_id, assignee_id=sam.id + 1000, actor=actor)
    assert_unchanged(seeded, item_id, before_item, before_ledger)

    assign_item(session=seeded, item_id=item_id, assignee_id=None, actor=actor)
    assert fresh(seeded, ChecklistItem, item_id)["assignee_id"] is None
    assert len(audit(seeded, "item.assigned")) == 2


# ---- gates -----------------------------------------------------------------------------------


def test_checking_the_last_blocking_item_passes_the_checklist_gate_in_the_same_call(seeded, actor):
    _launch, rollout, keys = setup(
        seeded,
        actor,
        item("press_kit"),
        item("faq", team="support"),
        item("nice_to_have", team="docs", blocking=False),
        kick_off_at=AFTER_INTERNAL,
    )
    assert gate(seeded, rollout, GateKind.TIME).status is GateStatus.PASSED
    with freeze_time(AFTER_INTERNAL):
        check_item(session=seeded, item_id=keys["press_kit"], actor=actor)
    assert gate(seeded, rollout).status is GateStatus.OPEN
    assert fresh(seeded, RegionRollout, rollout)["state"] is RolloutState.GATED

    with freeze_time(AFTER_INTERNAL + timedelta(minutes=5)):
        check_item(session=seeded, item_id=keys["faq"], actor=actor)

    checklist = gate(seeded, rollout)
    assert checklist.status is GateStatus.PASSED
    assert as_utc(checklist.passed_at) == AFTER_INTERNAL + timedelta(minutes=5)
    assert fresh(seeded, RegionRollout, rollout)["state"] is RolloutState.READY
    assert [e.entity_id for e in audit(seeded, "gate.passed")].count(checklist.id) == 1
    assert len(outbox(seeded, "rollout.ready")) == 1
    assert fresh(seeded, ChecklistItem, keys["nice_to_have"])["status"] is ItemStatus.TODO


def test_checklist_gate_passes_but_the_region_waits_for_its_phase_date(seeded, actor):
    _launch, rollout, keys = setup(seeded, actor, item("press_kit"), kick_off_at=BEFORE_INTERNAL)

    with freeze_time(BEFORE_INTERNAL):
        check_item(session=seeded, item_id=keys["press_kit"], actor=actor)

    assert gate(seeded, rollout).status is GateStatus.PASSED
    assert gate(seeded, rollout, GateKind.TIME).status is GateStatus.OPEN
    assert fresh(seeded, RegionRollout, rollout)["state"] is RolloutState.GATED
    assert outbox(seeded, "rollout.ready") == []


@pytest.mark.parametrize(
    "close",
    [
        lambda s, a, i: waive_item(session=s, item_id=i, actor=a, reason="accepted"),
        lambda s, a, i: mark_not_applicable(session=s, item_id=i, actor=a, reason="no SKU"),
    ],
    ids=["waive", "not_applicable"],
)
def test_waived_and_not_applicable_items_also_pass_the_gate(seeded, actor, close):
    _launch, rollout, keys = setup(seeded, actor, item("sku_setup", team="finance"), kick_off_at=AFTER_INTERNAL)

    with freeze_time(AFTER_INTERNAL):
        close(seeded, actor, keys["sku_setup"])

    assert gate(seeded, rollout).status is GateStatus.PASSED
    assert fresh(seeded, RegionRollout, rollout)["state"] is RolloutState.READY


def test_advisory_items_do_not_hold_the_gate(seeded, actor):
    _launch, rollout, keys = setup(
        seeded,
        actor,
        item("blog_post", blocking=False),
        item("webinar", team="enablement", blocking=False),
        kick_off_at=AFTER_INTERNAL,
    )

    assert gate(seeded, rollout).status is GateStatus.PASSED
    assert fresh(seeded, RegionRollout, rollout)["state"] is RolloutState.READY
    assert {fresh(seeded, ChecklistItem, i)["status"] for i in keys.values()} == {ItemStatus.TODO}


def test_blocking_items_of_a_later_phase_do_not_hold_this_phase(seeded, actor):
    _launch, rollout, _keys = setup(
        seeded, actor, item("beta_cohort", phase=Phase.PRIVATE_BETA), kick_off_at=AFTER_INTERNAL
    )

    assert gate(seeded, rollout).status is GateStatus.PASSED
    assert gate(seeded, rollout, phase=Phase.PRIVATE_BETA).status is GateStatus.PENDING
    assert fresh(seeded, RegionRollout, rollout)["state"] is RolloutState.READY


def test_reopening_an_item_after_its_gate_passed_keeps_the_gate_and_queues_an_alert(seeded, actor):
    _launch, rollout, keys = setup(seeded, actor, item("press_kit"), kick_off_at=AFTER_INTERNAL)
    with freeze_time(AFTER_INTERNAL):
        check_item(session=seeded, item_id=keys["press_kit"], actor=actor)
    checklist = gate(seeded, rollout)
    assert checklist.status is GateStatus.PASSED
    rollout_before = fresh(seeded, RegionRollout, rollout)

    reopen_item(session=seeded, item_id=keys["press_kit"], actor=actor, reason="logo changed")

    assert gate(seeded, rollout).status is GateStatus.PASSED
    assert fresh(seeded, RegionRollout, rollout) == rollout_before
    (alert,) = outbox(seeded, "gate.item_reopened_after_pass")
    assert alert.payload["item_id"] == keys["press_kit"]
    assert alert.payload["gate_id"] == checklist.id
    assert alert.payload["status"] == "todo"
    assert alert.launch_id == _launch.id


def test_reopening_an_advisory_item_after_the_gate_passed_raises_no_alert(seeded, actor):
    _launch, rollout, keys = setup(seeded, actor, item("blog_post", blocking=False), kick_off_at=AFTER_INTERNAL)
    check_item(session=seeded, item_id=keys["blog_post"], actor=actor)

    reopen_item(session=seeded, item_id=keys["blog_post"], actor=actor)

    assert gate(seeded, rollout).status is GateStatus.PASSED
    assert outbox(seeded, "gate.item_reopened_after_pass") == []


def test_reopening_before_the_gate_passed_raises_no_alert(seeded, actor):
    _launch, rollout, keys = setup(
        seeded, actor, item("press_kit"), item("faq", team="support"), kick_off_at=AFTER_INTERNAL
    )
    check_item(session=seeded, item_id=keys["press_kit"], actor=actor)

    reopen_item(session=seeded, item_id=keys["press_kit"], actor=actor)

    assert gate(seeded, rollout).status is GateStatus.OPEN
    assert outbox(seeded, "gate.item_reopened_after_pass") == []
