"""The checklist item state machine as data: pure tests of orchestrator/items/rules.py, no database.

The expected table below is written out from the design (DESIGN.md, "ChecklistItem") rather than
copied from the code, so a change to the rules has to change it too."""

import itertools

import pytest

from orchestrator.core.enums import ItemStatus
from orchestrator.core.errors import IllegalTransition
from orchestrator.items.rules import ITEM_TRANSITIONS, check_item_transition

IS = ItemStatus
OPEN_STATUSES = [IS.TODO, IS.IN_PROGRESS, IS.BLOCKED]
CLOSED_STATUSES = [IS.DONE, IS.WAIVED, IS.NOT_APPLICABLE]
# Open items can go anywhere else; closed ones only back to todo (reopen).
EXPECTED_ITEM: dict[ItemStatus, set[ItemStatus]] = {
    **{status: set(ItemStatus) - {status} for status in OPEN_STATUSES},
    **{status: {IS.TODO} for status in CLOSED_STATUSES},
}
VERBS = {
    IS.TODO: "reopen",
    IS.IN_PROGRESS: "start",
    IS.BLOCKED: "mark blocked",
    IS.DONE: "check",
    IS.WAIVED: "waive",
    IS.NOT_APPLICABLE: "mark not applicable",
}
ITEM_PAIRS = list(itertools.product(ItemStatus, ItemStatus))


def test_item_table_is_exactly_the_designed_one():
    assert {status: set(targets) for status, targets in ITEM_TRANSITIONS.items()} == EXPECTED_ITEM


@pytest.mark.parametrize(("current", "target"), ITEM_PAIRS, ids=[f"{c.value}-to-{t.value}" for c, t in ITEM_PAIRS])
def test_item_transition_is_allowed_exactly_when_the_table_says(current, target):
    if target in EXPECTED_ITEM[current]:
        check_item_transition(current, target)
        return
    with pytest.raises(IllegalTransition) as caught:
        check_item_transition(current, target)
    error = caught.value
    expected_allowed = sorted(f"{VERBS[s]} ({s.value})" for s in EXPECTED_ITEM[current])
    assert error.allowed == expected_allowed
    assert error.entity == "checklist item"
    assert error.current == current.value
    assert error.attempted == VERBS[target]
    assert error.message.startswith(f"cannot {VERBS[target]} checklist item while it is {current.value}")
    for allowed in expected_allowed:
        assert allowed in error.message


def test_checking_a_done_item_again_is_not_a_table_transition():
    # Services treat a repeat as a no-op before consulting the table; the table itself refuses it.
    with pytest.raises(IllegalTransition, match="allowed from done: reopen \\(todo\\)"):
        check_item_transition(IS.DONE, IS.DONE)


def test_a_waived_item_must_be_reopened_before_it_is_checked():
    with pytest.raises(IllegalTransition) as caught:
        check_item_transition(IS.WAIVED, IS.DONE)
    assert caught.value.allowed == ["reopen (todo)"]


@pytest.mark.parametrize("status", list(ItemStatus))
def test_only_done_waived_and_not_applicable_satisfy_a_gate(status):
    assert status.satisfies_gate is (status in CLOSED_STATUSES)
