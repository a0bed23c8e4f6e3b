"""Planning answers: a launch's timeline and the portfolio's, the GTM load and one team-week's
items, collisions, and what a dry run of a create or a reschedule would collide with. Built from
the core's read models (``orchestrator.planning``) by the ``of`` functions here, field by field."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from orchestrator.core.enums import ItemStatus, LaunchStatus, Phase, RolloutState, WaveMode
from orchestrator.planning.collisions import Collision, CollisionKind
from orchestrator.planning.conflicts import CollisionReport, ConflictPreview
from orchestrator.planning.load import LoadView, TeamWeek
from orchestrator.planning.reads import Freeze
from orchestrator.planning.timeline import Axis, LaunchLane, LaunchTimeline, PortfolioTimeline


class FreezeOut(BaseModel):
    start: dt.date
    end: dt.date = Field(description="Included.")
    reason: str

    @classmethod
    def of(cls, freeze: Freeze) -> "FreezeOut":
        return cls(start=freeze.start, end=freeze.end, reason=freeze.reason)


class DateChangeOut(BaseModel):
    old_at: dt.datetime
    new_at: dt.datetime
    old_day: dt.date = Field(description="The old date's day in the region's timezone.")
    new_day: dt.date = Field(description="The new date's day in the region's timezone.")
    actor: str
    reason: str
    changed_at: dt.datetime


class PhaseMarkOut(BaseModel):
    phase: Phase
    baseline_at: dt.datetime = Field(description="The first plan.")
    current_at: dt.datetime = Field(description="The plan now.")
    baseline_day: dt.date = Field(description="The baseline's day in the region's timezone.")
    current_day: dt.date = Field(description="The current date's day in the region's timezone.")
    slip_days: int = Field(description="Days from the baseline's day to the current one (negative: pulled in).")
    changes: list[DateChangeOut] = Field(description="Every reschedule, oldest first (launch timeline only).")
    conflicts: list[str] = Field(description="The collisions this phase date is part of, in sentences.")


class RegionLaneOut(BaseModel):
    region: str
    name: str
    timezone: str
    wave: int = Field(description="Wave order: 1 goes first (a parallel launch has every region in wave 1).")
    state: RolloutState
    phase: Phase | None
    skipped_phases: list[Phase]
    window: str = Field(description='The rollout window in words, e.g. "Mon-Fri 09:00-17:00 local".')
    holiday_countries: list[str]
    freezes: list[FreezeOut]
    phases: list[PhaseMarkOut]


class LaunchLaneOut(BaseModel):
    slug: str
    name: str
    tier: int
    status: LaunchStatus
    wave_mode: WaveMode
    worst_slip_days: int
    regions: list[RegionLaneOut]

    @classmethod
    def of(cls, lane: LaunchLane) -> "LaunchLaneOut":
        regions = [
            RegionLaneOut(
                region=region.region,
                name=region.name,
                timezone=region.timezone,
                wave=region.wave,
                state=region.state,
                phase=region.phase,
                skipped_phases=list(region.skipped),
                window=region.window,
                holiday_countries=list(region.holiday_countries),
                freezes=[FreezeOut.of(freeze) for freeze in region.freezes],
                phases=[
                    PhaseMarkOut(
                        phase=mark.phase,
                        baseline_at=mark.baseline_at,
                        current_at=mark.current_at,
                        baseline_day=mark.baseline_day,
                        current_day=mark.current_day,
                        slip_days=mark.slip_days,
                        changes=[
                            DateChangeOut(**vars(moved.change), old_day=moved.old_day, new_day=moved.new_day)
                            for moved in mark.changes
                        ],
                        conflicts=list(mark.conflicts),
                    )
                    for mark in region.marks
                ],
            )
            for region in lane.regions
        ]
        return cls(
            slug=lane.slug,
            name=lane.name,
            tier=lane.tier,
            status=lane.status,
            wave_mode=lane.wave_mode,
            worst_slip_days=lane.worst_slip,
            regions=regions,
        )


class HolidayOut(BaseModel):
    date: dt.date
    country: str = Field(description="As the region lists it: DE, or CA-QC.")
    name: str


class CollidingOut(BaseModel):
    launch: str
    name: str
    tier: int
    region: str
    phase: Phase
    at: dt.datetime


class CollisionOut(BaseModel):
    kind: CollisionKind = Field(description="overlap (launches within days), freeze, or holiday.")
    region: str
    phase: Phase
    date: dt.date = Field(
        description="The phase date's day in the region's timezone, or an overlap's first such day still ahead."
    )
    launches: list[CollidingOut]
    sentence: str
    freeze: FreezeOut | None
    holidays: list[HolidayOut]

    @classmethod
    def of(cls, collision: Collision) -> "CollisionOut":
        return cls(
            kind=collision.kind,
            region=collision.region,
            phase=collision.phase,
            date=collision.day,
            launches=[
                CollidingOut(
                    launch=entry.slug,
                    name=entry.name,
                    tier=entry.tier,
                    region=entry.region,
                    phase=entry.phase,
                    at=entry.at,
                )
                for entry in collision.entries
            ],
            sentence=collision.sentence,
            freeze=FreezeOut.of(collision.freeze) if collision.freeze is not None else None,
            holidays=[HolidayOut(date=h.day, country=h.country, name=h.name) for h in collision.holidays],
        )


class AxisOut(BaseModel):
    today: dt.date
    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, axis: Axis) -> "AxisOut":
        return cls(today=axis.today, start=axis.start, end=axis.end)


class TimelineOut(BaseModel):
    generated_at: dt.datetime
    axis: AxisOut
    launch: LaunchLaneOut
    collisions: list[CollisionOut] = Field(description="The collisions this launch is part of, soonest first.")

    @classmethod
    def of(cls, timeline: LaunchTimeline) -> "TimelineOut":
        return cls(
            generated_at=timeline.generated_at,
            axis=AxisOut.of(timeline.axis),
            launch=LaunchLaneOut.of(timeline.lane),
            collisions=[CollisionOut.of(collision) for collision in timeline.collisions],
        )


class PortfolioTimelineOut(BaseModel):
    generated_at: dt.datetime
    axis: AxisOut
    count: int
    launches: list[LaunchLaneOut] = Field(description="Every active launch, by slug, on the one axis.")

    @classmethod
    def of(cls, timeline: PortfolioTimeline) -> "PortfolioTimelineOut":
        return cls(
            generated_at=timeline.generated_at,
            axis=AxisOut.of(timeline.axis),
            count=timeline.total,
            launches=[LaunchLaneOut.of(lane) for lane in timeline.lanes],
        )


class CollisionsOut(BaseModel):
    today: dt.date
    window_days: int = Field(
        description="Launches closer than this many days collide (LAUNCHDECK_COLLISION_WINDOW_DAYS)."
    )
    counts: dict[CollisionKind, int]
    data: list[CollisionOut]

    @classmethod
    def of(cls, report: CollisionReport) -> "CollisionsOut":
        return cls(
            today=report.today,
            window_days=report.window_days,
            counts={kind: report.count(kind) for kind in CollisionKind},
            data=[CollisionOut.of(collision) for collision in report.collisions],
        )


class ConflictPreviewOut(BaseModel):
    """The answer of a dry run (``?dry_run=true``): nothing was saved."""

    dry_run: Literal[True] = True
    subject: str
    summary: str
    window_days: int
    conflicts: list[CollisionOut] = Field(description="The collisions the change would bring or keep.")
    resolved: list[CollisionOut] = Field(description="Today's collisions the change would end (a reschedule).")

    @classmethod
    def of(cls, preview: ConflictPreview) -> "ConflictPreviewOut":
        return cls(
            subject=preview.subject,
            summary=preview.summary,
            window_days=preview.window_days,
            conflicts=[CollisionOut.of(collision) for collision in preview.conflicts],
            resolved=[CollisionOut.of(collision) for collision in preview.resolved],
        )


class LoadCellOut(BaseModel):
    week: dt.date = Field(description="Its Monday (weeks run Monday to Sunday, UTC).")
    items: int
    capacity: int
    overloaded: bool


class TeamLoadOut(BaseModel):
    team: str
    name: str
    capacity: int
    capacity_from: Literal["team", "default"]
    overdue: int = Field(description="Open items due before this week.")
    weeks: list[LoadCellOut]


class OverloadOut(BaseModel):
    team: str
    week: dt.date
    items: int
    capacity: int


class LoadOut(BaseModel):
    generated_at: dt.datetime
    weeks: list[dt.date]
    default_capacity: int
    teams: list[TeamLoadOut]
    overloaded: list[OverloadOut] = Field(description="Every team-week over capacity, by week.")

    @classmethod
    def of(cls, view: LoadView) -> "LoadOut":
        teams = [
            TeamLoadOut(
                team=team.team,
                name=team.name,
                capacity=team.capacity,
                capacity_from="team" if team.capacity_set else "default",
                overdue=team.overdue,
                weeks=[
                    LoadCellOut(week=c.week, items=c.items, capacity=c.capacity, overloaded=c.over) for c in team.cells
                ],
            )
            for team in view.teams
        ]
        return cls(
            generated_at=view.generated_at,
            weeks=list(view.weeks),
            default_capacity=view.default_capacity,
            teams=teams,
            overloaded=[
                OverloadOut(team=t.team, week=c.week, items=c.items, capacity=c.capacity) for t, c in view.overloaded
            ],
        )


class LoadItemOut(BaseModel):
    id: int
    launch: str
    launch_name: str
    region: str
    phase: Phase
    key: str
    title: str
    due_at: dt.datetime
    status: ItemStatus
    blocking: bool
    assignee: str | None


class TeamWeekOut(BaseModel):
    team: str
    name: str
    capacity: int
    week: dt.date | None = Field(description="The week's Monday; null: the open items due before this week.")
    total: int
    overloaded: bool
    items: list[LoadItemOut] = Field(description="Soonest due first; at most 500 (total says how many there are).")

    @classmethod
    def of(cls, found: TeamWeek) -> "TeamWeekOut":
        return cls(
            team=found.team,
            name=found.name,
            capacity=found.capacity,
            week=found.week,
            total=found.total,
            overloaded=found.over,
            items=[LoadItemOut(**vars(item)) for item in found.items],
        )
