"""What a launch about to be created would get, before anything is written: item counts per team x
region x phase, the first due dates, what each flag adds, and who each go/no-go gate would ask.

The web console's "Preview" shows this; it plans with the same functions creation uses
(``planning.plan_for_spec``, ``approvers.default_approvers``), so the preview cannot disagree with
what "Create" then makes."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from checklists.approvers import default_approvers
from checklists.catalog import RegionInfo
from checklists.loader import Library
from checklists.planning import plan_for_spec
from orchestrator.core.clock import due_at
from orchestrator.core.enums import GateKind, Phase
from orchestrator.launches.spec import ItemSpec, LaunchSpec, gate_kinds_for

FIRST_DUE_SHOWN = 10


@dataclass(frozen=True)
class CountRow:
    team: str
    region: str
    phase: Phase
    items: int
    blocking: int


@dataclass(frozen=True)
class DueRow:
    due_at: datetime
    region: str
    phase: Phase
    team: str
    title: str


@dataclass(frozen=True)
class GateApprovers:
    phase: Phase
    regions: tuple[str, ...]
    approvers: tuple[str, ...]
    defaulted: bool  # from the templates (the launch named nobody for this phase)


@dataclass(frozen=True)
class LaunchPreview:
    total: int
    counts: tuple[CountRow, ...]
    first_due: tuple[DueRow, ...]
    flag_adds: dict[str, int]  # flag -> items it adds to this launch
    gates: tuple[GateApprovers, ...]
    template_version: str


def preview_launch(
    session: Session, *, spec: LaunchSpec, library: Library, regions: Mapping[str, RegionInfo]
) -> LaunchPreview:
    """The preview of ``spec`` (regions and flags already known to be valid; an unknown region is
    InvalidInput from ``plan_for_spec``)."""
    items = plan_for_spec(library, spec=spec, regions=regions)
    order = {phase: index for index, phase in enumerate(Phase.ordered())}
    tally = Counter((item.owner_team, item.region, item.phase) for item in items)
    blocking = Counter((item.owner_team, item.region, item.phase) for item in items if item.blocking)
    counts = tuple(
        CountRow(team, region, phase, n, blocking[(team, region, phase)])
        for (team, region, phase), n in sorted(tally.items(), key=lambda kv: (kv[0][0], kv[0][1], order[kv[0][2]]))
    )
    flag_adds = {
        flag: len(items) - len(plan_for_spec(library, spec=_without(spec, flag), regions=regions))
        for flag in spec.flags
    }
    return LaunchPreview(
        total=len(items),
        counts=counts,
        first_due=_first_due(items, spec=spec, regions=regions),
        flag_adds=flag_adds,
        gates=_gates(session, spec=spec, library=library),
        template_version=library.version,
    )


def _without(spec: LaunchSpec, flag: str) -> LaunchSpec:
    return spec.model_copy(update={"flags": [other for other in spec.flags if other != flag]})


def _first_due(items: list[ItemSpec], *, spec: LaunchSpec, regions: Mapping[str, RegionInfo]) -> tuple[DueRow, ...]:
    dates = {plan.region: plan.dates for plan in spec.regions}
    rows = [
        DueRow(
            due_at(
                phase_at=dates[item.region][item.phase],
                offset_days=item.due_offset_days,
                timezone=regions[item.region].timezone,
            ),
            item.region,
            item.phase,
            item.owner_team,
            item.title,
        )
        for item in items
        if item.due_offset_days is not None
    ]
    return tuple(sorted(rows, key=lambda row: (row.due_at, row.region, row.title))[:FIRST_DUE_SHOWN])


def _gates(session: Session, *, spec: LaunchSpec, library: Library) -> tuple[GateApprovers, ...]:
    """Per go/no-go phase, the regions voting on it and who would be asked."""
    defaults = default_approvers(session, spec=spec, library=library)
    gates = []
    for phase in Phase.ordered():
        voting = tuple(
            plan.region
            for plan in spec.regions
            if phase in plan.dates and GateKind.APPROVAL in gate_kinds_for(tier=spec.tier, phase=phase)
        )
        if voting:
            named = spec.approvers_of(phase)
            chosen = named or defaults.get(phase, [])
            gates.append(GateApprovers(phase, voting, tuple(chosen), defaulted=not named))
    return tuple(gates)
