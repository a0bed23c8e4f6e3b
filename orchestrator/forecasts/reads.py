"""What a forecast is made from, for any number of launches in six statements: each region's next
gate (the earliest phase with a gate not yet passed) and its date, that phase's blocking items
and their status changes from the ledger, turned into the burndown of each gate.

Only the ledger's changes within the burndown's rate window are read: the projection depends on
nothing older (the rate is the net closings since the window's start, counted back from today's
open count), so an hourly forecast of every active launch reads recent history, not all of it.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import SATISFYING_STATUSES, GateStatus, ItemStatus, Phase
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Launch, RegionRollout
from orchestrator.core.sqltime import read_when
from orchestrator.forecasts.projection import Projection, project
from orchestrator.reporting.burndown import BURN_WINDOW, Burndown, StatusChange, burndown
from orchestrator.reporting.digest_reads import planned_dates, rollout_rows

_PHASES = Phase.ordered()


def _rank(column: Any) -> Any:
    """A phase column as its position in Phase.ordered(), in SQL."""
    return case({phase.value: index for index, phase in enumerate(_PHASES)}, value=column)


def _next_gates(which: ColumnElement[bool]) -> Any:
    """Per region of the chosen launches, the rank of the earliest phase with a gate not passed."""
    return (
        select_columns(col(Gate.rollout_id).label("rollout_id"), func.min(_rank(col(Gate.phase))).label("rank"))
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .where(which, col(Gate.status) != GateStatus.PASSED)
        .group_by(col(Gate.rollout_id))
        .subquery()
    )


def projections(session: Session, *, which: ColumnElement[bool], now: datetime) -> list[Projection]:
    """The forecast of every chosen region's next gate, regions in rollout order; a region with no
    gate left has none."""
    return [
        project(chart, launch_id=launch_id, rollout_id=rollout_id)
        for chart, launch_id, rollout_id in _charts(session, which=which, now=now)
    ]


def _charts(session: Session, *, which: ColumnElement[bool], now: datetime) -> list[tuple[Burndown, int, int]]:
    gates = _next_gates(which)
    next_phase = {
        rollout_id: _PHASES[rank]
        for rollout_id, rank in session.execute(select_columns(gates.c.rollout_id, gates.c.rank))
    }
    dates = planned_dates(session, which=which)
    created = {
        launch_id: as_utc(created_at)
        for launch_id, created_at in session.execute(
            select_columns(col(Launch.id), col(Launch.created_at)).where(which)
        )
    }
    items = _gate_items(session, which=which, gates=gates)
    changes = _changes(session, which=which, gates=gates, since=now - BURN_WINDOW)
    charts = []
    for rollout_id, launch_id, _state, _phase, _percent, code, _name, _zone, _skipped in rollout_rows(
        session, which=which
    ):
        phase = next_phase.get(rollout_id)
        if phase is None:
            continue
        planned = dates.get(rollout_id, {}).get(phase)
        statuses = items.get(rollout_id, {})
        chart = burndown(
            region=code,
            phase=phase,
            open_now=sum(1 for status in statuses.values() if status not in SATISFYING_STATUSES),
            changes=[change for item_id, change in changes.get(rollout_id, []) if item_id in statuses],
            start=min(created[launch_id], now),
            now=now,
            gate_at=read_when(planned.current_at) if planned is not None else None,
        )
        charts.append((chart, launch_id, rollout_id))
    return charts


def _gate_items(session: Session, *, which: ColumnElement[bool], gates: Any) -> dict[int, dict[int, ItemStatus]]:
    """Per region, the status of each blocking item of its next gate's phase."""
    found: dict[int, dict[int, ItemStatus]] = defaultdict(dict)
    for item_id, rollout_id, status in session.execute(
        select_columns(col(ChecklistItem.id), col(ChecklistItem.rollout_id), col(ChecklistItem.status))
        .join(
            gates,
            (gates.c.rollout_id == col(ChecklistItem.rollout_id)) & (gates.c.rank == _rank(col(ChecklistItem.phase))),
        )
        .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
        .where(which, col(ChecklistItem.blocking).is_(True))
    ):
        found[rollout_id][item_id] = ItemStatus(status)
    return found


def _changes(
    session: Session, *, which: ColumnElement[bool], gates: Any, since: datetime
) -> dict[int, list[tuple[int, StatusChange]]]:
    """Per region, the next gate's blocking items leaving or re-entering the open set since
    ``since``, from the ledger (items keep no history of their own)."""
    found: dict[int, list[tuple[int, StatusChange]]] = defaultdict(list)
    for item_id, rollout_id, before, after, at in session.execute(
        select_columns(
            col(ChecklistItem.id),
            col(ChecklistItem.rollout_id),
            col(AuditEvent.before),
            col(AuditEvent.after),
            col(AuditEvent.at),
        )
        .join(ChecklistItem, col(ChecklistItem.id) == col(AuditEvent.entity_id))
        .join(
            gates,
            (gates.c.rollout_id == col(ChecklistItem.rollout_id)) & (gates.c.rank == _rank(col(ChecklistItem.phase))),
        )
        .join(Launch, col(Launch.id) == col(AuditEvent.launch_id))
        .where(
            which,
            col(AuditEvent.entity) == "item",
            col(AuditEvent.at) >= since,
            col(ChecklistItem.blocking).is_(True),
        )
    ):
        change = status_change(before, after, at)
        if change is not None:
            found[rollout_id].append((item_id, change))
    return found


def status_change(before: dict[str, Any] | None, after: dict[str, Any] | None, at: datetime) -> StatusChange | None:
    """An item's audit event as a burndown change: it closed (left the open set) or reopened;
    None when its status stayed on the same side (or the event changed no status)."""
    old, new = (before or {}).get("status"), (after or {}).get("status")
    if old is None or new is None or old == new:
        return None
    was_open = ItemStatus(old) not in SATISFYING_STATUSES
    is_open = ItemStatus(new) not in SATISFYING_STATUSES
    if was_open == is_open:
        return None
    return StatusChange(as_utc(at), closed=was_open)


def ids_where(launch_ids: Sequence[int]) -> ColumnElement[bool]:
    return col(Launch.id).in_(list(launch_ids))
