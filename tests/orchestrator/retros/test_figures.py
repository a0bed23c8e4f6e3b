"""The retro's figures (orchestrator/retros/figures.py) on hand-made rows: the edges the known
history does not reach. Pure, no database."""

from datetime import UTC, datetime, timedelta

from orchestrator.core.enums import FeedbackStatus, GateKind, ItemStatus, Phase
from orchestrator.retros.facts import FeedbackRow, ForecastRow, GateRow, ItemClosed, ItemRow, RegionRow
from orchestrator.retros.figures import accuracy, beta_figures, bottlenecks, overdue_by_team

T = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
EU = RegionRow(rollout_id=1, code="EU", name="Europe")
PASSED = GateRow(1, Phase.GA, GateKind.CHECKLIST, opened_at=T, passed_at=T + timedelta(days=10))


def row(item_id, team, *, status=ItemStatus.DONE, due=None, checked=None, blocking=True):
    return ItemRow(item_id, 1, Phase.GA, f"Item {item_id}", team, blocking, status, due, checked)


def test_a_closing_after_the_gate_passed_does_not_make_a_team_the_bottleneck():
    items = [row(1, "Legal"), row(2, "Support"), row(3, "Docs", blocking=False)]
    changes = [
        ItemClosed(1, T + timedelta(days=9), True, ItemStatus.DONE, "ann"),
        ItemClosed(2, T + timedelta(days=3), True, ItemStatus.DONE, "bo"),
        ItemClosed(2, T + timedelta(days=12), False, ItemStatus.TODO, "bo"),  # reopened after the pass
        ItemClosed(2, T + timedelta(days=13), True, ItemStatus.DONE, "bo"),
        ItemClosed(3, T + timedelta(days=10), True, ItemStatus.DONE, "cy"),  # advisory: never a bottleneck
    ]
    (found,) = bottlenecks([EU], [PASSED], items, changes)
    assert found.team == "Legal"
    assert [(closed.team, closed.closed_at) for closed in found.last] == [
        ("Legal", T + timedelta(days=9)),
        ("Support", T + timedelta(days=3)),
    ]


def test_overdue_counts_leave_out_items_not_applicable_and_count_open_ones_past_due():
    due = T + timedelta(days=5)
    items = [
        row(1, "Legal", due=due, checked=due + timedelta(minutes=1)),  # done a minute late
        row(2, "Legal", status=ItemStatus.NOT_APPLICABLE, due=due, checked=due + timedelta(days=3)),
        row(3, "Legal", status=ItemStatus.TODO, due=due, blocking=False),  # open past due
        row(4, "Support", status=ItemStatus.WAIVED, due=due, checked=due),  # on the minute: on time
        row(5, "Support", status=ItemStatus.IN_PROGRESS, due=T + timedelta(days=30)),
    ]
    found = overdue_by_team(items, now=T + timedelta(days=6))
    assert [(team.team, team.items, team.overdue, team.overdue_blocking) for team in found] == [
        ("Legal", 2, 2, 1),
        ("Support", 2, 0, 0),
    ]


def test_accuracy_counts_only_forecasts_made_while_items_were_open_and_before_the_pass():
    forecasts = [
        ForecastRow(1, Phase.GA, T, T + timedelta(days=20), T + timedelta(days=12), open_blocking=4),  # +2
        ForecastRow(1, Phase.GA, T + timedelta(days=2), T + timedelta(days=20), None, open_blocking=3),
        ForecastRow(1, Phase.GA, T + timedelta(days=5), T + timedelta(days=20), T + timedelta(days=7), 2),  # -3
        ForecastRow(1, Phase.GA, T + timedelta(days=9), T + timedelta(days=20), None, open_blocking=0),  # done
        ForecastRow(1, Phase.GA, T + timedelta(days=11), T + timedelta(days=20), T + timedelta(days=30), 1),  # after
    ]
    (found,) = accuracy([EU], [PASSED], forecasts)
    assert found.errors == ((T, T + timedelta(days=12), 2), (T + timedelta(days=5), T + timedelta(days=7), -3))
    assert (found.without_projection, found.mean_abs_days) == (1, 2.5)


def test_time_to_fix_severity_1_is_the_middle_one_and_open_ones_are_counted():
    def report(severity, status, hours=None, reports=1):
        resolved = T + timedelta(hours=hours) if hours is not None else None
        return FeedbackRow(1, severity, status, reports, T, resolved)

    feedback = [
        report(1, FeedbackStatus.RESOLVED, 5),
        report(1, FeedbackStatus.RESOLVED, 1),
        report(1, FeedbackStatus.RESOLVED, 30),
        report(1, FeedbackStatus.OPEN),
        report(1, FeedbackStatus.MERGED),  # its reports were folded into another row
        report(2, FeedbackStatus.OPEN, reports=3),
    ]
    eu, _all = beta_figures([EU], feedback)
    assert (eu.reports, eu.issues, eu.severity_1, eu.severity_1_open) == (7, 5, 4, 1)
    assert (eu.median_fix, eu.longest_fix) == (timedelta(hours=5), timedelta(hours=30))
    assert beta_figures([EU], []) == ()
