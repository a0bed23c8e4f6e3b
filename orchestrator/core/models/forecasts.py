"""Recorded readiness forecasts: when a region's next gate's blocking items were projected to be
done, next to that phase's date at the time, kept so a forecast's accuracy can be read once the
gate has passed (the projection itself is computed, never stored anywhere else)."""

from datetime import datetime

from sqlalchemy import DateTime, Index
from sqlmodel import Field, SQLModel

from orchestrator.core.enums import Phase
from orchestrator.core.models.columns import created_now, enum_field, timestamp


class Forecast(SQLModel, table=True):
    """One forecast of one region's next gate. A forecast made again on the same UTC day with the
    same outcome is the same row (``key``), whose ``confirmed_at`` moves: so a region has at most
    one row per distinct forecast and day, and its latest forecast is the latest confirmed."""

    # A region's latest forecast (of those made in a window): one seek, newest first, id breaking ties.
    __table_args__ = (Index("ix_forecast_latest", "rollout_id", "confirmed_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    # rollout, phase, UTC day, projected day and phase date: what makes a forecast new.
    key: str = Field(max_length=200, unique=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    rollout_id: int = Field(foreign_key="regionrollout.id")
    phase: Phase = enum_field(Phase)
    made_at: datetime = created_now()  # first made (this day, this outcome)
    confirmed_at: datetime = created_now()  # last made
    phase_at: datetime = Field(sa_type=DateTime(timezone=True))  # the phase's date at the time
    # When the open blocking items reach zero at the recent rate; None when there is nothing to
    # project: none open (open_blocking 0) or none closed over the rate's window.
    projected_at: datetime | None = timestamp(nullable=True)
    open_blocking: int = Field(ge=0)
    rate_per_day: float = Field(ge=0)
