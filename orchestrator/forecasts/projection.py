"""A readiness forecast of one region's next gate: when its blocking items will be done at the
recent rate. The projection is the burndown's (``orchestrator.reporting.burndown``: the straight
line through the last two weeks' net closings), so the dashboard's chart and the forecast never
disagree; this module only names its outcome and words it. Pure."""

from dataclasses import dataclass
from datetime import datetime

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import Phase
from orchestrator.reporting.audit_words import phase_label
from orchestrator.reporting.burndown import Burndown
from orchestrator.reporting.forecast_misses import days_after, miss_reason


@dataclass(frozen=True)
class Projection:
    """Where one region's next gate's checklist stands and when it will be done."""

    launch_id: int
    rollout_id: int
    region: str
    phase: Phase
    phase_at: datetime | None  # the phase's current date
    open_blocking: int
    rate_per_day: float  # net blocking items closed per day over the last two weeks
    # When the open count reaches zero at that rate; None when none is open (done) or none
    # closed over the window (no projection).
    projected_at: datetime | None

    @property
    def done(self) -> bool:
        return self.open_blocking == 0

    @property
    def days_late(self) -> int | None:
        """Days the projection lands after the phase date (negative: before); None without one."""
        if self.projected_at is None or self.phase_at is None:
            return None
        return days_after(self.projected_at, self.phase_at)

    @property
    def misses(self) -> bool:
        return self.reason is not None

    @property
    def reason(self) -> str | None:
        """The RAG's sentence when the projection misses the phase date (else None)."""
        return miss_reason(region=self.region, phase=self.phase, projected_at=self.projected_at, phase_at=self.phase_at)

    @property
    def outcome(self) -> str:
        """``done``, ``no projection`` or the projected day: what makes a recorded forecast new."""
        if self.done:
            return "done"
        if self.projected_at is None:
            return "none"
        return f"{as_utc(self.projected_at):%Y-%m-%d}"

    @property
    def summary(self) -> str:
        """The forecast in one sentence, for the page, the CLI and the API."""
        where = f"{self.region} {phase_label(self.phase)}"
        if self.done:
            return f"{where}: every blocking item is done"
        items = f"{self.open_blocking} blocking item{'s' if self.open_blocking != 1 else ''} open"
        if self.projected_at is None:
            return f"{where}: {items} and none closed in the last two weeks, so no projection"
        text = f"{where}: {items}, closing {self.rate_per_day:.2f} a day: done by {as_utc(self.projected_at):%Y-%m-%d}"
        late = self.days_late
        if late is None or self.phase_at is None:
            return text
        on = f"{as_utc(self.phase_at):%Y-%m-%d}"
        if late > 0:
            return f"{text}, {late} day{'s' if late != 1 else ''} after the phase date {on}"
        if late < 0:
            return f"{text}, {-late} day{'s' if late != -1 else ''} before the phase date {on}"
        return f"{text}, on the phase date {on}"


def project(chart: Burndown, *, launch_id: int, rollout_id: int) -> Projection:
    """The forecast a burndown makes toward its gate."""
    return Projection(
        launch_id=launch_id,
        rollout_id=rollout_id,
        region=chart.region,
        phase=chart.phase,
        phase_at=chart.gate_at,
        open_blocking=chart.open_now,
        rate_per_day=chart.rate_per_day,
        projected_at=chart.projected_zero_at if chart.open_now > 0 else None,
    )
