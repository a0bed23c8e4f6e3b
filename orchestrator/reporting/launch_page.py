"""The dashboard's page for one launch: the region x phase matrix, readiness per team, blockers,
slips, burndown, decisions, beta feedback, the latest exposure check per region and the latest
of the audit trail, in a fixed number of queries.

Pure reads: nothing here writes. The matrix is built in ``launch_matrix``, the item rows, team
rows and blockers in ``launch_items``."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.beta.scoring import RankedFeedback, ranked_feedback
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import SATISFYING_STATUSES, ItemStatus, Phase
from orchestrator.core.errors import NotFound
from orchestrator.core.models import AuditEvent, Launch
from orchestrator.gates.beta_exit import launch_exit_statuses
from orchestrator.launches.queries import launch_id_for
from orchestrator.reporting.audit_timeline import AuditTimeline, audit_timeline
from orchestrator.reporting.burndown import Burndown, StatusChange, burndown
from orchestrator.reporting.decisions import DecisionLog, decision_log
from orchestrator.reporting.digest import LaunchDigest, build_leadership_digest
from orchestrator.reporting.launch_items import Blocker, ItemRow, TeamRow, blockers, launch_items, team_rows
from orchestrator.reporting.launch_matrix import LaunchLayout, RegionRow, items_by_cell, read_layout, region_rows
from orchestrator.reporting.rag import RagRules
from orchestrator.reporting.rag_history import Trend, rag_trends
from orchestrator.rollouts.exposure_checks import CheckView, latest_checks

AUDIT_SHOWN = 10  # the latest; the launch's audit page has the rest, fifty a page


FEEDBACK_SHOWN = 50


@dataclass(frozen=True)
class LaunchPage:
    launch: Launch
    digest: LaunchDigest
    trend: Trend
    matrix: tuple[RegionRow, ...]
    teams: tuple[TeamRow, ...]
    blockers: tuple[Blocker, ...]
    decisions: DecisionLog
    audit: AuditTimeline  # the latest AUDIT_SHOWN events, in sentences
    burndowns: tuple[Burndown, ...]
    rules: RagRules
    generated_at: datetime
    items: tuple[ItemRow, ...] = field(repr=False)
    feedback: tuple[RankedFeedback, ...] = ()  # the top FEEDBACK_SHOWN, ranked
    feedback_total: int = 0
    feedback_region: str | None = None  # the region the feedback is narrowed to, if any
    feedback_problem: str | None = None  # why a requested region filter was not applied
    exposure_checks: tuple[CheckView, ...] = ()  # the newest check of each region, by region code


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
    layout = read_layout(session, launch_id=launch_id)
    items = launch_items(session=session, launch_id=launch_id)
    decisions = decision_log(session=session, launch_id=launch_id)
    audit = audit_timeline(session=session, launch_id=launch_id, per_page=AUDIT_SHOWN)
    changes = _status_changes(session, launch_id=launch_id)
    feedback_region, feedback_problem = _feedback_filter(feedback_region, layout=layout)
    feedback = ranked_feedback(session=session, launch_id=launch_id, region=feedback_region)
    by_cell = items_by_cell(items)
    return LaunchPage(
        launch=launch,
        digest=summary,
        trend=trend,
        matrix=region_rows(layout, by_cell=by_cell, criteria=criteria, now=now, rules=rules),
        teams=team_rows(items, now),
        blockers=blockers(items, now, rules),
        decisions=decisions,
        audit=audit,
        burndowns=_burndowns(layout, launch=launch, summary=summary, by_cell=by_cell, changes=changes, now=now),
        rules=rules,
        generated_at=now,
        items=tuple(items),
        feedback=tuple(feedback[:FEEDBACK_SHOWN]),
        feedback_total=len(feedback),
        feedback_region=feedback_region,
        feedback_problem=feedback_problem,
        exposure_checks=tuple(latest_checks(session, launch_id=launch_id)),
    )


def _feedback_filter(region: str | None, *, layout: LaunchLayout) -> tuple[str | None, str | None]:
    """The region to narrow the feedback to, and why a requested one was dropped (not the
    launch's: the page shows every region rather than nothing)."""
    codes = [code.code for _rollout, code in layout.rollouts]
    if region is None or region in codes:
        return region, None
    shown = ", ".join(codes) or "none"
    return None, f"{region!r} is not a region of this launch (it has: {shown}); showing every region"


def _burndowns(
    layout: LaunchLayout,
    *,
    launch: Launch,
    summary: LaunchDigest,
    by_cell: Mapping[tuple[str, Phase], Sequence[ItemRow]],
    changes: Sequence[tuple[int, StatusChange]],
    now: datetime,
) -> tuple[Burndown, ...]:
    """Per region waiting at a gate, the burndown of that phase's blocking items toward it."""
    region_digests = {region.region: region for region in summary.regions}
    found = []
    for rollout, region in layout.rollouts:
        assert rollout.id is not None
        digest_region = region_digests.get(region.code)
        gate_phase = digest_region.next_gate_phase if digest_region else None
        if gate_phase is None:
            continue
        gate_items = [item for item in by_cell.get((region.code, gate_phase), []) if item.blocking]
        ids = {item.id for item in gate_items}
        planned = layout.dates.get(rollout.id, {}).get(gate_phase)
        found.append(
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
    return tuple(found)


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
