"""The decision log: every vote and waiver of a launch, for leadership and the API."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from orchestrator.core.enums import GateStatus, Phase
from orchestrator.core.errors import NotFound
from orchestrator.core.models import ChecklistItem, Decision, Gate, Region, RegionRollout, Waiver


@dataclass(frozen=True)
class VoteView:
    """A vote with the gate it was cast on, named by region and phase."""

    decision: Decision
    gate_id: int
    gate_status: GateStatus
    phase: Phase
    region: str


@dataclass(frozen=True)
class WaiverView:
    waiver: Waiver
    item_key: str
    phase: Phase
    region: str


@dataclass(frozen=True)
class DecisionLog:
    votes: list[VoteView]
    waivers: list[WaiverView]


def _votes(session: Session, *condition: ColumnElement[bool]) -> list[VoteView]:
    rows = session.exec(
        select(Decision, Gate, Region.code)
        .join(Gate, col(Gate.id) == col(Decision.gate_id))
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(*condition)
        .order_by(col(Decision.cast_at).desc(), col(Decision.id).desc())
        .execution_options(populate_existing=True)
    ).all()
    return [VoteView(decision, gate.id, gate.status, gate.phase, code) for decision, gate, code in rows]  # type: ignore[arg-type]


def vote_view(*, session: Session, decision_id: int) -> VoteView:
    found = _votes(session, col(Decision.id) == decision_id)
    if not found:
        raise NotFound("decision", decision_id)
    return found[0]


def decision_log(*, session: Session, launch_id: int) -> DecisionLog:
    """Every current vote and every waiver (revoked ones too) of a launch, newest first, in two
    statements: the record leadership and auditors read to see who accepted which risk."""
    votes = _votes(session, col(RegionRollout.launch_id) == launch_id)
    rows = session.exec(
        select(Waiver, ChecklistItem.key, ChecklistItem.phase, Region.code)
        .join(ChecklistItem, col(ChecklistItem.id) == col(Waiver.item_id))
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(ChecklistItem.launch_id) == launch_id)
        .order_by(col(Waiver.created_at).desc(), col(Waiver.id).desc())
    ).all()
    return DecisionLog(
        votes=votes, waivers=[WaiverView(waiver, key, Phase(phase), code) for waiver, key, phase, code in rows]
    )
