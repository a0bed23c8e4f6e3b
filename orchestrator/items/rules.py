"""The checklist item state machine as data: which status may follow which. Pure; the item
service applies it under the item's lock."""

from orchestrator.core.enums import ItemStatus
from orchestrator.core.errors import IllegalTransition

ITEM_TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    ItemStatus.TODO: frozenset(
        {
            ItemStatus.IN_PROGRESS,
            ItemStatus.BLOCKED,
            ItemStatus.DONE,
            ItemStatus.WAIVED,
            ItemStatus.NOT_APPLICABLE,
        }
    ),
    ItemStatus.IN_PROGRESS: frozenset(
        {ItemStatus.TODO, ItemStatus.BLOCKED, ItemStatus.DONE, ItemStatus.WAIVED, ItemStatus.NOT_APPLICABLE}
    ),
    ItemStatus.BLOCKED: frozenset(
        {
            ItemStatus.TODO,
            ItemStatus.IN_PROGRESS,
            ItemStatus.DONE,
            ItemStatus.WAIVED,
            ItemStatus.NOT_APPLICABLE,
        }
    ),
    ItemStatus.DONE: frozenset({ItemStatus.TODO}),
    ItemStatus.WAIVED: frozenset({ItemStatus.TODO}),
    ItemStatus.NOT_APPLICABLE: frozenset({ItemStatus.TODO}),
}


_ITEM_VERBS: dict[ItemStatus, str] = {
    ItemStatus.TODO: "reopen",
    ItemStatus.IN_PROGRESS: "start",
    ItemStatus.BLOCKED: "mark blocked",
    ItemStatus.DONE: "check",
    ItemStatus.WAIVED: "waive",
    ItemStatus.NOT_APPLICABLE: "mark not applicable",
}


def check_item_transition(current: ItemStatus, target: ItemStatus) -> None:
    allowed = ITEM_TRANSITIONS[current]
    if target not in allowed:
        raise IllegalTransition(
            "checklist item",
            current.value,
            _ITEM_VERBS[target],
            (f"{_ITEM_VERBS[s]} ({s.value})" for s in allowed),
        )
