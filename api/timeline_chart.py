"""Geometry for the server-drawn timeline SVGs, as ``charts.py`` is for the burndown: the
templates only place what this computes (no JavaScript), and the dates they show are the ones the
table beside lists.

One lane per region (a launch's timeline) or one per launch (the portfolio's summary rows), on an
``Axis`` every chart of a page shares, so the portfolio's launches line up under one date scale.
In a lane: the region's freezes as shaded bands, each phase's baseline (hollow) and current date
(filled), a slip as an arrow from the one to the other (late: red, pulled in: green), a ring
round a date that collides with something, and today as a dashed line across every lane.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from orchestrator.core.enums import Phase, WaveMode
from orchestrator.planning.collisions import PHASE_WORDS
from orchestrator.planning.timeline import Axis, LaunchLane, RegionLane

WIDTH = 960
LABEL = 118  # room for the lane labels on the left
RIGHT = 14
TOP = 22  # room for the month labels
LANE = 44
BOTTOM = 16  # room for the today label under the lanes
SHORT = {Phase.INTERNAL: "Int", Phase.PRIVATE_BETA: "PB", Phase.PUBLIC_BETA: "Pub", Phase.GA: "GA"}


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    title: str


@dataclass(frozen=True)
class Marker:
    phase: str  # its value, for the CSS class
    label: str
    x: float
    baseline_x: float
    slip: str  # "late", "early" or ""
    conflict: bool
    title: str
    label_y: float  # above the lane for internal and public beta, below it for the others: no overprint


@dataclass(frozen=True)
class Span:
    """A phase across a launch's regions (the portfolio's summary row): earliest to latest date."""

    phase: str
    label: str
    x: float
    width: float
    slipped: bool
    conflict: bool
    title: str


@dataclass(frozen=True)
class Lane:
    y: float  # the lane's centre line
    label: str
    title: str
    bands: tuple[Band, ...] = ()
    markers: tuple[Marker, ...] = ()
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    top: float
    bottom: float
    ticks: tuple[Tick, ...]
    today_x: float | None
    lanes: tuple[Lane, ...]
    labelled: bool  # month labels above the lanes (the portfolio's rows share one header instead)

    @property
    def slipped(self) -> bool:
        """Any date drawn away from its baseline (the chart then needs its arrowheads)."""
        return any(marker.slip for lane in self.lanes for marker in lane.markers)


def _x(axis: Axis, at: datetime | date) -> float:
    fraction = min(max(axis.fraction(at), 0.0), 1.0)
    return round(LABEL + (WIDTH - LABEL - RIGHT) * fraction, 1)


@lru_cache(maxsize=8)
def _ticks(axis: Axis) -> tuple[Tick, ...]:
    """The first of each month on the axis, labelled while they are at least 48 px apart."""
    ticks: list[Tick] = []
    month = date(axis.start.year, axis.start.month, 1)
    while month <= axis.end:
        if month >= axis.start:
            x = _x(axis, month)
            if not ticks or x - ticks[-1].x >= 48:
                ticks.append(Tick(x, f"{month:%b %Y}" if month.month == 1 or not ticks else f"{month:%b}"))
        month = (month + timedelta(days=32)).replace(day=1)
    return tuple(ticks)


def _top(labelled: bool) -> float:
    return TOP if labelled else 2


def _chart(axis: Axis, lanes: list[Lane], *, labelled: bool) -> Chart:
    top = _top(labelled)
    bottom = top + LANE * max(len(lanes), 1)
    today_x = _x(axis, axis.today) if axis.start <= axis.today <= axis.end else None
    height = int(bottom + (BOTTOM if labelled else 2))
    return Chart(WIDTH, height, LABEL, WIDTH - RIGHT, top, bottom, _ticks(axis), today_x, tuple(lanes), labelled)


def _region_lane(axis: Axis, region: RegionLane, y: float, *, sequential: bool, sentences: bool) -> Lane:
    order = Phase.ordered()
    bands = tuple(
        Band(
            _x(axis, freeze.start),
            max(round(_x(axis, freeze.end + timedelta(days=1)) - _x(axis, freeze.start), 1), 1.0),
            f"{region.region} {freeze.label}",
        )
        for freeze in region.freezes
        if freeze.end >= axis.start and freeze.start <= axis.end
    )
    markers = []
    for mark in region.marks:
        slip = "late" if mark.slip_days > 0 else ("early" if mark.slip_days < 0 else "")
        title = f"{region.region} {PHASE_WORDS[mark.phase]}: {mark.current_day:%Y-%m-%d}"
        if mark.slip_days:
            title += f" (baseline {mark.baseline_day:%Y-%m-%d}, {mark.slip_days:+d} days)"
        if mark.conflicts and sentences:
            title += "; " + "; ".join(mark.conflicts)
        elif mark.conflicts:
            title += f"; {len(mark.conflicts)} collision{'s' if len(mark.conflicts) != 1 else ''}"
        markers.append(
            Marker(
                phase=mark.phase.value,
                label=SHORT[mark.phase],
                x=_x(axis, mark.current_at),
                baseline_x=_x(axis, mark.baseline_at),
                slip=slip,
                conflict=bool(mark.conflicts),
                title=title,
                label_y=y - 11 if order.index(mark.phase) % 2 == 0 else y + 20,
            )
        )
    label = f"{region.wave}. {region.region}" if sequential else region.region
    title = f"{region.name}, wave {region.wave}; rollout window {region.window}"
    return Lane(y=y, label=label, title=title, bands=bands, markers=tuple(markers))


def launch_chart(lane: LaunchLane, axis: Axis, *, labelled: bool = True) -> Chart:
    """A launch's regions, one lane each in wave order (then the order they are given in). A
    date's tooltip says its collisions in full on the launch's own chart (``labelled``), and only
    how many there are in the portfolio's, which has fifty launches to carry."""
    regions = sorted(lane.regions, key=lambda region: region.wave)
    top = _top(labelled)
    sequential = lane.wave_mode == WaveMode.SEQUENTIAL
    lanes = [
        _region_lane(axis, region, top + LANE * (index + 0.5), sequential=sequential, sentences=labelled)
        for index, region in enumerate(regions)
    ]
    return _chart(axis, lanes, labelled=labelled)


