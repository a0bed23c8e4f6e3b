"""The forecast a burndown makes (orchestrator/forecasts/projection.py), its words, and the RAG's
forecast rule (orchestrator/reporting/forecast_misses.py, rag.py): pure, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core.enums import Phase, RolloutState
from orchestrator.forecasts.projection import project
from orchestrator.reporting.burndown import StatusChange, burndown
from orchestrator.reporting.forecast_misses import days_after, miss_reason
from orchestrator.reporting.rag import Rag, RagStatus, rag_for
from tests.support.reporting import NOW, region

GATE = datetime(2027, 4, 15, 0, 0, tzinfo=UTC)


def chart(open_now, changes, *, gate_at=GATE):
    return burndown(
        region="EU",
        phase=Phase.GA,
        open_now=open_now,
        changes=changes,
        start=NOW - timedelta(days=30),
        now=NOW,
        gate_at=gate_at,
    )


def test_the_projection_is_the_burndowns_zero_crossing_and_says_how_late():
    # 2 closed over the last 14 days: 1/7 a day; 12 open: done in 84 days.
    changes = [StatusChange(NOW - timedelta(days=3), closed=True), StatusChange(NOW - timedelta(days=1), closed=True)]
    forecast = project(chart(12, changes), launch_id=1, rollout_id=2)
    assert forecast.projected_at == NOW + timedelta(days=84)  # 2027-05-05 09:00
    assert forecast.rate_per_day == pytest.approx(1 / 7)
    assert (forecast.days_late, forecast.outcome) == (20, "2027-05-05")
    assert forecast.reason == "forecast: EU GA checklist done 20 days after 2027-04-15"
    assert forecast.summary == (
        "EU GA: 12 blocking items open, closing 0.14 a day: done by 2027-05-05, 20 days after the phase date 2027-04-15"
    )


def test_no_projection_without_recent_closings_and_nothing_to_project_when_done():
    stalled = project(chart(3, []), launch_id=1, rollout_id=2)
    assert (stalled.projected_at, stalled.outcome, stalled.misses) == (None, "none", False)
    assert stalled.summary == "EU GA: 3 blocking items open and none closed in the last two weeks, so no projection"
    done = project(chart(0, [StatusChange(NOW - timedelta(days=1), closed=True)]), launch_id=1, rollout_id=2)
    assert (done.projected_at, done.outcome, done.misses, done.done) == (None, "done", False, True)
    assert done.summary == "EU GA: every blocking item is done"


def test_an_early_or_same_day_projection_is_no_miss():
    early = project(chart(1, [StatusChange(NOW - timedelta(days=1), closed=True)], gate_at=NOW + timedelta(days=30)),
                    launch_id=1, rollout_id=2)  # fmt: skip
    assert early.days_late == -16  # done in 14 days
    assert early.summary.endswith("16 days before the phase date 2027-03-12")
    assert not early.misses
    # Late on the phase date's own day is not a day late; the next morning is.
    assert days_after(GATE + timedelta(hours=23, minutes=59), GATE) == 0
    assert miss_reason(region="EU", phase=Phase.GA, projected_at=GATE + timedelta(hours=23), phase_at=GATE) is None
    assert miss_reason(region="EU", phase=Phase.PUBLIC_BETA, projected_at=GATE + timedelta(days=1), phase_at=GATE) == (
        "forecast: EU Public beta checklist done 1 day after 2027-04-15"
    )


def test_the_rag_turns_amber_with_the_forecast_reason_and_red_still_wins():
    gate_at = NOW + timedelta(days=14)  # 2027-02-24 09:00
    late = region(next_gate_phase=Phase.GA, next_gate_at=gate_at, forecast_done_at=gate_at + timedelta(days=6))
    assert rag_for([late], now=NOW) == RagStatus(Rag.AMBER, "forecast: EU GA checklist done 6 days after 2027-02-24")
    slipped = region(
        next_gate_phase=Phase.GA,
        next_gate_at=gate_at,
        forecast_done_at=gate_at + timedelta(days=6),
        slip_days=9,
        slip_phase=Phase.GA,
    )
    assert (
        rag_for([slipped], now=NOW).reason
        == "EU: ga slipped 9 days; forecast: EU GA checklist done 6 days after 2027-02-24"
    )
    on_time = region(next_gate_phase=Phase.GA, next_gate_at=gate_at, forecast_done_at=gate_at)
    assert rag_for([on_time], now=NOW).rag == Rag.GREEN
    halted = region(state=RolloutState.HALTED, next_gate_at=gate_at, forecast_done_at=gate_at + timedelta(days=6))
    assert rag_for([halted], now=NOW) == RagStatus(Rag.RED, "EU: halted")
