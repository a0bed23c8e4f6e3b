"""The portfolio's order, red first, computed by the database for every active launch, so that a
page of the portfolio computes only its own fifty launches (``portfolio_search``).

Why a second form of the RAG rule: the colour of a launch needs its open items, dates and states,
and reading those for a thousand launches (and building their digests) took 370-800 ms, most of
it for launches on other pages. Here the same rule is one statement of EXISTS probes over the
indexes, answering only "red, amber or green" per launch. ``rag_for`` stays the rule the pages
show (with its reasons); ``tests/orchestrator/reporting/test_rag_rank.py`` holds the two to the
same colour on both databases, edge by edge (each threshold, advisory items, skipped phases).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, literal, or_, text
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.enums import ItemStatus, RolloutState
from orchestrator.core.models import OPEN_BLOCKING_ITEM, ChecklistItem, Launch, PhaseDate, RegionRollout
from orchestrator.core.sqltime import seconds_between
from orchestrator.reporting.digest_reads import phase_rank
from orchestrator.reporting.rag import Rag, RagRules

_DAY_SECONDS = 86400
_BY_SEVERITY = sorted(Rag, key=lambda rag: rag.severity)


def ranked_launches(
    session: Session, *, which: ColumnElement[bool], now: datetime, rules: RagRules
) -> list[tuple[int, Rag]]:
    """The chosen launches' ids with their colour, red first, then by slug (the digest's order)."""
    severity = case((_any_region(_red_region(now)), 0), (_any_region(_amber_region(now, rules)), 1), else_=2)
    statement = select_columns(col(Launch.id), severity).where(which).order_by(severity, col(Launch.slug))
    return [(int(launch_id), _BY_SEVERITY[int(rank)]) for launch_id, rank in session.execute(statement)]


def slip_threshold_seconds(slip_amber_days: int) -> int:
    """The fewest whole seconds of slip that ``rag_for`` colours amber: the digest rounds a slip
    to whole days with Python's ``round`` (half to even) and wants more than ``slip_amber_days``."""
    half_past = (2 * slip_amber_days + 1) * _DAY_SECONDS // 2
    return half_past if round(half_past / _DAY_SECONDS) > slip_amber_days else half_past + 1


def _any_region(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(col(RegionRollout.launch_id) == col(Launch.id), condition)


def _items(*conditions: Any) -> ColumnElement[bool]:
    """Some item of the region meets ``conditions`` (correlated to the region row)."""
    return (
        select_columns(literal(1))
        .select_from(ChecklistItem)
        .where(col(ChecklistItem.rollout_id) == col(RegionRollout.id), *conditions)
        .exists()
    )


def _red_region(now: datetime) -> ColumnElement[bool]:
    """Halted or rolled back, or a blocking item overdue or marked blocked."""
    open_blocking = text(OPEN_BLOCKING_ITEM)  # word for word, or SQLite ignores the partial index
    return or_(
        col(RegionRollout.state).in_([RolloutState.HALTED, RolloutState.ROLLED_BACK]),
        _items(open_blocking, col(ChecklistItem.due_at) < now),
        _items(
            col(ChecklistItem.launch_id) == col(RegionRollout.launch_id),
            col(ChecklistItem.status) == ItemStatus.BLOCKED,
            col(ChecklistItem.blocking).is_(True),
        ),
    )


def _amber_region(now: datetime, rules: RagRules) -> ColumnElement[bool]:
    """A blocking item due within ``due_soon``, or the current or a later phase slipped more than
    ``slip_amber_days`` whole days (a red region is counted red before this is asked)."""
    due = col(ChecklistItem.due_at)
    slipped = (
        select_columns(literal(1))
        .select_from(PhaseDate)
        .where(
            col(PhaseDate.rollout_id) == col(RegionRollout.id),
            phase_rank(col(PhaseDate.phase)) >= func.coalesce(phase_rank(col(RegionRollout.phase)), 0),
            seconds_between(col(PhaseDate.current_at), col(PhaseDate.baseline_at))
            >= slip_threshold_seconds(rules.slip_amber_days),
        )
        .exists()
    )
    soon = _items(text(OPEN_BLOCKING_ITEM), due >= now, due <= now + rules.due_soon)
    return or_(soon, slipped)
