"""The burndown (orchestrator/reporting/burndown.py) rebuilt from status changes: walked back from today
and projected to the gate."""

from datetime import timedelta

import pytest

from orchestrator.core.enums import Phase
from orchestrator.reporting.burndown import StatusChange, burndown
from tests.support.reporting import NOW


def test_burndown_walks_back_from_today_and_projects_to_the_gate():
    start = NOW - timedelta(days=20)
    changes = [
        StatusChange(NOW - timedelta(days=10), closed=True),
        StatusChange(NOW - timedelta(days=6), closed=True),
        StatusChange(NOW - timedelta(days=5), closed=False),  # reopened
        StatusChange(NOW - timedelta(days=2), closed=True),
    ]
    chart = burndown(
        region="EU",
        phase=Phase.GA,
        open_now=4,
        changes=changes,
        start=start,
        now=NOW,
        gate_at=NOW + timedelta(days=7),
    )
    assert [point.open for point in chart.points] == [6, 5, 4, 5, 4, 4]
    assert chart.rate_per_day == pytest.approx((6 - 4) / 14)
    assert chart.projected_at_gate == round(4 - 7 * 2 / 14)
    assert chart.projected_zero_at == NOW + timedelta(days=4 / (2 / 14))
    assert "4 open blocking items now" in chart.summary


def test_burndown_without_progress_projects_nothing_to_zero():
    chart = burndown(
        region="EU", phase=Phase.GA, open_now=3, changes=[], start=NOW - timedelta(days=3), now=NOW, gate_at=None
    )
    assert chart.rate_per_day == 0
    assert chart.projected_zero_at is None
    assert "no projection" in chart.summary