def summary_chart(lane: LaunchLane, axis: Axis, *, labelled: bool = False) -> Chart:
    """A launch in one lane: each phase from its earliest to its latest region date."""
    conflicted = {mark.phase for mark in lane.marks if mark.conflicts}
    spans = []
    for phase, first, last, slip in lane.spans():
        x = _x(axis, first.current_at)
        title = f"{lane.slug} {PHASE_WORDS[phase]}: {first.current_day:%Y-%m-%d}"
        if last.current_day != first.current_day:
            title += f" to {last.current_day:%Y-%m-%d}"
        if slip > 0:
            title += f" (slipped up to {slip} days)"
        spans.append(
            Span(
                phase=phase.value,
                label=SHORT[phase],
                x=x,
                width=max(round(_x(axis, last.current_at) - x, 1), 0.0),
                slipped=slip > 0,
                conflict=phase in conflicted,
                title=title,
            )
        )
    label = lane.slug if len(lane.slug) <= 16 else lane.slug[:15] + "…"
    lanes = [Lane(y=_top(labelled) + LANE / 2, label=label, title=lane.name, spans=tuple(spans))]
    return _chart(axis, lanes, labelled=labelled)


def axis_chart(axis: Axis) -> Chart:
    """Only the month labels and today: the header above the portfolio's rows."""
    return Chart(WIDTH, TOP + 2, LABEL, WIDTH - RIGHT, TOP, TOP + 2, _ticks(axis), _x(axis, axis.today), (), True)
