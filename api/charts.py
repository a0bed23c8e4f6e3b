"""Geometry for the server-drawn burndown SVG: the template only places what this computes, so
the picture needs no JavaScript and the numbers it shows are the ones the table beside it lists."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.reporting.burndown import Burndown

WIDTH = 560
HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 12, 28  # room for the axis labels


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class BurndownChart:
    width: int
    height: int
    actual: str  # SVG polyline points of the step curve
    projection: str | None  # dashed line from now to the gate date (or to zero)
    gate_x: float | None
    now_x: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    baseline_y: float
    plot_left: float
    plot_right: float
    plot_top: float


def burndown_chart(data: Burndown) -> BurndownChart:
    start = data.points[0].at
    end = max(data.now, data.gate_at or data.now, start + timedelta(days=1))
    if data.projected_zero_at is not None and data.gate_at is None:
        end = max(end, data.projected_zero_at)
    top_value = max(max(point.open for point in data.points), 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    span = (end - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return round(LEFT + plot_w * (at - start).total_seconds() / span, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - value / top_value), 1)

    steps: list[str] = []
    previous = None
    for point in data.points:
        if previous is not None:
            steps.append(f"{x(point.at)},{y(previous)}")
        steps.append(f"{x(point.at)},{y(point.open)}")
        previous = point.open
    projection = None
    if data.open_now > 0 and data.rate_per_day > 0:
        target = data.gate_at if data.gate_at is not None and data.gate_at > data.now else data.projected_zero_at
        if target is not None:
            days = (target - data.now) / timedelta(days=1)
            left = max(0.0, data.open_now - data.rate_per_day * days)
            projection = f"{x(data.now)},{y(data.open_now)} {x(target)},{y(left)}"
    elif data.gate_at is not None and data.gate_at > data.now:
        projection = f"{x(data.now)},{y(data.open_now)} {x(data.gate_at)},{y(data.open_now)}"
    # Labels closer than ~70 px would print over each other: keep the later, more telling one.
    x_ticks = [Tick(x(start), HEIGHT - 8, f"{start:%b %d}"), Tick(x(data.now), HEIGHT - 8, "today")]
    if data.gate_at is not None:
        x_ticks.append(Tick(x(data.gate_at), HEIGHT - 8, f"gate {data.gate_at:%b %d}"))
    x_ticks = [
        tick for index, tick in enumerate(x_ticks) if all(later.x - tick.x >= 70 for later in x_ticks[index + 1 :])
    ]
    y_ticks = (Tick(LEFT - 6, y(top_value) + 4, str(top_value)), Tick(LEFT - 6, y(0) + 4, "0"))
    return BurndownChart(
        width=WIDTH,
        height=HEIGHT,
        actual=" ".join(steps),
        projection=projection,
        gate_x=x(data.gate_at) if data.gate_at is not None else None,
        now_x=x(data.now),
        x_ticks=tuple(x_ticks),
        y_ticks=y_ticks,
        baseline_y=y(0),
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
    )
