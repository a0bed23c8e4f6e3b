"""Tables of launches and their regions: the launch, one rollout per region, phase dates with
their history, and what the built-in recording target received."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from orchestrator.core.enums import (
    LaunchStatus,
    Phase,
    RolloutState,
    WaveMode,
)
from orchestrator.core.models.columns import created_now, enum_field, json_dict, json_list, timestamp


class Launch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=200)
    tier: int = Field(ge=1, le=3)
    status: LaunchStatus = enum_field(LaunchStatus, LaunchStatus.DRAFT, index=True)
    owner: str = Field(max_length=254)
    exec_sponsor: str | None = Field(default=None, max_length=254)
    flags: list[str] = json_list()
    template_version: str | None = Field(default=None, max_length=80)
    # sequential: a region enters a phase only after every region before it is live in it.
    wave_mode: WaveMode = enum_field(WaveMode, WaveMode.PARALLEL)
    # Exposure steps per phase: {"ga": [{"percent": 5, "hold_minutes": 60}, ...]}; missing phases use defaults.
    ramp_plan: dict[str, Any] = json_dict()
    # Where this launch's exposure changes go (None: LAUNCHDECK_ROLLOUT_TARGET) and the feature flag
    # they move there (None: the slug). A region may name its own (RegionRollout).
    rollout_target: str | None = Field(default=None, max_length=20)
    flag_key: str | None = Field(default=None, max_length=100)
    version: int = Field(default=1)
    created_at: datetime = created_now()
    updated_at: datetime = created_now()


class RegionRollout(SQLModel, table=True):
    """One launch in one region, moving through the phases on its own dates."""

    __table_args__ = (UniqueConstraint("launch_id", "region_id"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    state: RolloutState = enum_field(RolloutState, RolloutState.PLANNED, index=True)
    phase: Phase | None = enum_field(Phase, None, nullable=True)
    percent: int = Field(default=0, ge=0, le=100)
    # Phases this region skips on purpose (phase values, in order): they have no date and no gates,
    # and every view shows them as "skipped" instead of as done or not started.
    skipped_phases: list[str] = json_list()
    # The state a halt interrupted, so resume returns exactly there.
    halted_from: RolloutState | None = enum_field(RolloutState, None, nullable=True)
    halt_reason: str | None = Field(default=None, max_length=500)
    reevaluate_at: datetime | None = timestamp(nullable=True)
    # When the clock alone may move this region (a phase date, a window opening, a ramp hold ending).
    next_check_at: datetime | None = timestamp(nullable=True, index=True)
    # A worker's short claim on running this region's flow, so two workers do not both start it.
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = timestamp(nullable=True)
    # This region's own rollout target and flag key (None: the launch's).
    rollout_target: str | None = Field(default=None, max_length=20)
    flag_key: str | None = Field(default=None, max_length=100)
    version: int = Field(default=1)
    updated_at: datetime = created_now()


class PhaseDate(SQLModel, table=True):
    """When a region enters a phase: the first plan (baseline) and the current plan."""

    __table_args__ = (UniqueConstraint("rollout_id", "phase"),)

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    phase: Phase = enum_field(Phase)
    baseline_at: datetime = Field(sa_type=DateTime(timezone=True))
    current_at: datetime = Field(sa_type=DateTime(timezone=True))


class PhaseDateChange(SQLModel, table=True):
    """One reschedule of a phase date: the slip history leadership reads."""

    id: int | None = Field(default=None, primary_key=True)
    phase_date_id: int = Field(foreign_key="phasedate.id", index=True)
    old_at: datetime = Field(sa_type=DateTime(timezone=True))
    new_at: datetime = Field(sa_type=DateTime(timezone=True))
    actor: str = Field(max_length=254)
    reason: str = Field(max_length=1000)
    changed_at: datetime = created_now()


class ExposureChange(SQLModel, table=True):
    """What the rollout target received: one row per exposure request (a region re-ramped after a
    rollback gets new rows, with new keys). The recording target only writes here; a real target
    (Unleash) writes here after the change took, with what the target answered when read back."""

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    launch_slug: str = Field(max_length=80, index=True)
    region: str = Field(max_length=40)
    phase: Phase = enum_field(Phase)
    percent: int = Field(ge=0, le=100)
    idempotency_key: str = Field(max_length=300, unique=True)
    received_at: datetime = created_now()
    target: str = Field(default="recording", max_length=40, sa_column_kwargs={"server_default": "recording"})
    answer: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ExposureCheck(SQLModel, table=True):
    """What synthetic users saw after an exposure change: the share the target really serves
    (evaluated through OpenFeature) next to the share launchdeck intended. ``ok`` is None when the
    target cannot be evaluated (the recorder, a webhook): "not verifiable", said in ``note``."""

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    region: str = Field(max_length=40)
    target: str = Field(max_length=40)
    flag: str = Field(max_length=200)
    intended: int = Field(ge=0, le=100)
    observed: float | None = Field(default=None)
    users: int = Field(default=0, ge=0)
    ok: bool | None = Field(default=None)
    note: str | None = Field(default=None, max_length=500)
    checked_at: datetime = created_now()
