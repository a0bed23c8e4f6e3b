"""Tables of gates (what a region must meet before a phase) and the votes cast on approval gates."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from orchestrator.core.enums import (
    GateKind,
    GateStatus,
    Phase,
    Vote,
)
from orchestrator.core.models.columns import created_now, enum_field, json_list, timestamp


class Gate(SQLModel, table=True):
    """One condition a region must meet before entering a phase; passes once."""

    __table_args__ = (UniqueConstraint("rollout_id", "phase", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    phase: Phase = enum_field(Phase)
    kind: GateKind = enum_field(GateKind)
    status: GateStatus = enum_field(GateStatus, GateStatus.PENDING, index=True)
    # Approval gates: who must vote (member emails). Empty: nobody can pass it (kickoff refuses).
    approvers: list[str] = json_list()
    # How many of them must say Go (None: all of them), and whether those must be of distinct teams.
    quorum: int | None = Field(default=None, ge=1)
    distinct_teams: bool = Field(default=False)
    opened_at: datetime | None = timestamp(nullable=True)
    passed_at: datetime | None = timestamp(nullable=True)
    version: int = Field(default=1)


class Decision(SQLModel, table=True):
    """One approver's current vote on an approval gate; a changed vote replaces it (audited)."""

    __table_args__ = (UniqueConstraint("gate_id", "voter"),)

    id: int | None = Field(default=None, primary_key=True)
    gate_id: int = Field(foreign_key="gate.id", index=True)
    voter: str = Field(max_length=254)
    vote: Vote = enum_field(Vote)
    comment: str | None = Field(default=None, max_length=2000)
    # Conditional Go: the conditions accepted and who accepted the risk.
    conditions: str | None = Field(default=None, max_length=2000)
    risk_accepted_by: str | None = Field(default=None, max_length=254)
    # No-Go: when the region is looked at again.
    reevaluate_at: datetime | None = timestamp(nullable=True)
    cast_at: datetime = created_now()
    # A vote recorded by someone else (product ops, from a go/no-go meeting): who, and why.
    recorded_by: str | None = Field(default=None, max_length=254)
    on_behalf_reason: str | None = Field(default=None, max_length=2000)
    # What was approved changed (an item reopened, a waiver, the date, the approvers): the vote
    # no longer counts until its voter votes again. The ledger keeps the voided vote.
    voided_at: datetime | None = timestamp(nullable=True)
    void_reason: str | None = Field(default=None, max_length=500)
