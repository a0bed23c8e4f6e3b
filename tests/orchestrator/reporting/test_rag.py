"""RAG rules as pure data (orchestrator/reporting/rag.py): what makes a launch red, amber or green, and
the reason it gives."""

from datetime import timedelta

import pytest

from orchestrator.core.enums import Phase, RolloutState
from orchestrator.reporting.rag import Rag, RagStatus, rag_for
from tests.support.reporting import GREEN_REASON, NOW, region


def test_green_says_what_was_checked():
    assert rag_for([region(), region("NA")], now=NOW) == RagStatus(Rag.GREEN, GREEN_REASON)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"overdue_blocking": 2}, "EU: 2 blocking items overdue"),
        ({"blocked_blocking": 1}, "EU: 1 blocking item blocked"),
        ({"state": RolloutState.HALTED}, "EU: halted"),
        ({"state": RolloutState.ROLLED_BACK}, "EU: rolled back"),
        (
            {"state": RolloutState.HALTED, "overdue_blocking": 1, "blocked_blocking": 2},
            "EU: halted, 1 blocking item overdue, 2 blocking items blocked",
        ),
    ],
)
def test_red(overrides, reason):
    assert rag_for([region(**overrides)], now=NOW) == RagStatus(Rag.RED, reason)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"next_blocking_due_at": NOW + timedelta(days=3)}, "EU: blocking item due 2027-02-13 09:00 UTC"),
        ({"next_blocking_due_at": NOW + timedelta(minutes=5)}, "EU: blocking item due 2027-02-10 09:05 UTC"),
        ({"slip_days": 8, "slip_phase": Phase.GA}, "EU: ga slipped 8 days"),
        (
            {"slip_days": 12, "slip_phase": Phase.INTERNAL, "next_blocking_due_at": NOW + timedelta(days=1)},
            "EU: blocking item due 2027-02-11 09:00 UTC, internal slipped 12 days",
        ),
    ],
)
def test_amber(overrides, reason):
    assert rag_for([region(**overrides)], now=NOW) == RagStatus(Rag.AMBER, reason)


@pytest.mark.parametrize(
    "overrides",
    [
        {"next_blocking_due_at": NOW + timedelta(days=3, seconds=1)},  # just outside the window
        {"slip_days": 7, "slip_phase": Phase.GA},  # "more than 7 days"
        {"blocked": 4, "blocked_blocking": 0},  # advisory items never change the colour
        {"next_blocking_due_at": None, "open_blocking": 0},
    ],
)
def test_still_green_at_the_edges(overrides):
    assert rag_for([region(**overrides)], now=NOW).rag == Rag.GREEN


def test_red_wins_over_amber_and_names_every_red_region():
    regions = [
        region("APAC", slip_days=20, slip_phase=Phase.GA),
        region("EU", overdue_blocking=1),
        region("NA", state=RolloutState.HALTED),
    ]

    assert rag_for(regions, now=NOW) == RagStatus(Rag.RED, "EU: 1 blocking item overdue; NA: halted")


def test_thresholds_are_parameters():
    soon = region(next_blocking_due_at=NOW + timedelta(days=5))
    slipped = region(slip_days=3, slip_phase=Phase.GA)

    assert rag_for([soon], now=NOW, due_soon=timedelta(days=7)).rag == Rag.AMBER
    assert rag_for([slipped], now=NOW, slip_amber_days=2).rag == Rag.AMBER
