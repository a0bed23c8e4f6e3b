"""Open blocking items of one gate over time, rebuilt from the audit ledger, with a projection to
the gate date from the recent burn rate.

Items keep no history of their own; the ledger does (every status change records before and
after), so the curve is walked backwards from today's count: an item closed at t means one more
was open just before t. Pure: the caller reads the events, this only counts.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.core.enums import Phase

BURN_WINDOW = timedelta(days=14)  # "recent" burn rate: the last two weeks


@dataclass(frozen=True)
class StatusChange:
    """One item leaving the open set (``closed``) or coming back to it (reopened)."""

    at: datetime
    closed: bool


@dataclass(frozen=True)
class BurnPoint:
    at: datetime
    open: int


@dataclass(frozen=True)
class Burndown:
    region: str
    phase: Phase
    gate_at: datetime | None
    now: datetime
    points: tuple[BurnPoint, ...]  # oldest first, ending with (now, open_now)
    rate_per_day: float  # items closed per day over the recent window (net of reopenings)
    projected_at_gate: int | None  # open items left at the gate date at that rate
    projected_zero_at: datetime | None  # when the open count reaches zero at that rate

    @property
    def open_now(self) -> int:
        return self.points[-1].open

    @property
    def summary(self) -> str:
        """The chart in one sentence, for screen readers and for anyone who skips the picture."""
        text = f"{self.open_now} open blocking item{'s' if self.open_now != 1 else ''} now"
        if self.open_now == 0:
            return text + "; nothing left to burn down"
        if self.rate_per_day <= 0:
            text += "; none closed in the last two weeks, so no projection"
        else:
            text += f"; closing {self.rate_per_day:.1f} per day over the last two weeks"
            if self.projected_zero_at is not None:
                text += f", zero by {self.projected_zero_at:%Y-%m-%d}"
        if self.gate_at is not None and self.projected_at_gate is not None:
            text += f"; projected {self.projected_at_gate} open at the gate on {self.gate_at:%Y-%m-%d}"
        return text


def burndown(
    *,
    region: str,
    phase: Phase,
    open_now: int,
    changes: Sequence[StatusChange],
    start: datetime,
    now: datetime,
    gate_at: datetime | None,
    window: timedelta = BURN_WINDOW,
) -> Burndown:
    """The step curve from ``start`` to ``now`` and its straight-line projection."""
    ordered = sorted((change for change in changes if start <= change.at <= now), key=lambda change: change.at)
    after_each: list[int] = []
    count = open_now
    for change in reversed(ordered):
        after_each.append(count)
        count += 1 if change.closed else -1
    after_each.reverse()
    points = [BurnPoint(start, max(count, 0))]
    points.extend(BurnPoint(change.at, max(after, 0)) for change, after in zip(ordered, after_each, strict=True))
    points.append(BurnPoint(now, open_now))

    since = max(now - window, start)
    days = (now - since) / timedelta(days=1)
    open_then = _open_at(points, since)
    rate = (open_then - open_now) / days if days > 0 else 0.0
    projected_at_gate = None
    projected_zero_at = None
    if rate > 0 and open_now > 0:
        projected_zero_at = now + timedelta(days=open_now / rate)
    if gate_at is not None and gate_at >= now:
        remaining_days = (gate_at - now) / timedelta(days=1)
        projected_at_gate = max(0, round(open_now - max(rate, 0.0) * remaining_days))
    return Burndown(
        region=region,
        phase=phase,
        gate_at=gate_at,
        now=now,
        points=tuple(points),
        rate_per_day=max(rate, 0.0),
        projected_at_gate=projected_at_gate,
        projected_zero_at=projected_zero_at,
    )


def _open_at(points: Sequence[BurnPoint], at: datetime) -> int:
    """The count in force at ``at``: the last point at or before it."""
    value = points[0].open
    for point in points:
        if point.at > at:
            break
        value = point.open
    return value
