"""The retro's figures, each a pure function of the rows ``facts.py`` reads: time at each gate
and in each ramp, the teams that closed each gate's last blocking items, overdue counts per team,
forecast accuracy and beta feedback. Times are exact (timedeltas between recorded instants); the
words are the renderers' job."""

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.core.enums import FeedbackStatus, GateKind, ItemStatus, Phase
from orchestrator.reporting.forecast_misses import days_after
from orchestrator.retros.facts import (
    FeedbackRow,
    ForecastRow,
    GateRow,
    ItemClosed,
    ItemRow,
    LedgerEvent,
    RegionRow,
)

LAST_CLOSED_SHOWN = 3


def _span(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start is not None and end is not None else None


@dataclass(frozen=True)
class PhaseTimes:
    """One region's way through one phase: waiting at its gates, then ramping to live."""

    region: str
    phase: Phase
    gates_opened_at: datetime | None  # the region reached the phase's gates
    ready_at: datetime | None  # every gate passed (and the wave let it in)
    ramp_started_at: datetime | None  # the phase's first exposure step
    live_at: datetime | None
    gate_passed: tuple[tuple[GateKind, datetime], ...]  # each passed gate, in the order it passed

    @property
    def at_gate(self) -> timedelta | None:
        return _span(self.gates_opened_at, self.ready_at)

    @property
    def in_ramp(self) -> timedelta | None:
        return _span(self.ramp_started_at, self.live_at)

    @property
    def held_by(self) -> GateKind | None:
        """The gate that passed last: what the region waited for longest."""
        return self.gate_passed[-1][0] if self.gate_passed else None


def phase_times(
    regions: Sequence[RegionRow], gates: Sequence[GateRow], events: Sequence[LedgerEvent]
) -> tuple[PhaseTimes, ...]:
    """Per region (in rollout order) and phase it has gates for, from the gates' own opening and
    passing times and the ledger's first ready, exposure and live event of the phase."""
    first: dict[tuple[int, Phase, str], datetime] = {}
    for event in events:  # oldest first
        if event.rollout_id is not None and event.phase is not None:
            first.setdefault((event.rollout_id, event.phase, event.action), event.at)
    by_phase: dict[tuple[int, Phase], list[GateRow]] = defaultdict(list)
    for gate in gates:
        by_phase[(gate.rollout_id, gate.phase)].append(gate)
    found = []
    for region in regions:
        for phase in Phase.ordered():
            phase_gates = by_phase.get((region.rollout_id, phase))
            if not phase_gates:
                continue
            opened = [gate.opened_at for gate in phase_gates if gate.opened_at is not None]
            passed = sorted(
                ((gate.kind, gate.passed_at) for gate in phase_gates if gate.passed_at is not None),
                # At one instant the approval gate passes last, as evaluate_gates judges it last.
                key=lambda pair: (pair[1], pair[0] == GateKind.APPROVAL, pair[0].value),
            )
            key = (region.rollout_id, phase)
            found.append(
                PhaseTimes(
                    region=region.code,
                    phase=phase,
                    gates_opened_at=min(opened, default=None),
                    ready_at=first.get((*key, "rollout.ready")),
                    ramp_started_at=first.get((*key, "rollout.exposure_changed")),
                    live_at=first.get((*key, "rollout.live")),
                    gate_passed=tuple(passed),
                )
            )
    return tuple(found)


@dataclass(frozen=True)
class LastClosed:
    title: str
    team: str
    closed_at: datetime
    status: ItemStatus  # done, waived or n/a
    by: str


@dataclass(frozen=True)
class Bottleneck:
    """The team that closed a checklist gate's last blocking item, and the last few closed."""

    region: str
    phase: Phase
    gate_passed_at: datetime
    last: tuple[LastClosed, ...]  # newest first, at most LAST_CLOSED_SHOWN

    @property
    def team(self) -> str:
        return self.last[0].team


def bottlenecks(
    regions: Sequence[RegionRow], gates: Sequence[GateRow], items: Sequence[ItemRow], changes: Sequence[ItemClosed]
) -> tuple[Bottleneck, ...]:
    """Per passed checklist gate, its blocking items by when they were last closed before the gate
    passed (a later reopening does not count): the last is the bottleneck."""
    codes = {region.rollout_id: region.code for region in regions}
    order = {region.rollout_id: index for index, region in enumerate(regions)}
    by_item = {item.id: item for item in items}
    closing: dict[int, list[ItemClosed]] = defaultdict(list)
    for change in changes:
        if change.closed:
            closing[change.item_id].append(change)
    found = []
    passed = [gate for gate in gates if gate.kind == GateKind.CHECKLIST and gate.passed_at is not None]
    for gate in sorted(passed, key=lambda gate: (order.get(gate.rollout_id, 0), Phase.ordered().index(gate.phase))):
        assert gate.passed_at is not None
        last = []
        for item in by_item.values():
            if item.rollout_id != gate.rollout_id or item.phase != gate.phase or not item.blocking:
                continue
            before = [change for change in closing.get(item.id, []) if change.at <= gate.passed_at]
            if before:
                change = before[-1]
                last.append(LastClosed(item.title, item.team, change.at, change.status, change.actor))
        last.sort(key=lambda closed: closed.closed_at, reverse=True)
        if last:
            found.append(
                Bottleneck(codes[gate.rollout_id], gate.phase, gate.passed_at, tuple(last[:LAST_CLOSED_SHOWN]))
            )
    return tuple(found)


@dataclass(frozen=True)
class TeamOverdue:
    team: str
    items: int  # items the team owned (n/a ones left out: nothing was owed)
    overdue: int  # closed after their due date, or still open past it
    overdue_blocking: int


def overdue_by_team(items: Sequence[ItemRow], *, now: datetime) -> tuple[TeamOverdue, ...]:
    """Per owning team, how many of its items were late; most late first, then by name."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in items:
        if item.status == ItemStatus.NOT_APPLICABLE:
            continue
        counts = tally[item.team]
        counts[0] += 1
        if item.due_at is None:
            continue
        closed = item.status in (ItemStatus.DONE, ItemStatus.WAIVED)
        late = (item.checked_at is not None and item.checked_at > item.due_at) if closed else item.due_at < now
        if late:
            counts[1] += 1
            counts[2] += item.blocking
    rows = [TeamOverdue(team, *counts) for team, counts in tally.items()]
    return tuple(sorted(rows, key=lambda row: (-row.overdue, row.team)))


@dataclass(frozen=True)
class Accuracy:
    """How the recorded forecasts of one checklist gate compared with when it passed."""

    region: str
    phase: Phase
    actual_at: datetime  # the checklist gate passed
    errors: tuple[tuple[datetime, datetime, int], ...]  # (made, projected, days off), oldest first
    without_projection: int  # forecasts made while nothing had closed in two weeks

    @property
    def first(self) -> tuple[datetime, datetime, int] | None:
        return self.errors[0] if self.errors else None

    @property
    def last(self) -> tuple[datetime, datetime, int] | None:
        return self.errors[-1] if self.errors else None

    @property
    def mean_abs_days(self) -> float | None:
        return statistics.fmean(abs(error) for _made, _projected, error in self.errors) if self.errors else None


def accuracy(
    regions: Sequence[RegionRow], gates: Sequence[GateRow], forecasts: Sequence[ForecastRow]
) -> tuple[Accuracy, ...]:
    """Per passed checklist gate with forecasts made before it passed (while items were open):
    each forecast's projected day against the day the gate passed (positive: projected too late)."""
    actual = {
        (gate.rollout_id, gate.phase): gate.passed_at
        for gate in gates
        if gate.kind == GateKind.CHECKLIST and gate.passed_at is not None
    }
    found = []
    for region in regions:
        for phase in Phase.ordered():
            passed_at = actual.get((region.rollout_id, phase))
            if passed_at is None:
                continue
            made = [
                forecast
                for forecast in forecasts
                if (forecast.rollout_id, forecast.phase) == (region.rollout_id, phase)
                and forecast.open_blocking > 0
                and forecast.made_at <= passed_at
            ]
            errors = tuple(
                (f.made_at, f.projected_at, days_after(f.projected_at, passed_at))
                for f in made
                if f.projected_at is not None
            )
            if made:
                found.append(
                    Accuracy(region.code, phase, passed_at, errors, sum(1 for f in made if not f.projected_at))
                )
    return tuple(found)


def overall_accuracy(found: Sequence[Accuracy]) -> float | None:
    """Mean absolute days off over every forecast with a projection."""
    errors = [abs(error) for row in found for _made, _projected, error in row.errors]
    return statistics.fmean(errors) if errors else None


@dataclass(frozen=True)
class BetaFigures:
    region: str  # a region code, or "all"
    reports: int  # reports received, duplicates included
    issues: int  # distinct issues (duplicates merged away)
    severity_1: int
    severity_1_open: int
    fix_times: tuple[timedelta, ...]  # each resolved severity-1 issue: reported to resolved

    @property
    def median_fix(self) -> timedelta | None:
        if not self.fix_times:
            return None
        middle, odd = divmod(len(self.fix_times), 2)  # fix_times are sorted
        if odd:
            return self.fix_times[middle]
        return (self.fix_times[middle - 1] + self.fix_times[middle]) / 2

    @property
    def longest_fix(self) -> timedelta | None:
        return max(self.fix_times) if self.fix_times else None


def beta_figures(regions: Sequence[RegionRow], feedback: Sequence[FeedbackRow]) -> tuple[BetaFigures, ...]:
    """Per region with feedback, then "all": volume, and time to fix severity 1."""
    rows = [(region.code, [f for f in feedback if f.rollout_id == region.rollout_id]) for region in regions]
    found = [_beta(code, chosen) for code, chosen in rows if chosen]
    if found:
        found.append(_beta("all", list(feedback)))
    return tuple(found)


def _beta(code: str, feedback: Sequence[FeedbackRow]) -> BetaFigures:
    issues = [f for f in feedback if f.status != FeedbackStatus.MERGED]
    critical = [f for f in issues if f.severity == 1]
    fixed = sorted(
        f.resolved_at - f.created_at
        for f in critical
        if f.status == FeedbackStatus.RESOLVED and f.resolved_at is not None
    )
    return BetaFigures(
        region=code,
        reports=sum(f.reports for f in issues),
        issues=len(issues),
        severity_1=len(critical),
        severity_1_open=sum(1 for f in critical if f.status == FeedbackStatus.OPEN),
        fix_times=tuple(fixed),
    )
