"""Beta exit criteria: measurable conditions for leaving a beta phase, judged per region.

A launch that defines criteria for a beta phase gets a beta-exit gate on the phase after it in
every region that plans both; the gate holds while any criterion is unmet. Each criterion reports
its current value next to its threshold, so whoever looks at the gate (API, CLI, artifact, Slack,
dashboard) sees why it is closed and how far off it is.

Metrics (all counted in the gate's region):

- ``open_severity_1``: open severity-1 feedback of the launch in the region, whatever phase it
  was reported in (a blocker found in private beta still blocks public beta). Met when
  value <= threshold.
- ``active_accounts``: accounts enrolled in the region's cohort of the beta being left that have
  accepted the terms. Met when value >= threshold.
- ``fix_weeks``: trailing seven-day windows in a row, counted back from now, in which fewer bugs
  were reported than fixed (a window without new bugs counts too), capped at the full weeks since
  the beta began in the region. Met when value >= threshold ("new bugs slower than fixes for two
  weeks" is ``fix_weeks >= 2``).
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import EnrollmentStatus, ExitMetric, FeedbackStatus, FeedbackType, Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import (
    BetaCohort,
    BetaEnrollment,
    BetaExitCriterion,
    BetaFeedback,
    Gate,
    Launch,
    PhaseDate,
    RegionRollout,
)

WEEK = timedelta(days=7)
# Comparators per metric: "at most" for counts of problems, "at least" for everything else.
AT_MOST = frozenset({ExitMetric.OPEN_SEVERITY_1})


@dataclass(frozen=True)
class CriterionStatus:
    metric: ExitMetric
    comparator: str  # "<=" or ">="
    threshold: int
    value: int
    met: bool

    @property
    def label(self) -> str:
        """One line for humans: ``open_severity_1: 2 (needs <= 0)``."""
        return f"{self.metric.value}: {self.value} (needs {self.comparator} {self.threshold})"


def comparator_for(metric: ExitMetric) -> str:
    return "<=" if metric in AT_MOST else ">="


def is_met(metric: ExitMetric, value: int, threshold: int) -> bool:
    return value <= threshold if metric in AT_MOST else value >= threshold


def exited_phase(session: Session, *, rollout_id: int, phase: Phase) -> Phase | None:
    """The planned phase before ``phase`` in this region: the beta a gate on ``phase`` lets out of."""
    planned = set(session.exec(select(PhaseDate.phase).where(PhaseDate.rollout_id == rollout_id)))
    order = Phase.ordered()
    earlier = [candidate for candidate in order[: order.index(phase)] if candidate in planned]
    return earlier[-1] if earlier else None


def criteria_for(session: Session, *, launch_id: int, phase: Phase) -> list[BetaExitCriterion]:
    rows = session.exec(
        select(BetaExitCriterion)
        .where(BetaExitCriterion.launch_id == launch_id, BetaExitCriterion.phase == phase)
        .order_by(col(BetaExitCriterion.id))
    ).all()
    return list(rows)


def _open_severity_1(session: Session, *, rollout: RegionRollout) -> int:
    statement = select(func.count()).where(
        BetaFeedback.rollout_id == rollout.id,
        BetaFeedback.severity == 1,
        BetaFeedback.status == FeedbackStatus.OPEN,
    )
    return int(session.exec(statement).one())


def _active_accounts(session: Session, *, rollout: RegionRollout, phase: Phase) -> int:
    statement = (
        select(func.count())
        .select_from(BetaEnrollment)
        .join(BetaCohort, col(BetaCohort.id) == col(BetaEnrollment.cohort_id))
        .where(
            BetaCohort.launch_id == rollout.launch_id,
            BetaCohort.region_id == rollout.region_id,
            BetaCohort.phase == phase,
            BetaEnrollment.status == EnrollmentStatus.ENROLLED,
            col(BetaEnrollment.terms_accepted_at).is_not(None),
        )
    )
    return int(session.exec(statement).one())


def fix_weeks(*, reported: Sequence[datetime], fixed: Sequence[datetime], since: datetime | None, now: datetime) -> int:
    """Trailing weeks in a row in which fewer bugs were reported than fixed (or none reported),
    capped at the full weeks since ``since`` (none before the beta began)."""
    if since is None or since >= now:
        return 0
    full_weeks = int((now - since) / WEEK)
    streak = 0
    for week in range(full_weeks):
        end = now - week * WEEK
        start = end - WEEK
        new = sum(1 for moment in reported if start <= moment < end)
        done = sum(1 for moment in fixed if start <= moment < end)
        if new and new >= done:
            break
        streak += 1
    return streak


def _fix_weeks(session: Session, *, rollout: RegionRollout, phase: Phase, now: datetime) -> int:
    bugs = session.exec(
        select(BetaFeedback.created_at, BetaFeedback.resolved_at).where(
            BetaFeedback.rollout_id == rollout.id,
            BetaFeedback.type == FeedbackType.BUG,
            BetaFeedback.status != FeedbackStatus.MERGED,
        )
    ).all()
    since = session.exec(
        select(PhaseDate.current_at).where(PhaseDate.rollout_id == rollout.id, PhaseDate.phase == phase)
    ).one_or_none()
    return fix_weeks(
        reported=[as_utc(created) for created, _ in bugs],
        fixed=[as_utc(resolved) for _, resolved in bugs if resolved is not None],
        since=as_utc(since) if since is not None else None,
        now=now,
    )


def criterion_value(
    session: Session, *, metric: ExitMetric, rollout: RegionRollout, phase: Phase, now: datetime
) -> int:
    if metric == ExitMetric.OPEN_SEVERITY_1:
        return _open_severity_1(session, rollout=rollout)
    if metric == ExitMetric.ACTIVE_ACCOUNTS:
        return _active_accounts(session, rollout=rollout, phase=phase)
    return _fix_weeks(session, rollout=rollout, phase=phase, now=now)


def evaluate_criteria(
    session: Session, *, rollout: RegionRollout, gate_phase: Phase, now: datetime
) -> list[CriterionStatus]:
    assert rollout.id is not None
    left = exited_phase(session, rollout_id=rollout.id, phase=gate_phase)
    if left is None:
        return []
    statuses = []
    for criterion in criteria_for(session, launch_id=rollout.launch_id, phase=left):
        value = criterion_value(session, metric=criterion.metric, rollout=rollout, phase=left, now=now)
        statuses.append(
            CriterionStatus(
                metric=criterion.metric,
                comparator=comparator_for(criterion.metric),
                threshold=criterion.threshold,
                value=value,
                met=is_met(criterion.metric, value, criterion.threshold),
            )
        )
    return statuses


def beta_exit_status(
    *, session: Session, rollout_id: int, phase: Phase, now: datetime | None = None
) -> list[CriterionStatus]:
    """The exit criteria guarding entry to ``phase`` in this region (the gate's phase, e.g.
    ``public_beta`` for leaving private beta), each with its current value, threshold and whether
    it is met. Read-only: for the API, the CLI, artifacts and the dashboard."""
    rollout = session.get(RegionRollout, rollout_id)
    if rollout is None:
        raise InvalidInput("rollout_id", f"region rollout {rollout_id} does not exist")
    return evaluate_criteria(session, rollout=rollout, gate_phase=phase, now=now or utcnow())


def exit_gate_holds(session: Session, *, rollout: RegionRollout, gate: Gate, now: datetime) -> bool:
    """Every criterion met. A gate whose launch lost its criteria holds (nothing left to wait for)."""
    return all(status.met for status in evaluate_criteria(session, rollout=rollout, gate_phase=gate.phase, now=now))


def launch_exit_statuses(
    *, session: Session, launch_id: int, now: datetime | None = None
) -> dict[tuple[int, Phase], list[CriterionStatus]]:
    """``beta_exit_status`` for every region and phase of one launch at once, keyed by (rollout
    id, gate phase): the same values, in at most four statements however many regions and gates the
    launch has, for pages that show every gate (the dashboard's region x phase matrix)."""
    return exit_statuses_where(session=session, launches=col(Launch.id) == launch_id, now=now)


def exit_statuses_where(
    *, session: Session, launches: ColumnElement[bool], now: datetime | None = None
) -> dict[tuple[int, Phase], list[CriterionStatus]]:
    """``launch_exit_statuses`` for every launch matching ``launches`` (a condition on ``Launch``)
    at once, in the same four statements however many launches match: for the leadership digest,
    which shows each region's next gate across the portfolio."""
    now = now or utcnow()
    criteria = _criteria_where(session, launches=launches)
    if not criteria:
        return {}
    rollouts, planned = _planned_where(session, launches=launches)
    active = _active_where(session, launches=launches)
    severity_1, bugs = _feedback_where(session, launches=launches)
    facts = _ExitFacts(now, rollouts, planned, active, severity_1, bugs)
    statuses: dict[tuple[int, Phase], list[CriterionStatus]] = {}
    order = Phase.ordered()
    for rollout_id, phases in planned.items():
        ordered = [phase for phase in order if phase in phases]
        for left, gate_phase in itertools.pairwise(ordered):
            statuses[(rollout_id, gate_phase)] = [
                CriterionStatus(
                    metric=criterion.metric,
                    comparator=comparator_for(criterion.metric),
                    threshold=criterion.threshold,
                    value=(found := facts.value(criterion.metric, rollout_id, left)),
                    met=is_met(criterion.metric, found, criterion.threshold),
                )
                for criterion in criteria.get((rollouts[rollout_id][0], left), [])
            ]
    return statuses


@dataclass(frozen=True)
class _ExitFacts:
    """What the batched criteria are judged on, read once for every matching launch."""

    now: datetime
    rollouts: dict[int, tuple[int, int]]  # rollout id -> (launch id, region id), planned regions
    planned: dict[int, dict[Phase, datetime]]  # rollout id -> phase -> current date
    active: dict[tuple[int, int, Phase], int]  # (launch id, region id, beta phase) -> active accounts
    severity_1: dict[int, int]  # rollout id -> open severity-1 reports
    bugs: dict[int, list[tuple[datetime, datetime | None]]]  # rollout id -> (reported, fixed) per bug

    def value(self, metric: ExitMetric, rollout_id: int, left: Phase) -> int:
        """``criterion_value`` from the batch: the same number the per-region reads give."""
        if metric == ExitMetric.OPEN_SEVERITY_1:
            return self.severity_1.get(rollout_id, 0)
        if metric == ExitMetric.ACTIVE_ACCOUNTS:
            return self.active.get((*self.rollouts[rollout_id], left), 0)
        reported = self.bugs.get(rollout_id, [])
        return fix_weeks(
            reported=[created for created, _ in reported],
            fixed=[resolved for _, resolved in reported if resolved is not None],
            since=self.planned[rollout_id].get(left),
            now=self.now,
        )


def _criteria_where(
    session: Session, *, launches: ColumnElement[bool]
) -> dict[tuple[int, Phase], list[BetaExitCriterion]]:
    """The criteria of the matching launches by (launch id, beta phase), in id order."""
    by_phase: dict[tuple[int, Phase], list[BetaExitCriterion]] = {}
    for criterion in session.exec(
        select(BetaExitCriterion)
        .join(Launch, col(Launch.id) == col(BetaExitCriterion.launch_id))
        .where(launches)
        .order_by(col(BetaExitCriterion.id))
    ):
        by_phase.setdefault((criterion.launch_id, criterion.phase), []).append(criterion)
    return by_phase


def _planned_where(
    session: Session, *, launches: ColumnElement[bool]
) -> tuple[dict[int, tuple[int, int]], dict[int, dict[Phase, datetime]]]:
    """Each planned region's launch and region ids, and its phases' current dates."""
    rollouts: dict[int, tuple[int, int]] = {}
    planned: dict[int, dict[Phase, datetime]] = {}
    for rollout_id, launch_id, region_id, phase, current_at in session.execute(
        select_columns(
            col(PhaseDate.rollout_id),
            col(RegionRollout.launch_id),
            col(RegionRollout.region_id),
            col(PhaseDate.phase),
            col(PhaseDate.current_at),
        )
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .where(launches)
    ):
        rollouts[rollout_id] = (launch_id, region_id)
        planned.setdefault(rollout_id, {})[Phase(phase)] = as_utc(current_at)
    return rollouts, planned


def _active_where(session: Session, *, launches: ColumnElement[bool]) -> dict[tuple[int, int, Phase], int]:
    """Active accounts (enrolled, terms accepted) per launch, region and cohort phase."""
    return {
        (launch_id, region_id, Phase(phase)): int(count)
        for launch_id, region_id, phase, count in session.exec(
            select(BetaCohort.launch_id, BetaCohort.region_id, BetaCohort.phase, func.count())
            .select_from(BetaEnrollment)
            .join(BetaCohort, col(BetaCohort.id) == col(BetaEnrollment.cohort_id))
            .join(Launch, col(Launch.id) == col(BetaCohort.launch_id))
            .where(
                launches,
                BetaEnrollment.status == EnrollmentStatus.ENROLLED,
                col(BetaEnrollment.terms_accepted_at).is_not(None),
            )
            .group_by(col(BetaCohort.launch_id), col(BetaCohort.region_id), col(BetaCohort.phase))
        )
    }


def _feedback_where(
    session: Session, *, launches: ColumnElement[bool]
) -> tuple[dict[int, int], dict[int, list[tuple[datetime, datetime | None]]]]:
    """One read for both feedback metrics: per region, its open severity-1 reports and every
    unmerged bug's report and fix times."""
    severity_1: dict[int, int] = {}
    bugs: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for rollout_id, severity, kind, status, created_at, resolved_at in session.execute(
        select_columns(
            col(BetaFeedback.rollout_id),
            col(BetaFeedback.severity),
            col(BetaFeedback.type),
            col(BetaFeedback.status),
            col(BetaFeedback.created_at),
            col(BetaFeedback.resolved_at),
        )
        .join(Launch, col(Launch.id) == col(BetaFeedback.launch_id))
        .where(
            launches,
            or_(
                and_(col(BetaFeedback.severity) == 1, col(BetaFeedback.status) == FeedbackStatus.OPEN),
                and_(col(BetaFeedback.type) == FeedbackType.BUG, col(BetaFeedback.status) != FeedbackStatus.MERGED),
            ),
        )
    ):
        if severity == 1 and status == FeedbackStatus.OPEN:
            severity_1[rollout_id] = severity_1.get(rollout_id, 0) + 1
        if kind == FeedbackType.BUG and status != FeedbackStatus.MERGED:
            bugs.setdefault(rollout_id, []).append(
                (as_utc(created_at), as_utc(resolved_at) if resolved_at is not None else None)
            )
    return severity_1, bugs
