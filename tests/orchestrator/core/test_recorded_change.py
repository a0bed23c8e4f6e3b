"""`change_and_record` (orchestrator/core/recorded_change.py) writes the same rows and answers the
same count on both databases, and a lost compare-and-set writes nothing: on PostgreSQL the audit
and outbox inserts of its one statement read the UPDATE's RETURNING, so they must not land when
the UPDATE matched no row."""

import pytest
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import ItemStatus
from orchestrator.core.errors import StaleVersion
from orchestrator.core.models import AuditEvent, ChecklistItem, Outbox
from orchestrator.core.recorded_change import After, Record, change_and_record
from orchestrator.core.topics import Topic
from orchestrator.gates.service import OTHER_OPEN_BLOCKING_ITEMS
from tests.support.factories import item, make_launch


def _record(actor: Actor, key: str) -> Record:
    return Record(
        actor=actor,
        entity="item",
        action=Topic.ITEM_CHECKED,
        before={"status": "todo"},
        after={"status": "done"},
        reason=None,
        key=key,
        topic=Topic.ITEM_CHECKED,
        payload={"test": True},
    )


def _rows(session: Session, key: str) -> tuple[int, int]:
    audits = session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "item.checked"))
    outbox = session.exec(select(func.count()).select_from(Outbox).where(Outbox.key == key))
    return audits.one(), outbox.one()


def test_the_change_its_rows_and_the_count_of_the_others(engine: Engine, seeded: Session, actor: Actor) -> None:
    launch = make_launch(seeded, actor, items=[item(f"task_{n}") for n in range(3)])
    first, *others = seeded.exec(
        select(ChecklistItem).where(ChecklistItem.launch_id == launch.id).order_by(col(ChecklistItem.id))
    ).all()
    seeded.commit()
    parameters = {"open_rollout_id": first.rollout_id, "open_phase": first.phase, "open_item_id": first.id}

    value = change_and_record(
        seeded,
        first,
        "checklist item",
        values={"status": ItemStatus.DONE},
        record=_record(actor, "test:done"),
        after=After(scalar=OTHER_OPEN_BLOCKING_ITEMS, parameters=parameters),
    )
    seeded.commit()

    assert value == len(others)  # the changed item is not counted, on either database
    assert (first.status, first.version) == (ItemStatus.DONE, 2)
    stored = seeded.exec(select(ChecklistItem.status, ChecklistItem.version).where(ChecklistItem.id == first.id))
    assert stored.one() == (ItemStatus.DONE, 2)
    assert _rows(seeded, "test:done") == (1, 1)


def test_a_lost_compare_and_set_writes_nothing(engine: Engine, seeded: Session, actor: Actor) -> None:
    launch = make_launch(seeded, actor, items=[item("task_0")])
    row = seeded.exec(select(ChecklistItem).where(ChecklistItem.launch_id == launch.id)).one()
    seeded.commit()
    with Session(engine) as other:  # someone else bumps the version after our read
        other.execute(update(ChecklistItem).where(col(ChecklistItem.id) == row.id).values(version=5))
        other.commit()

    with pytest.raises(StaleVersion):
        change_and_record(
            seeded, row, "checklist item", values={"status": ItemStatus.DONE}, record=_record(actor, "test:lost")
        )
    assert _rows(seeded, "test:lost") == (0, 0)  # in the failed change's own transaction, before its rollback
    seeded.rollback()
    assert seeded.exec(select(ChecklistItem.status).where(ChecklistItem.id == row.id)).one() == ItemStatus.TODO
