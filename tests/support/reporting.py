"""Data the reporting tests share: the instant they are written at, the actor the scheduled flows
act as, what a green launch says, and one region's digest line with any part overridden."""

from datetime import UTC, datetime, timedelta

from orchestrator.core.actors import Actor
from orchestrator.core.enums import Phase, RolloutState, Source
from orchestrator.reporting.rag import RegionDigest

NOW = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)
ACTOR = Actor(name="flow@test", source=Source.FLOW)
GREEN_REASON = "on track: no blocking item overdue, blocked or due within 3 days; no phase slipped more than 7 days"


def region(code="EU", **overrides):
    values = {
        "region": code,
        "region_name": code,
        "state": RolloutState.GATED,
        "phase": Phase.INTERNAL,
        "percent": 0,
        "open_blocking": 3,
        "overdue_blocking": 0,
        "blocked": 0,
        "blocked_blocking": 0,
        "next_blocking_due_at": NOW + timedelta(days=10),
        "slip_days": 0,
        "slip_phase": None,
        "next_gate_phase": Phase.INTERNAL,
        "next_gate_at": NOW + timedelta(days=14),
    }
    return RegionDigest(**{**values, **overrides})
