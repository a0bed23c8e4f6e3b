"""The dashboard's page for one launch: the region x phase matrix, readiness per team, blockers,
slips, burndown, decisions, beta feedback and the audit trail, in a fixed number of queries.

Pure reads: nothing here writes."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.beta.scoring import RankedFeedback, ranked_feedback
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import SATISFYING_STATUSES, GateKind, GateStatus, ItemStatus, Phase, RolloutState
from orchestrator.core.errors import NotFound
from orchestrator.core.models import (
    AuditEvent,
    ChecklistItem,
    Gate,
    Launch,
    Member,
    PhaseDate,
    Region,
    RegionRollout,
    Team,
)
from orchestrator.gates.beta_exit import CriterionStatus, launch_exit_statuses
from orchestrator.launches.queries import launch_id_for
from orchestrator.reporting.audit import AuditFilters, list_audit
from orchestrator.reporting.burndown import Burndown, StatusChange, burndown
from orchestrator.reporting.decisions import DecisionLog, decision_log
from orchestrator.reporting.digest import LaunchDigest, build_leadership_digest
from orchestrator.reporting.rag import RagRules, RagStatus, RegionDigest, rag_for
from orchestrator.reporting.rag_history import Trend, rag_trends

PHASES = Phase.ordered()


_ORDER = {phase: index for index, phase in enumerate(PHASES)}


AUDIT_SHOWN = 50


FEEDBACK_SHOWN = 50


@dataclass(frozen=True)
class ItemRow:
    """One checklist item with the names a reader needs (region, team, assignee)."""

    id: int
    region: str
    phase: Phase
    key: str
    title: str
    team: str
    team_name: str
    assignee: str | None
    blocking: bool
    status: ItemStatus
    due_at: datetime | None
    evidence_url: str | None
    blocked_reason: str | None
    checked_by: str | None
    checked_at: datetime | None

    def is_open(self) -> bool:
        return self.status not in SATISFYING_STATUSES

    def days_late(self, now: datetime) -> int | None:
        """Whole days past due for an open item (0 on the day it fell due), None when not late."""
        if not self.is_open() or self.due_at is None or self.due_at >= now:
            return None
        return int((now - self.due_at) / timedelta(days=1))


@dataclass(frozen=True)
class Cell:
    """One region in one phase: what the matrix shows."""

    phase: Phase
    status: str  # words: not started / gated / ready / rolling out 25% / live / halted / rolled back / done
    baseline_at: datetime | None
    current_at: datetime | None
    slip_days: int
    gates: str  # e.g. "checklist passed, approval open"
    open_blocking: int
    blocking_total: int
    rag: RagStatus
    criteria: tuple[CriterionStatus, ...] = ()  # of the cell's beta-exit gate, if it has one


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    timezone: str
    state: RolloutState
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class TeamRow:
    team: str
    team_name: str
    blocking_done: int
    blocking_total: int
    done: int
    total: int
    overdue: int

    @property
    def blocking_percent(self) -> int:
        return round(100 * self.blocking_done / self.blocking_total) if self.blocking_total else 100

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


@dataclass(frozen=True)
class Blocker:
    item: ItemRow
    why: str  # "overdue 3 days", "blocked: waiting on legal", "due in 2 days"
    days_late: int | None


@dataclass(frozen=True)
class LaunchPage:
    launch: Launch
    digest: LaunchDigest
    trend: Trend
    matrix: tuple[RegionRow, ...]
    teams: tuple[TeamRow, ...]
    blockers: tuple[Blocker, ...]
    decisions: DecisionLog
    audit: tuple[AuditEvent, ...]
    audit_total: int
    burndowns: tuple[Burndown, ...]
    rules: RagRules
    generated_at: datetime
    items: tuple[ItemRow, ...] = field(repr=False)
    feedback: tuple[RankedFeedback, ...] = ()  # the top FEEDBACK_SHOWN, ranked
    feedback_total: int = 0
    feedback_region: str | None = None  # the region the feedback is narrowed to, if any
    feedback_problem: str | None = None  # why a requested region filter was not applied


def launch_items(*, session: Session, launch_id: int) -> list[ItemRow]:
    """Every item of a launch with region, team and assignee names, in one statement; ordered by
    region rollout order, phase, due date (undated last) and id."""
    rows = session.execute(
        select_columns(
            col(ChecklistItem.id),
            col(Region.code),
            col(ChecklistItem.phase),
            col(ChecklistItem.key),
            col(ChecklistItem.title),
            col(Team.key),
            col(Team.name),
            col(Member.email),
            col(ChecklistItem.blocking),
            col(ChecklistItem.status),
            col(ChecklistItem.due_at),
            col(ChecklistItem.evidence_url),
            col(ChecklistItem.blocked_reason),
            col(ChecklistItem.checked_by),
            col(ChecklistItem.checked_at),
            col(Region.rollout_order),
        )
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .outerjoin(Member, col(Member.id) == col(ChecklistItem.assignee_id))
        .where(col(ChecklistItem.launch_id) == launch_id)
    ).all()
    items = [
        ItemRow(
            id=row[0],
            region=row[1],
            phase=row[2],  # already the enum (EnumText): no per-row conversion
            key=row[3],
            title=row[4],
            team=row[5],
            team_name=row[6],
            assignee=row[7],
            blocking=bool(row[8]),
            status=row[9],
            due_at=as_utc(row[10]) if row[10] is not None else None,
            evidence_url=row[11],
            blocked_reason=row[12],
            checked_by=row[13],
            checked_at=as_utc(row[14]) if row[14] is not None else None,
        )
        for row in rows
    ]
    order = {row[1]: (row[15], row[1]) for row in rows}
    far = datetime.max.replace(tzinfo=UTC)
    items.sort(key=lambda item: (order[item.region], _ORDER[item.phase], item.due_at or far, item.id))
    return items


def launch_page(
    *, session: Session, slug: str, now: datetime, rules: RagRules | None = None, feedback_region: str | None = None
) -> LaunchPage:
    """One launch as leadership reads it, in a fixed number of queries (about twenty-five, the
    beta-exit criteria of every gate and the ranked feedback included).

    ``feedback_region`` narrows the ranked beta feedback to one of the launch's regions; for a
    code the launch does not roll out to, the page shows every region and says why in
    ``feedback_problem`` (a mistyped link still opens the page).
    A pure read that leaves the transaction to the caller, who ends it once the page is rendered
    (the launch, votes and audit events are ORM rows a commit would expire)."""
    rules = rules or RagRules.from_settings()
    launch_id = launch_id_for(session=session, slug=slug)
    criteria = launch_exit_statuses(session=session, launch_id=launch_id, now=now)
    digest = build_leadership_digest(
        session=session, now=now, rules=rules, launch_ids=[launch_id], exit_statuses=criteria
    )
    if not digest.launches:
        raise NotFound("launch", slug)
    summary = digest.launches[0]
    launch = session.exec(select(Launch).where(Launch.id == launch_id)).one()
    trend = rag_trends(session=session, current={launch_id: summary.rag}, today=now.date())[launch_id]
    rollouts = session.exec(
        select(RegionRollout, Region)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.launch_id == launch_id)
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    rollout_ids = [rollout.id for rollout, _region in rollouts]
    dates: dict[int, dict[Phase, PhaseDate]] = defaultdict(dict)
    for phase_date in session.exec(select(PhaseDate).where(col(PhaseDate.rollout_id).in_(rollout_ids))):
        dates[phase_date.rollout_id][phase_date.phase] = phase_date
    gates: dict[tuple[int, Phase], list[Gate]] = defaultdict(list)
    for gate in session.exec(select(Gate).where(col(Gate.rollout_id).in_(rollout_ids)).order_by(col(Gate.kind))):
        gates[(gate.rollout_id, gate.phase)].append(gate)
    items = launch_items(session=session, launch_id=launch_id)
    decisions = decision_log(session=session, launch_id=launch_id)
    audit, audit_total = list_audit(
        session=session, launch_id=launch_id, filters=AuditFilters(), limit=AUDIT_SHOWN, offset=0
    )
    changes = _status_changes(session, launch_id=launch_id)
    feedback_problem = None
    if feedback_region is not None and feedback_region not in {region.code for _rollout, region in rollouts}:
        codes = ", ".join(region.code for _rollout, region in rollouts) or "none"
        feedback_problem = f"{feedback_region!r} is not a region of this launch (it has: {codes}); showing every region"
        feedback_region = None
    feedback = ranked_feedback(session=session, launch_id=launch_id, region=feedback_region)

    by_cell: dict[tuple[str, Phase], list[ItemRow]] = defaultdict(list)
    for item in items:
        by_cell[(item.region, item.phase)].append(item)
    matrix = []
    burndowns = []
    region_digests = {region.region: region for region in summary.regions}
    for rollout, region in rollouts:
        assert rollout.id is not None
        cells = tuple(
            _cell(
                rollout=rollout,
                region=region.code,
                phase=phase,
                planned=dates[rollout.id].get(phase),
                gates=gates[(rollout.id, phase)],
                items=by_cell[(region.code, phase)],
                now=now,
                rules=rules,
                criteria=criteria.get((rollout.id, phase), [])
                if any(gate.kind == GateKind.BETA_EXIT for gate in gates[(rollout.id, phase)])
                else [],
            )
            for phase in PHASES
        )
        matrix.append(RegionRow(region.code, region.name, region.timezone, rollout.state, cells))
        digest_region = region_digests.get(region.code)
        gate_phase = digest_region.next_gate_phase if digest_region else None
        if gate_phase is not None:
            gate_items = [item for item in by_cell[(region.code, gate_phase)] if item.blocking]
            ids = {item.id for item in gate_items}
            planned = dates[rollout.id].get(gate_phase)
            burndowns.append(
                burndown(
                    region=region.code,
                    phase=gate_phase,
                    open_now=sum(1 for item in gate_items if item.is_open()),
                    changes=[change for item_id, change in changes if item_id in ids],
                    start=min(as_utc(launch.created_at), now),
                    now=now,
                    gate_at=as_utc(planned.current_at) if planned is not None else None,
                )
            )
    return LaunchPage(
        launch=launch,
        digest=summary,
        trend=trend,
        matrix=tuple(matrix),
        teams=_teams(items, now),
        blockers=_blockers(items, now, rules),
        decisions=decisions,
        audit=tuple(audit),
        audit_total=audit_total,
        burndowns=tuple(burndowns),
        rules=rules,
        generated_at=now,
        items=tuple(items),
        feedback=tuple(feedback[:FEEDBACK_SHOWN]),
        feedback_total=len(feedback),
        feedback_region=feedback_region,
        feedback_problem=feedback_problem,
    )


def _status_changes(session: Session, *, launch_id: int) -> list[tuple[int, StatusChange]]:
    """Every item status change of a launch from the ledger: (item id, closed or reopened)."""
    changes = []
    for item_id, before, after, at in session.execute(
        select(AuditEvent.entity_id, AuditEvent.before, AuditEvent.after, AuditEvent.at).where(
            col(AuditEvent.launch_id) == launch_id, col(AuditEvent.entity) == "item"
        )
    ):
        old, new = (before or {}).get("status"), (after or {}).get("status")
        if item_id is None or old is None or new is None or old == new:
            continue
        was_open = ItemStatus(old) not in SATISFYING_STATUSES
        is_open = ItemStatus(new) not in SATISFYING_STATUSES
        if was_open != is_open:
            changes.append((int(item_id), StatusChange(as_utc(at), closed=was_open)))
    return changes


def _cell(
    *,
    rollout: RegionRollout,
    region: str,
    phase: Phase,
    planned: PhaseDate | None,
    gates: Sequence[Gate],
    items: Sequence[ItemRow],
    now: datetime,
    rules: RagRules,
    criteria: Sequence[CriterionStatus],
) -> Cell:
    current = _ORDER[rollout.phase] if rollout.phase is not None else -1
    here = _ORDER[phase]
    if rollout.phase == phase:
        status = _state_words(rollout)
    elif here < current:
        status = "done"
    else:
        status = "not started"
    slip = 0
    if planned is not None:
        slip = round((as_utc(planned.current_at) - as_utc(planned.baseline_at)) / timedelta(days=1))
    open_blocking = [item for item in items if item.blocking and item.is_open()]
    upcoming = [item.due_at for item in open_blocking if item.due_at is not None and item.due_at >= now]
    counts = RegionDigest(
        region=region,
        region_name=region,
        state=rollout.state if rollout.phase == phase else RolloutState.PLANNED,
        phase=phase,
        percent=rollout.percent,
        open_blocking=len(open_blocking),
        overdue_blocking=sum(1 for item in open_blocking if item.due_at is not None and item.due_at < now),
        blocked=sum(1 for item in items if item.status == ItemStatus.BLOCKED),
        blocked_blocking=sum(1 for item in open_blocking if item.status == ItemStatus.BLOCKED),
        next_blocking_due_at=min(upcoming, default=None),
        slip_days=max(slip, 0) if here >= current else 0,
        slip_phase=phase if here >= current and slip > 0 else None,
        next_gate_phase=None,
        next_gate_at=None,
    )
    gate_words = ", ".join(f"{gate.kind.value.replace('_', ' ')} {_gate_words(gate.status)}" for gate in gates)
    return Cell(
        phase=phase,
        status=status,
        baseline_at=as_utc(planned.baseline_at) if planned is not None else None,
        current_at=as_utc(planned.current_at) if planned is not None else None,
        slip_days=slip,
        gates=gate_words or "no gate",
        open_blocking=len(open_blocking),
        blocking_total=sum(1 for item in items if item.blocking),
        rag=rag_for([counts], now=now, rules=rules),
        criteria=tuple(criteria),
    )


def _state_words(rollout: RegionRollout) -> str:
    if rollout.state == RolloutState.ROLLING_OUT:
        return f"rolling out {rollout.percent}%"
    return rollout.state.value.replace("_", " ")


def _gate_words(status: GateStatus) -> str:
    return {GateStatus.PENDING: "pending", GateStatus.OPEN: "open", GateStatus.PASSED: "passed"}[status]


def _teams(items: Sequence[ItemRow], now: datetime) -> tuple[TeamRow, ...]:
    tallies: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for item in items:
        tally = tallies.setdefault(item.team, [0, 0, 0, 0, 0])
        names[item.team] = item.team_name
        done = not item.is_open()
        tally[0] += int(item.blocking and done)
        tally[1] += int(item.blocking)
        tally[2] += int(done)
        tally[3] += 1
        tally[4] += int(item.days_late(now) is not None)
    return tuple(TeamRow(team, names[team], *tally) for team, tally in sorted(tallies.items()))


def _blockers(items: Sequence[ItemRow], now: datetime, rules: RagRules) -> tuple[Blocker, ...]:
    """Open blocking items that are late, marked blocked or due within the amber window, latest
    first: what leadership should ask about."""
    found = []
    for item in items:
        if not (item.blocking and item.is_open()):
            continue
        late = item.days_late(now)
        if item.status == ItemStatus.BLOCKED:
            why = "blocked" + (f": {item.blocked_reason}" if item.blocked_reason else "")
            if late is not None:
                why += f" (overdue {_days(late)})"
        elif late is not None:
            why = f"overdue {_days(late)}"
        elif item.due_at is not None and item.due_at <= now + rules.due_soon:
            why = f"due {item.due_at:%Y-%m-%d %H:%M} UTC"
        else:
            continue
        found.append(Blocker(item=item, why=why, days_late=late))
    found.sort(key=lambda blocker: (-(blocker.days_late if blocker.days_late is not None else -1), blocker.item.id))
    return tuple(found)


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"
